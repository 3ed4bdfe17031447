"""tradescan.report.frames: derived frames on small hand-made inputs, exact values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradescan.report import frames


def _equity(values: dict[str, list[float]], times: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": "EURUSD", "rank": 1, "time": pd.DatetimeIndex(times, tz="UTC"), **values})


def test_monthly_returns_compound_month_ends_against_the_initial_capital() -> None:
    equity = _equity({"B": [100.0, 110.0, 99.0, 108.9]},
                     ["2020-01-01 00:00", "2020-01-31 23:00", "2020-02-15 00:00", "2021-01-05 00:00"])
    table = frames.monthly_returns(equity, "B")
    assert list(table.index) == ["2020", "2021"]
    assert list(table.columns) == [*frames.MONTH_LABELS, "Year"]
    assert table.loc["2020", "Jan"] == pytest.approx(10.0)
    assert table.loc["2020", "Feb"] == pytest.approx(-10.0)
    assert table.loc["2020", "Year"] == pytest.approx(-1.0)  # 1.1 * 0.9 - 1
    assert table.loc["2021", "Jan"] == pytest.approx(10.0)
    assert np.isnan(table.loc["2020", "Mar"]) and np.isnan(table.loc["2021", "Feb"])


def test_drawdown_is_percent_below_the_running_peak_and_daily_keeps_the_deepest() -> None:
    equity = _equity({"A": [100.0, 120.0, 90.0, 108.0, 130.0]},
                     ["2020-01-01 10:00", "2020-01-01 11:00", "2020-01-01 12:00", "2020-01-02 10:00",
                      "2020-01-02 11:00"])
    drawdown = frames.drawdown_pct(equity, ["A"])["A"].to_numpy()
    np.testing.assert_allclose(drawdown, [0.0, 0.0, -25.0, -10.0, 0.0])
    daily = frames.daily_drawdown_pct(equity, ["A"])
    np.testing.assert_allclose(daily["A"].to_numpy(), [-25.0, -10.0])
    np.testing.assert_allclose(frames.daily_equity(equity, ["A"])["A"].to_numpy(), [90.0, 130.0])


def test_pair_grid_takes_mean_and_max_per_cell() -> None:
    trials = pd.DataFrame({"value": [1.0, 3.0, 5.0, 2.0], "param_a": [1, 1, 2, 2], "param_b": [10, 10, 10, 20]})
    mean = frames.pair_grid(trials, "a", "b", "mean")
    high = frames.pair_grid(trials, "a", "b", "max")
    assert list(mean.columns) == [1, 2] and list(mean.index) == [10, 20]
    assert mean.loc[10, 1] == 2.0 and high.loc[10, 1] == 3.0
    assert mean.loc[10, 2] == 5.0 and mean.loc[20, 2] == 2.0
    assert np.isnan(mean.loc[20, 1])


def test_grid_levels_bin_a_continuous_parameter_into_equal_bins() -> None:
    values = pd.Series(np.linspace(0.0, 10.0, 101))
    levels = frames.grid_levels(values)
    assert levels.nunique() == frames.MAX_GRID_LEVELS
    assert levels.iloc[0] == pytest.approx(0.5) and levels.iloc[-1] == pytest.approx(9.5)
    few = pd.Series([3, 5, 3, 7])
    assert frames.grid_levels(few).tolist() == [3, 5, 3, 7]
    labels = pd.Series([f"s{i}" for i in range(20)], dtype="str")  # categorical: never binned
    assert frames.grid_levels(labels).tolist() == labels.tolist()


def test_history_keeps_the_best_value_so_far_and_only_complete_finite_trials_count() -> None:
    trials = pd.DataFrame({"symbol": ["X"] * 5, "trial": [0, 1, 2, 3, 4],
                           "state": ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE", "COMPLETE"],
                           "value": [1.0, np.nan, 0.5, 2.0, -np.inf], "param_p": [1, 2, 3, 4, 5]})
    complete = frames.complete_trials(trials, "X")
    assert complete["trial"].tolist() == [0, 2, 3]
    assert frames.history(complete)["best"].tolist() == [1.0, 1.0, 2.0]
    assert frames.varying_params(complete) == ["p"]


@pytest.mark.parametrize(("value", "text"), [
    (1234567, "1,234,567"), (2.0, "2"), (0.012345, "0.0123"), (12.3456, "12.35"), (1234.5, "1,234"),
    (float("inf"), "inf"), (float("nan"), ""), (None, ""), (True, "yes"), ("VOL=MID", "VOL=MID"),
])
def test_format_number(value: object, text: str) -> None:
    assert frames.format_number(value) == text
