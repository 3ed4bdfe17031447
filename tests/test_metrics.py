"""Metrics (DESIGN §6) against values computed by hand."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest

from tradescan.engine.records import EXIT_SL, EXIT_TP, TRADE_DTYPE
from tradescan.metrics import (
    METRIC_NAMES,
    breakdown,
    compute_metrics,
    day_end_index,
    json_safe_metrics,
    trade_metrics,
)


def _trades(net_pips: list[float], pnl: list[float], r_multiple: list[float], bars_held: list[int]) -> np.ndarray:
    records = np.zeros(len(net_pips), dtype=TRADE_DTYPE)
    records["net_pips"] = net_pips
    records["pnl"] = pnl
    records["r_multiple"] = r_multiple
    records["bars_held"] = bars_held
    records["side"] = 1
    records["exit_reason"] = EXIT_SL
    records["position_id"] = np.arange(len(net_pips))
    records["leg"] = 1
    records["fraction"] = 1.0
    return records


def _hourly(n_bars: int, start: str = "2024-01-01") -> np.ndarray:
    return pd.date_range(start, periods=n_bars, freq="h").to_numpy("datetime64[ns]")


def test_trade_metrics_of_four_trades() -> None:
    trades = _trades([10.0, 5.0, -5.0, -2.5], [100.0, 50.0, -50.0, -25.0], [1.0, 0.5, -0.5, np.nan], [3, 4, 5, 6])
    equity = np.full(36, 1000.0)
    metrics = compute_metrics(trades, equity, np.array([35]), 1000.0, 252, 36)
    assert list(metrics) == list(METRIC_NAMES)
    assert metrics["trades"] == 4.0
    assert metrics["win_rate"] == 0.5
    assert metrics["profit_factor"] == 2.0
    assert metrics["expectancy_pips"] == 1.875
    assert metrics["expectancy_r"] == pytest.approx(1.0 / 3.0, abs=1e-15)
    assert metrics["net_pips"] == 7.5
    assert metrics["net_pnl"] == 75.0
    assert metrics["cvar95_pips"] == -5.0  # ceil(5 % of 4) = 1 worst trade
    assert metrics["max_win_streak"] == 2.0 and metrics["max_loss_streak"] == 2.0
    assert metrics["avg_bars_held"] == 4.5
    assert metrics["exposure"] == 0.5


def test_streaks_break_even_and_cvar_tail_size() -> None:
    net_pips = [1.0, 1.0, 0.0, 1.0, -1.0, -2.0, -3.0, 2.0] + [1.0] * 13  # 21 trades: tail of ceil(1.05) = 2
    metrics = trade_metrics(np.array(net_pips), np.array(net_pips), np.full(21, np.nan), np.ones(21))
    assert metrics["max_win_streak"] == 14.0  # the 2.0 and the thirteen 1.0 at the end
    assert metrics["max_loss_streak"] == 3.0
    assert metrics["cvar95_pips"] == -2.5
    assert math.isnan(metrics["expectancy_r"])


def test_profit_factor_edge_cases_and_no_trades() -> None:
    only_gains = trade_metrics(np.array([3.0]), np.array([30.0]), np.array([1.0]), np.array([2]))
    assert only_gains["profit_factor"] == math.inf
    flat = trade_metrics(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([2]))
    assert flat["profit_factor"] == 0.0 and flat["win_rate"] == 0.0
    empty = compute_metrics(_trades([], [], [], []), np.full(5, 100.0), np.array([4]), 100.0, 252, 5)
    assert all(value == 0.0 for value in empty.values())


def test_sharpe_sortino_over_three_days() -> None:
    # 4 hourly bars per day over 3 days; equity at each day's last bar: 1010, 1000, 1030.
    time = pd.to_datetime(
        ["2024-01-01 20:00", "2024-01-01 23:00", "2024-01-02 00:00", "2024-01-02 23:59",
         "2024-01-03 00:00", "2024-01-03 12:00"]
    ).to_numpy("datetime64[ns]")
    equity = np.array([1005.0, 1010.0, 990.0, 1000.0, 1040.0, 1030.0])
    day_end = day_end_index(time)
    assert day_end.tolist() == [1, 3, 5] and day_end.dtype == np.int64
    metrics = compute_metrics(_trades([], [], [], []), equity, day_end, 1000.0, 252, 6)
    returns = [1010 / 1000 - 1, 1000 / 1010 - 1, 1030 / 1000 - 1]
    expected_sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    downside = math.sqrt((1000 / 1010 - 1) ** 2 / 3)
    assert metrics["sharpe"] == pytest.approx(expected_sharpe, rel=1e-12)
    assert metrics["sortino"] == pytest.approx(statistics.mean(returns) / downside * math.sqrt(252), rel=1e-12)
    assert metrics["total_return"] == pytest.approx(0.03, rel=1e-12)
    # Peak 1010 at bar 1, trough 990 at bar 2, recovered (>= 1010) at bar 4: 3 bars.
    assert metrics["max_drawdown_pct"] == pytest.approx(20 / 1010 * 100, rel=1e-12)
    assert metrics["max_drawdown_bars"] == 3.0


def test_sharpe_is_zero_with_one_day_or_flat_equity() -> None:
    time = _hourly(10)
    for equity in (np.linspace(1000, 1100, 10), np.full(10, 1000.0)):
        metrics = compute_metrics(_trades([], [], [], []), equity, day_end_index(time), 1000.0, 252, 10)
        assert metrics["sharpe"] == 0.0 and metrics["sortino"] == 0.0


def test_drawdown_from_initial_capital_never_recovered() -> None:
    equity = np.array([990.0, 980.0, 985.0])
    metrics = compute_metrics(_trades([], [], [], []), equity, np.array([2]), 1000.0, 252, 3)
    assert metrics["max_drawdown_pct"] == pytest.approx(2.0, rel=1e-12)
    assert metrics["max_drawdown_bars"] == 3.0  # from the start (initial capital) to the last bar


def test_cagr_from_time_span_or_day_count() -> None:
    time = np.array(["2020-01-01T00:00", "2021-01-01T06:00"], dtype="datetime64[ns]")  # 366.25 days
    equity = np.array([1000.0, 1100.0])
    years = 366.25 / 365.25
    with_time = compute_metrics(_trades([], [], [], []), equity, day_end_index(time), 1000.0, 252, 2, time=time)
    assert with_time["cagr"] == pytest.approx(1.1 ** (1 / years) - 1, rel=1e-12)
    without_time = compute_metrics(_trades([], [], [], []), equity, day_end_index(time), 1000.0, 252, 2)
    assert without_time["cagr"] == pytest.approx(1.1 ** (252 / 2) - 1, rel=1e-12)
    ruined = compute_metrics(_trades([], [], [], []), np.array([500.0, -1.0]), np.array([1]), 1000.0, 252, 2)
    assert ruined["cagr"] == -1.0


def test_day_end_index_accepts_pandas_utc_times() -> None:
    times = pd.Series(pd.date_range("2024-03-01 22:00", periods=5, freq="h", tz="UTC"))
    assert day_end_index(times).tolist() == [1, 4]
    assert day_end_index(np.array([], dtype="datetime64[ns]")).tolist() == []


def test_breakdown_groups_without_mixing_scenarios() -> None:
    frame = pd.DataFrame(
        {
            "scenario": ["A", "A", "B", "B"],
            "side": [1, -1, 1, 1],
            "exit_reason": ["TP", "SL", "TP", "TP"],
            "net_pips": [10.0, -5.0, 8.0, 2.0],
            "pnl": [100.0, -50.0, 80.0, 20.0],
            "r_multiple": [2.0, -1.0, 1.6, 0.4],
            "bars_held": [3, 4, 5, 6],
        }
    )
    by_scenario = breakdown(frame, "scenario")
    assert by_scenario.loc["A", "profit_factor"] == 2.0
    assert by_scenario.loc["B", "net_pnl"] == 100.0
    by_reason = breakdown(frame, "exit_reason")
    assert by_reason.index.names == ["scenario", "exit_reason"]
    assert by_reason.loc[("B", "TP"), "trades"] == 2.0
    assert by_reason.loc[("A", "SL"), "win_rate"] == 0.0
    with pytest.raises(KeyError, match="no column 'regime'"):
        breakdown(frame, "regime")
    assert EXIT_TP != EXIT_SL


def test_json_safe_metrics() -> None:
    safe = json_safe_metrics({"profit_factor": math.inf, "x": -math.inf, "y": math.nan, "sharpe": 1.5})
    assert safe == {"profit_factor": "inf", "x": "-inf", "y": "nan", "sharpe": 1.5}
    json.dumps(safe, allow_nan=False)


# ---- the compiled passes against a straightforward NumPy reference ---------------------------------


def _fold_positions(trades: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return per-position (net pips, pnl, bars held, R): legs folded with their fractions, by hand."""
    folded: dict[int, list[float]] = {}
    for leg in trades:
        pips, money, held, r_value = folded.setdefault(int(leg["position_id"]), [0.0, 0.0, 0.0, 0.0])
        folded[int(leg["position_id"])] = [
            pips + leg["fraction"] * leg["net_pips"],
            money + leg["pnl"],
            max(held, float(leg["bars_held"])),
            r_value + leg["fraction"] * leg["r_multiple"],
        ]
    columns = np.array(list(folded.values())).reshape(-1, 4).T
    return columns[0], columns[1], columns[2], columns[3]


