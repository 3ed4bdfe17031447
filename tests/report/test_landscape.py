"""tradescan.report.landscape: importances are deterministic and rank the parameter that matters first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradescan.report import landscape


def _trials(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    fast = rng.integers(5, 50, n)
    k_sl = rng.uniform(1.0, 3.0, n)
    use_tp = rng.integers(0, 2, n).astype(bool)
    value = fast / 10.0 + rng.normal(0.0, 0.01, n)  # only ``fast`` matters
    return pd.DataFrame({"trial": np.arange(n), "value": value, "param_fast": fast, "param_k_sl": k_sl,
                         "param_use_tp": use_tp})


def test_importances_rank_the_driving_parameter_first_sum_to_one_and_repeat_exactly() -> None:
    trials = _trials()
    first = landscape.param_importances(trials, ["fast", "k_sl", "use_tp"])
    again = landscape.param_importances(trials.sample(frac=1.0, random_state=3).sort_values("trial"),
                                        ["fast", "k_sl", "use_tp"])
    assert next(iter(first)) == "fast" and first["fast"] > 0.8
    assert abs(sum(first.values()) - 1.0) < 1e-12
    assert first == again


def test_importances_need_enough_trials_and_two_parameters() -> None:
    trials = _trials()
    assert landscape.param_importances(trials.head(landscape.MIN_TRIALS_FOR_IMPORTANCE - 1), ["fast", "k_sl"]) == {}
    assert landscape.param_importances(trials, ["fast"]) == {}
    assert landscape.param_importances(trials.assign(value=1.0), ["fast", "k_sl"]) == {}


def test_distributions_span_the_values_taken() -> None:
    trials = _trials()
    distributions = landscape.distributions_of(trials, ["fast", "k_sl", "use_tp"])
    assert (distributions["fast"].low, distributions["fast"].high) == (int(trials.param_fast.min()),
                                                                        int(trials.param_fast.max()))
    assert distributions["k_sl"].low == trials.param_k_sl.min()
    assert list(distributions["use_tp"].choices) == [False, True]


def test_heatmaps_draw_every_pair_of_the_chosen_parameters_with_mean_and_max() -> None:
    trials = _trials()
    params = landscape.heatmap_params({"k_sl": 0.6, "fast": 0.3, "use_tp": 0.1}, ["fast", "k_sl", "use_tp"])
    assert params == ["k_sl", "fast", "use_tp"]
    figure = landscape.heatmaps_figure(trials, params, "sharpe B")
    assert [trace.name for trace in figure.data] == ["mean", "max"] * 3
    assert [trace.visible for trace in figure.data] == [True, False] * 3
    assert [a.text for a in figure.layout.annotations] == ["fast by k_sl", "use_tp by k_sl", "use_tp by fast"]
