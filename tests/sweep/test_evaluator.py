"""``EvaluatorCore`` without Ray: real small bars, metrics equal to the public API's, errors as text.

Every trial outcome is ``(metrics, None)`` or ``(None, error text)``: an error is never a score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sweep_support import write_directive

import tradescan
from tradescan import data
from tradescan.preflight import prepare
from tradescan.sweep.evaluator import EvaluatorCore, bars_payload, error_text
from tradescan.sweep.settings import EvaluatorSettings

S1_PARAMS: list[dict[str, Any]] = [{"ema_fast": 12, "ema_slow": 60}, {"ema_fast": 30, "ema_slow": 120, "adx_th": 15.0}]


def _core(folder: Path, data_dir: Path, **fields: Any) -> EvaluatorCore:
    plan = prepare(write_directive(folder, **fields), data_dir=data_dir)
    core = EvaluatorCore(EvaluatorSettings.from_plan(plan))
    assert core.load_symbol("EURUSD", bars_payload(data.load("EURUSD", "H1", data_dir=data_dir), "EURUSD")) == 3_000
    return core


def _plugin_fields(plugin_dir: Path, strategy: str, space: str) -> dict[str, Any]:
    return {"strategy": strategy, "strategy_paths": [str(plugin_dir / "user_strategies")],
            "search": {"space": str(plugin_dir / space), "sampler": "random", "trials": 4}}


def test_a_batch_scores_like_the_public_backtest_and_an_error_stays_text(tmp_path: Path, small_data_dir: Path) -> None:
    core = _core(tmp_path, small_data_dir)
    outcomes = core.evaluate_batch("EURUSD", [S1_PARAMS[0], {"not_a_param": 3}, S1_PARAMS[1]])
    assert len(outcomes) == 3
    bars = data.load("EURUSD", "H1", data_dir=small_data_dir)
    for (metrics, error, returns), params in zip((outcomes[0], outcomes[2]), S1_PARAMS, strict=True):
        expected = tradescan.backtest(bars, "S1_TREND_EMA_ATR_ADX", params, symbol="EURUSD", scenarios=("B",))
        assert error is None
        np.testing.assert_equal(metrics, expected.metrics["B"])  # NaN-aware, exact
        assert metrics is not None and metrics["trades"] > 0
        assert returns is not None and returns.dtype == np.float32 and len(returns) == len(expected.equity) // 24
    metrics, error, returns = outcomes[1]
    assert metrics is None and returns is None
    assert error is not None and error.startswith("UnknownNameError: ") and "'not_a_param'" in error


def test_a_raising_strategy_gives_its_error_and_where_it_was_raised(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    core = _core(tmp_path, small_data_dir, **_plugin_fields(plugin_dir, "TEST_FLAKY", "flaky.yaml"))
    (good, good_error, _), (bad, bad_error, _) = core.evaluate_batch("EURUSD", [{"fast": 4, "slow": 50},
                                                                          {"fast": 3, "slow": 50}])
    assert good is not None and good_error is None
    assert bad is None
    assert bad_error is not None
    assert bad_error.startswith("ValueError: odd fast=3 is not supported (at test_plugins.py:")


def test_error_text_names_the_innermost_frame() -> None:
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError as exc:
        text = error_text(exc)
    assert text.startswith("KeyError: 'missing' (at test_evaluator.py:")
    assert error_text(ValueError("no traceback")) == "ValueError: no traceback"


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("nan_entry", "no usable signal: Signals.entry is NaN at 2,960 of 2,960 bars after the warm-up (first at "
                      "bar 40); entry must be -1, 0 or +1 (NaN only during the 40-bar warm-up)"),
        ("nan_after_warmup", "no usable signal: Signals.entry is NaN at 3 of 2,960 bars after the warm-up (first at "
                             "bar 100); entry must be -1, 0 or +1 (NaN only during the 40-bar warm-up)"),
        ("nan_stops", "no usable signal: the strategy enters at 2,960 bars after the warm-up but "
                      "Signals.stop_distance is NaN (no stop) at every one of them"),
    ],
)
def test_output_with_no_usable_signal_is_an_error(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path, kind: str, error: str
) -> None:
    core = _core(tmp_path, small_data_dir, **_plugin_fields(plugin_dir, "TEST_NO_SIGNAL", "no_signal.yaml"))
    assert core.evaluate_batch("EURUSD", [{"kind": kind}]) == [(None, error, None)]


def test_a_strategy_that_never_trades_or_has_nan_only_in_its_warmup_is_scored(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    core = _core(tmp_path, small_data_dir, **_plugin_fields(plugin_dir, "TEST_NO_SIGNAL", "no_signal.yaml"))
    (ok, _, _), (never, never_error, _), (warmup_nan, _, _) = core.evaluate_batch(
        "EURUSD", [{"kind": "ok"}, {"kind": "never"}, {"kind": "nan_in_warmup"}])
    assert never_error is None and never is not None and never["trades"] == 0
    assert ok is not None and ok["trades"] > 0
    np.testing.assert_equal(warmup_nan, ok)  # NaN during the warm-up reads as "no signal yet"


def test_finalists_carry_every_stage2_scenario_with_frames(tmp_path: Path, small_data_dir: Path) -> None:
    core = _core(tmp_path, small_data_dir)
    [(payload, error)] = core.run_finalists("EURUSD", [S1_PARAMS[0]])
    assert error is None and payload is not None
    bars = data.load("EURUSD", "H1", data_dir=small_data_dir)
    expected = tradescan.backtest(bars, "S1_TREND_EMA_ATR_ADX", S1_PARAMS[0], symbol="EURUSD")
    assert sorted(payload["metrics"]) == ["A", "B", "C"]
    np.testing.assert_equal(payload["metrics"], expected.metrics)
    assert len(payload["trades"]) == len(expected.trades)
    assert list(payload["equity"].columns) == ["A", "B", "C"]
    [(nothing, finalist_error)] = core.run_finalists("EURUSD", [{"ema_fast": "fast"}])
    assert nothing is None and finalist_error is not None and finalist_error.startswith("TradeScanError: ")


def test_finalist_jobs_send_only_the_frames_they_ask_for(tmp_path: Path, small_data_dir: Path) -> None:
    import pandas as pd

    core = _core(tmp_path, small_data_dir)
    [(full, _)] = core.run_finalists_daily("EURUSD", [S1_PARAMS[0]])
    assert full is not None
    (stage1, _), (bare, _) = core.run_finalist_jobs("EURUSD", [
        {"params": S1_PARAMS[0], "trades": "stage1"}, {"params": S1_PARAMS[0], "trades": "none", "equity": "none"}])
    assert stage1 is not None and bare is not None
    scenario = core.settings.stage1_scenario
    assert scenario == "B"
    # the stage-1 scenario's rows of the full frame, exactly; the metrics of every scenario either way
    pd.testing.assert_frame_equal(stage1["trades"], full["trades"][full["trades"]["scenario"] == "B"].reset_index(
        drop=True))
    pd.testing.assert_frame_equal(stage1["equity"], full["equity"])
    assert bare["trades"] is None and bare["equity"] is None
    np.testing.assert_equal(bare["metrics"], full["metrics"])


@pytest.mark.parametrize("target", [{"kind": "permuted", "seed": 11, "keep_bars": 0},
                                    {"kind": "window", "start": 500, "end": 2_500}])
def test_a_search_job_runs_the_whole_tpe_search_on_the_jobs_it_replaces(
    tmp_path: Path, small_data_dir: Path, target: dict[str, Any]
) -> None:
    from tradescan.sweep.guard_search import SearchSpec, run_tpe_search

    core = _core(tmp_path, small_data_dir)
    plan = prepare(write_directive(tmp_path), data_dir=small_data_dir)
    spec = SearchSpec(target, 10, 3, 4, 10, plan.directive.stage1.objective, 0.0, plan.space)
    [outcome] = core.run_jobs("EURUSD", [{"kind": "search", "spec": spec, "params": {}}])
    # the same search driven from outside, each trial one job of the target's kind (the driver's old way)
    (tmp_path / "fresh").mkdir()
    fresh = _core(tmp_path / "fresh", small_data_dir)
    reference = run_tpe_search(spec, lambda params_list: fresh.run_jobs(
        "EURUSD", [{**target, "params": params} for params in params_list]))
    assert outcome.n_trials == 10 and outcome.best is not None
    assert outcome.best == reference.best


def test_a_search_job_on_the_real_bars_is_refused_by_name(tmp_path: Path, small_data_dir: Path) -> None:
    from tradescan.sweep.guard_search import SearchSpec

    core = _core(tmp_path, small_data_dir)
    plan = prepare(write_directive(tmp_path), data_dir=small_data_dir)
    spec = SearchSpec({"kind": "full"}, 4, 3, 4, 10, plan.directive.stage1.objective, 0.0, plan.space)
    with pytest.raises(ValueError, match="not 'full'"):
        core.run_jobs("EURUSD", [{"kind": "search", "spec": spec, "params": {}}])