def _reference_metrics(
    trades: np.ndarray, equity: np.ndarray, day_end_idx: np.ndarray, initial_capital: float, days_per_year: int,
    n_bars: int,
) -> dict[str, float]:
    """Every metric of DESIGN §6 the obvious way: one NumPy expression (or loop) per metric."""
    net_pips, pnl, held, r_multiple = _fold_positions(trades)
    r_values = r_multiple[np.isfinite(r_multiple)]
    n_trades = len(net_pips)

    def longest_run(mask: np.ndarray) -> float:
        best = run = 0
        for flag in mask:
            run = run + 1 if flag else 0
            best = max(best, run)
        return float(best)

    gains, losses = float(np.sum(pnl[pnl > 0])), -float(np.sum(pnl[pnl < 0]))
    # Position 0 is the initial capital, position k is bar k-1; the peak is the last position at it.
    positions = np.concatenate(([initial_capital], equity))
    running_peak = np.maximum.accumulate(positions)
    drawdowns = (running_peak[1:] - equity) / running_peak[1:]
    worst_at = int(np.argmax(drawdowns))
    peak_at = int(np.flatnonzero(positions[: worst_at + 1] == running_peak[worst_at + 1])[-1])
    recovered = np.flatnonzero(equity[worst_at:] >= running_peak[worst_at + 1])
    end = worst_at + int(recovered[0]) + 1 if len(recovered) else len(equity)
    daily = equity[day_end_idx]
    returns = daily / np.concatenate(([initial_capital], daily[:-1])) - 1.0
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    years = len(day_end_idx) / days_per_year
    return {
        "trades": float(n_trades),
        "legs": float(len(trades)),
        "win_rate": float(np.mean(net_pips > 0)),
        "expectancy_pips": float(np.mean(net_pips)),
        "expectancy_r": float(np.mean(r_values)) if len(r_values) else math.nan,
        "profit_factor": gains / losses if losses > 0 else (math.inf if gains > 0 else 0.0),
        "net_pips": float(np.sum(net_pips)),
        "net_pnl": float(np.sum(pnl)),
        "cvar95_pips": float(np.mean(np.sort(net_pips)[: math.ceil(n_trades / 20)])),
        "max_win_streak": longest_run(net_pips > 0),
        "max_loss_streak": longest_run(net_pips < 0),
        "avg_bars_held": float(np.mean(held)),
        "total_return": equity[-1] / initial_capital - 1.0,
        "cagr": (equity[-1] / initial_capital) ** (1.0 / years) - 1.0,
        "max_drawdown_pct": float(drawdowns[worst_at]) * 100.0 if drawdowns[worst_at] > 0 else 0.0,
        "max_drawdown_bars": float(end - peak_at) if drawdowns[worst_at] > 0 else 0.0,
        "sharpe": float(np.mean(returns) / np.std(returns, ddof=1)) * math.sqrt(days_per_year),
        "sortino": (float(np.mean(returns)) / downside if downside > 0 else math.inf) * math.sqrt(days_per_year),
        "exposure": float(np.sum(held)) / n_bars,
    }


