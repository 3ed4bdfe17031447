"""Performance metrics of one scenario's trades and equity curve (DESIGN §6).

``compute_metrics`` runs once per sweep trial, so it works on NumPy only: the ``TRADE_DTYPE`` records
the kernel produced and the per-bar equity curve. ``breakdown`` is the pandas-side view for reports.

Conventions (documented here because several are choices):

* A trade is a win when its ``net_pips`` > 0 and a loss when < 0 (sizing does not change the
  outcome); a break-even trade ends both streaks. The profit factor is over ``pnl`` (account
  currency, commission included): gains / |losses|, ``inf`` with gains and no losses, 0.0 with no
  gains and no losses.
* With no trades every trade metric is 0.0 (nothing happened), never NaN, so objectives and sums
  stay numbers. ``expectancy_r`` is the mean R over trades with a stop; NaN when no trade had one.
* CVaR 95 % = mean of the worst ceil(5 % · trades) net pips (at least one trade).
* ``total_return`` and ``cagr`` are fractions (0.12 = 12 %); ``max_drawdown_pct`` is a positive
  percentage of the running peak (the initial capital counts as the first peak) and
  ``max_drawdown_bars`` the bars from that peak to the recovery of its value (to the last bar when
  it never recovers).
* Sharpe = mean / std (ddof 1) of daily returns × √days_per_year, rf = 0; the daily series is the
  equity's last value on each UTC day and its first return is against the initial capital. Sharpe
  is 0.0 with fewer than 2 daily returns or a zero std. Sortino uses the downside deviation
  √(mean(min(r, 0)²)) over all daily returns; 0.0 with fewer than 2 returns, ``inf`` when the mean
  is positive and nothing fell.
* CAGR spans the first to the last bar time (``time=``, calendar years of 365.25 days); without
  times, the number of UTC days with bars over ``days_per_year``.
* Exposure = bars in a position (sum of ``bars_held``) / ``n_bars``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numba import njit

__all__ = [
    "METRIC_NAMES",
    "TRADE_METRIC_NAMES",
    "breakdown",
    "compute_metrics",
    "day_end_index",
    "equity_metrics",
    "json_safe_metrics",
    "trade_metrics",
]

TRADE_METRIC_NAMES = (
    "trades",
    "win_rate",
    "expectancy_pips",
    "expectancy_r",
    "profit_factor",
    "net_pips",
    "net_pnl",
    "cvar95_pips",
    "max_win_streak",
    "max_loss_streak",
    "avg_bars_held",
)
EQUITY_METRIC_NAMES = (
    "total_return",
    "cagr",
    "max_drawdown_pct",
    "max_drawdown_bars",
    "sharpe",
    "sortino",
)
METRIC_NAMES = (*TRADE_METRIC_NAMES, *EQUITY_METRIC_NAMES, "exposure")

_DAYS_PER_CALENDAR_YEAR = 365.25


def compute_metrics(
    trades: np.ndarray,
    equity: np.ndarray,
    day_end_idx: np.ndarray,
    initial_capital: float,
    days_per_year: int,
    n_bars: int,
    *,
    time: np.ndarray | None = None,
) -> dict[str, float]:
    """Return every metric of one scenario (names in ``METRIC_NAMES``, all floats).

    Args:
        trades: ``TRADE_DTYPE`` records of one scenario, in chronological order.
        equity: per-bar equity in account currency, marked at the close.
        day_end_idx: index of the last bar of each UTC day (``day_end_index(time)``).
        initial_capital: equity before the first bar.
        days_per_year: annualisation calendar (252 or 365).
        n_bars: bars in the series (the exposure's denominator).
        time: bar times (``datetime64[ns]``); when given, CAGR uses the first-to-last time span.
    """
    result = trade_metrics(trades["net_pips"], trades["pnl"], trades["r_multiple"], trades["bars_held"])
    years = _years(time, day_end_idx, days_per_year)
    result.update(equity_metrics(equity, day_end_idx, initial_capital, days_per_year, years))
    result["exposure"] = float(np.sum(trades["bars_held"])) / n_bars if n_bars > 0 else 0.0
    return result


def trade_metrics(
    net_pips: np.ndarray, pnl: np.ndarray, r_multiple: np.ndarray, bars_held: np.ndarray
) -> dict[str, float]:
    """Return the trade-level metrics (``TRADE_METRIC_NAMES``) from per-trade arrays."""
    net_pips = np.asarray(net_pips, dtype=np.float64)
    pnl = np.asarray(pnl, dtype=np.float64)
    n_trades = len(net_pips)
    if n_trades == 0:
        return dict.fromkeys(TRADE_METRIC_NAMES, 0.0)
    r_values = np.asarray(r_multiple, dtype=np.float64)
    r_values = r_values[np.isfinite(r_values)]
    return {
        "trades": float(n_trades),
        "win_rate": float(np.count_nonzero(net_pips > 0)) / n_trades,
        "expectancy_pips": float(np.mean(net_pips)),
        "expectancy_r": float(np.mean(r_values)) if len(r_values) else math.nan,
        "profit_factor": profit_factor(pnl),
        "net_pips": float(np.sum(net_pips)),
        "net_pnl": float(np.sum(pnl)),
        "cvar95_pips": _cvar95(net_pips),
        "max_win_streak": float(_longest_run(net_pips > 0)),
        "max_loss_streak": float(_longest_run(net_pips < 0)),
        "avg_bars_held": float(np.mean(bars_held)),
    }


def profit_factor(pnl: np.ndarray) -> float:
    """Return gains / |losses|: ``inf`` with gains and no losses, 0.0 with neither."""
    gains = float(np.sum(pnl[pnl > 0]))
    losses = -float(np.sum(pnl[pnl < 0]))
    if losses > 0:
        return gains / losses
    return math.inf if gains > 0 else 0.0


def _cvar95(net_pips: np.ndarray) -> float:
    tail_size = max(1, -(-len(net_pips) // 20))  # ceil(5 % of the trades), with integers only
    return float(np.mean(np.sort(net_pips)[:tail_size]))


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)))


def equity_metrics(
    equity: np.ndarray,
    day_end_idx: np.ndarray,
    initial_capital: float,
    days_per_year: int,
    years: float | None = None,
) -> dict[str, float]:
    """Return the equity-curve metrics (``EQUITY_METRIC_NAMES``).

    ``years`` is the span for CAGR; ``None`` means UTC days with bars / ``days_per_year``.
    """
    equity = np.asarray(equity, dtype=np.float64)
    if len(equity) == 0:
        return dict.fromkeys(EQUITY_METRIC_NAMES, 0.0)
    if years is None:
        years = len(day_end_idx) / days_per_year
    final_ratio = float(equity[-1]) / initial_capital
    drawdown_pct, drawdown_bars = _max_drawdown(equity, float(initial_capital))
    daily_returns = _daily_returns(equity, day_end_idx, initial_capital)
    annualiser = math.sqrt(days_per_year)
    return {
        "total_return": final_ratio - 1.0,
        "cagr": _cagr(final_ratio, years),
        "max_drawdown_pct": drawdown_pct,
        "max_drawdown_bars": float(drawdown_bars),
        "sharpe": _sharpe(daily_returns) * annualiser,
        "sortino": _sortino(daily_returns) * annualiser,
    }


def _years(time: np.ndarray | None, day_end_idx: np.ndarray, days_per_year: int) -> float:
    if time is None or len(time) == 0:
        return len(day_end_idx) / days_per_year
    times = np.asarray(time, dtype="datetime64[ns]")
    return float((times[-1] - times[0]) / np.timedelta64(1, "D")) / _DAYS_PER_CALENDAR_YEAR


def _cagr(final_ratio: float, years: float) -> float:
    if final_ratio <= 0:
        return -1.0
    if years <= 0:
        return 0.0
    try:
        return final_ratio ** (1.0 / years) - 1.0
    except OverflowError:
        return math.inf


@njit(cache=True)
def _max_drawdown_nb(equity: np.ndarray, initial_capital: float) -> tuple[float, int]:
    # Position 0 is the initial capital (the peak before the first bar), position k is bar k-1.
    peak_value = initial_capital
    peak_at = 0
    worst = 0.0
    worst_peak_value = initial_capital
    worst_peak_at = 0
    worst_at = 0
    for i in range(len(equity)):
        value = equity[i]
        if value >= peak_value:
            peak_value = value
            peak_at = i + 1
        else:
            drawdown = (peak_value - value) / peak_value
            if drawdown > worst:
                worst, worst_peak_value, worst_peak_at, worst_at = drawdown, peak_value, peak_at, i + 1
    if worst <= 0.0:
        return 0.0, 0
    end = len(equity)  # never recovered: up to the last bar
    for i in range(worst_at, len(equity)):
        if equity[i] >= worst_peak_value:
            end = i + 1
            break
    return worst * 100.0, end - worst_peak_at


def _max_drawdown(equity: np.ndarray, initial_capital: float) -> tuple[float, int]:
    drawdown_pct, drawdown_bars = _max_drawdown_nb(np.ascontiguousarray(equity, dtype=np.float64), initial_capital)
    return float(drawdown_pct), int(drawdown_bars)


def _daily_returns(equity: np.ndarray, day_end_idx: np.ndarray, initial_capital: float) -> np.ndarray:
    daily_equity = equity[np.asarray(day_end_idx, dtype=np.int64)]
    previous = np.concatenate(([initial_capital], daily_equity[:-1]))
    return daily_equity / previous - 1.0


def _sharpe(daily_returns: np.ndarray) -> float:
    if len(daily_returns) < 2:
        return 0.0
    std = float(np.std(daily_returns, ddof=1))
    return float(np.mean(daily_returns)) / std if std > 0 else 0.0


def _sortino(daily_returns: np.ndarray) -> float:
    if len(daily_returns) < 2:
        return 0.0
    mean = float(np.mean(daily_returns))
    downside = math.sqrt(float(np.mean(np.minimum(daily_returns, 0.0) ** 2)))
    if downside > 0:
        return mean / downside
    return math.inf if mean > 0 else 0.0


def day_end_index(time: np.ndarray | pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Return the index (int64) of the last bar of each UTC day, oldest day first."""
    if isinstance(time, pd.Series | pd.DatetimeIndex):
        times = pd.to_datetime(time, utc=True)
        time = (times.dt if isinstance(times, pd.Series) else times).tz_localize(None).to_numpy("datetime64[ns]")
    days = np.asarray(time, dtype="datetime64[ns]").astype("datetime64[D]")
    if len(days) == 0:
        return np.empty(0, dtype=np.int64)
    changes = np.flatnonzero(days[1:] != days[:-1])
    return np.append(changes, len(days) - 1).astype(np.int64)


def breakdown(trades: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return trade-level metrics (``TRADE_METRIC_NAMES``) per value of column ``by``.

    ``by`` is e.g. ``scenario``, ``symbol``, ``regime``, ``side`` or ``exit_reason``. Scenarios never
    mix: when the frame has a ``scenario`` column and ``by`` is another column, the groups are
    (scenario, ``by``) pairs.
    """
    if by not in trades.columns:
        raise KeyError(f"breakdown: trades have no column {by!r}; columns: {list(trades.columns)}")
    keys = ["scenario", by] if "scenario" in trades.columns and by != "scenario" else [by]
    rows = []
    for group_key, group in trades.groupby(keys, sort=True):
        metrics = trade_metrics(
            group["net_pips"].to_numpy(np.float64),
            group["pnl"].to_numpy(np.float64),
            group["r_multiple"].to_numpy(np.float64),
            group["bars_held"].to_numpy(np.float64),
        )
        rows.append({**dict(zip(keys, group_key, strict=True)), **metrics})
    frame = pd.DataFrame(rows, columns=[*keys, *TRADE_METRIC_NAMES])
    return frame.set_index(keys)


def json_safe_metrics(metrics: Mapping[str, float]) -> dict[str, float | str]:
    """Return ``metrics`` with non-finite values as strings (``"inf"``, ``"-inf"``, ``"nan"``)."""
    safe: dict[str, float | str] = {}
    for name, value in metrics.items():
        number = float(value)
        if math.isfinite(number):
            safe[name] = number
        else:
            safe[name] = "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
    return safe