def _random_scenario(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_trades, n_bars = int(rng.integers(1, 4000)), int(rng.integers(50, 20_000))
    trades = np.zeros(n_trades, dtype=TRADE_DTYPE)
    trades["net_pips"] = np.round(rng.normal(0.3, 12.0, n_trades), int(rng.integers(0, 3)))  # ties, break-evens
    trades["pnl"] = trades["net_pips"] * rng.uniform(0.5, 2.0, n_trades)
    r_multiple = trades["pnl"] / 25.0
    r_multiple[rng.random(n_trades) < 0.1] = np.nan
    trades["r_multiple"] = r_multiple
    trades["bars_held"] = rng.integers(1, 97, n_trades)
    # Every other seed groups the rows into positions of 1 to 5 legs, whose fractions sum to 1.
    legs_per_position = rng.integers(1, 6, n_trades) if seed % 2 else np.ones(n_trades, dtype=np.int64)
    position_id = np.repeat(np.arange(n_trades), legs_per_position)[:n_trades]
    trades["position_id"] = position_id
    counts = np.bincount(position_id)[position_id]
    trades["fraction"] = 1.0 / counts
    # Flat stretches (no position open) make equal peaks, whose last one starts the drawdown.
    steps = rng.normal(0.0001, 0.003, n_bars) * (rng.random(n_bars) < 0.6)
    equity = 10_000.0 * np.exp(np.cumsum(steps))
    day_end_idx = np.unique(np.append(np.sort(rng.choice(n_bars - 1, size=n_bars // 40, replace=False)), n_bars - 1))
    return trades, equity, day_end_idx.astype(np.int64)


@pytest.mark.parametrize("seed", range(12))
def test_compiled_metrics_equal_the_numpy_reference(seed: int) -> None:
    trades, equity, day_end_idx = _random_scenario(seed)
    actual = compute_metrics(trades, equity, day_end_idx, 10_000.0, 252, len(equity))
    expected = _reference_metrics(trades, equity, day_end_idx, 10_000.0, 252, len(equity))
    assert list(actual) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert actual[name] == pytest.approx(expected[name], rel=1e-12, nan_ok=True), name
    for name in ("trades", "win_rate", "max_win_streak", "max_loss_streak", "max_drawdown_bars", "exposure"):
        assert actual[name] == expected[name], name  # counts: exactly
