"""Performance metrics of one scenario's trades and equity curve (DESIGN §6).

``compute_metrics`` runs once per sweep trial, so it works on NumPy only: the ``TRADE_DTYPE`` records
the kernel produced and the per-bar equity curve. ``breakdown`` is the pandas-side view for reports.

Conventions (documented here because several are choices):

* **Positions and legs.** The kernel writes one record per *leg*: a position with a multi-target plan
  closes in several legs (one per target, plus the remainder), each with its ``fraction`` of the
  position; a position without a plan is one leg. Every trade metric counts **positions**:
  ``trades`` is the number of positions, and a position's net pips and R are its legs' values
  weighted by their fractions (Σ fraction·net_pips, Σ fraction·R: per unit of the whole position),
  its PnL their sum, its bars held the longest leg's. ``legs`` reports the number of leg rows.
  ``breakdown`` by ``exit_reason`` or ``leg`` (properties of a leg) counts legs, each on its own;
  by anything else it groups whole positions.
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
    "LEG_COLUMNS",
    "METRIC_NAMES",
    "TRADE_METRIC_NAMES",
    "breakdown",
    "compute_metrics",
    "day_end_index",
    "equity_metrics",
    "json_safe_metrics",
    "positions_frame",
    "trade_metrics",
]

TRADE_METRIC_NAMES = (
    "trades",
    "legs",
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
    stats = _trade_stats(
        trades["position_id"], trades["fraction"], trades["net_pips"], trades["pnl"], trades["r_multiple"],
        trades["bars_held"],
    )
    result = _trade_metrics_from(stats)
    years = _years(time, day_end_idx, days_per_year)
    result.update(equity_metrics(equity, day_end_idx, initial_capital, days_per_year, years))
    result["exposure"] = stats[_BARS_HELD_SUM] / n_bars if n_bars > 0 else 0.0
    return result


def trade_metrics(
    net_pips: np.ndarray, pnl: np.ndarray, r_multiple: np.ndarray, bars_held: np.ndarray
) -> dict[str, float]:
    """Return the trade-level metrics (``TRADE_METRIC_NAMES``) from per-position arrays (one leg each)."""
    n_trades = len(net_pips)
    return _trade_metrics_from(
        _trade_stats(np.arange(n_trades), np.ones(n_trades), net_pips, pnl, r_multiple, bars_held)
    )


def profit_factor(pnl: np.ndarray) -> float:
    """Return gains / |losses|: ``inf`` with gains and no losses, 0.0 with neither."""
    pnl = np.asarray(pnl, dtype=np.float64)
    return _profit_factor(float(np.sum(pnl[pnl > 0])), -float(np.sum(pnl[pnl < 0])))


def _profit_factor(gains: float, losses: float) -> float:
    if losses > 0:
        return gains / losses
    return math.inf if gains > 0 else 0.0


# --- compiled passes ----------------------------------------------------------------------------------
#
# One pass over the trades and one over the equity curve replace a dozen NumPy reductions, each of
# which read the strided fields of the trade records or the whole curve again. Sums are compensated
# (Neumaier), so they agree with NumPy's pairwise sums to within NumPy's own rounding.

# Positions in the tuple ``_trade_stats_nb`` returns.
(
    _LEGS,
    _TRADES,
    _WINS,
    _NET_PIPS_SUM,
    _PNL_SUM,
    _GAINS,
    _LOSSES,
    _R_SUM,
    _R_COUNT,
    _MAX_WIN_STREAK,
    _MAX_LOSS_STREAK,
    _BARS_HELD_SUM,
) = range(12)
_CVAR95 = _BARS_HELD_SUM + 1  # appended by ``_trade_stats``


@njit(cache=True, inline="always")
def _add(total: float, compensation: float, value: float) -> tuple[float, float]:
    """Neumaier's step: return the new running sum and its accumulated rounding error."""
    new_total = total + value
    # Selects rather than an if/else: the branch would follow the sign pattern of the data.
    larger = total if abs(total) >= abs(value) else value
    smaller = value if abs(total) >= abs(value) else total
    return new_total, compensation + ((larger - new_total) + smaller)


@njit(cache=True, inline="always")
def _total(total: float, compensation: float) -> float:
    """Return the compensated sum; an infinite or NaN sum as it is (its compensation is NaN)."""
    return total + compensation if math.isfinite(total) else total


@njit(cache=True)
def _trade_stats_nb(
    position_id: np.ndarray,
    fraction: np.ndarray,
    net_pips: np.ndarray,
    pnl: np.ndarray,
    r_multiple: np.ndarray,
    bars_held: np.ndarray,
) -> tuple[tuple[float, float, float, float, float, float, float, float, float, float, float, float], np.ndarray]:
    """Return the sums, counts and streaks of ``_trade_metrics_from`` and each position's net pips.

    Legs of one position are consecutive rows with the same ``position_id``; they are folded into
    one position (fraction-weighted pips and R, summed PnL, longest bars held) before counting.
    """
    n_legs = len(net_pips)
    position_pips_out = np.empty(n_legs)
    n_positions = 0
    wins = 0
    win_run = loss_run = max_win_run = max_loss_run = 0
    r_count = 0
    net_sum = net_err = pnl_sum = pnl_err = gains = gains_err = losses = losses_err = 0.0
    r_sum = r_err = held_sum = held_err = 0.0
    pips = money = r_value = held = 0.0
    # Branch-free updates (adding 0.0 leaves a sum unchanged): win, loss and gain follow the data's
    # signs, which a branch predictor cannot guess.
    for i in range(n_legs):
        if i == 0 or position_id[i] != position_id[i - 1]:
            pips = money = r_value = held = 0.0
        pips += fraction[i] * net_pips[i]
        money += pnl[i]
        r_value += fraction[i] * r_multiple[i]
        held = max(held, float(bars_held[i]))
        if i + 1 < n_legs and position_id[i + 1] == position_id[i]:
            continue
        position_pips_out[n_positions] = pips
        n_positions += 1
        net_sum, net_err = _add(net_sum, net_err, pips)
        wins += pips > 0
        win_run = win_run + 1 if pips > 0 else 0
        loss_run = loss_run + 1 if pips < 0 else 0
        max_win_run = max(max_win_run, win_run)
        max_loss_run = max(max_loss_run, loss_run)
        pnl_sum, pnl_err = _add(pnl_sum, pnl_err, money)
        gains, gains_err = _add(gains, gains_err, money if money > 0 else 0.0)
        losses, losses_err = _add(losses, losses_err, -money if money < 0 else 0.0)
        if np.isfinite(r_value):
            r_sum, r_err = _add(r_sum, r_err, r_value)
            r_count += 1
        held_sum, held_err = _add(held_sum, held_err, held)
    stats = (
        float(n_legs),
        float(n_positions),
        float(wins),
        _total(net_sum, net_err),
        _total(pnl_sum, pnl_err),
        _total(gains, gains_err),
        _total(losses, losses_err),
        _total(r_sum, r_err),
        float(r_count),
        float(max_win_run),
        float(max_loss_run),
        _total(held_sum, held_err),
    )
    return stats, position_pips_out[:n_positions]


def _trade_stats(
    position_id: np.ndarray,
    fraction: np.ndarray,
    net_pips: np.ndarray,
    pnl: np.ndarray,
    r_multiple: np.ndarray,
    bars_held: np.ndarray,
) -> tuple[float, ...]:
    """Return ``_trade_stats_nb``'s numbers followed by the CVaR 95 of the positions' net pips."""
    # Record fields arrive as strided views of the trade records: the kernel reads them in place.
    stats, position_pips = _trade_stats_nb(
        np.asarray(position_id),
        np.asarray(fraction, dtype=np.float64),
        np.asarray(net_pips, dtype=np.float64),
        np.asarray(pnl, dtype=np.float64),
        np.asarray(r_multiple, dtype=np.float64),
        np.asarray(bars_held),
    )
    return (*stats, _cvar95(position_pips))


def _cvar95(net_pips: np.ndarray) -> float:
    if len(net_pips) == 0:
        return 0.0
    tail_size = max(1, -(-len(net_pips) // 20))  # ceil(5 % of the trades), with integers only
    # NumPy's introselect is ~10x numba's np.partition; sorting the tail keeps today's summation order.
    tail = np.sort(np.partition(net_pips, tail_size - 1)[:tail_size])
    return float(np.mean(tail))


def _trade_metrics_from(stats: tuple[float, ...]) -> dict[str, float]:
    n_trades = stats[_TRADES]
    if n_trades == 0:
        return dict.fromkeys(TRADE_METRIC_NAMES, 0.0)
    r_count = stats[_R_COUNT]
    return {
        "trades": n_trades,
        "legs": stats[_LEGS],
        "win_rate": stats[_WINS] / n_trades,
        "expectancy_pips": stats[_NET_PIPS_SUM] / n_trades,
        "expectancy_r": stats[_R_SUM] / r_count if r_count else math.nan,
        "profit_factor": _profit_factor(stats[_GAINS], stats[_LOSSES]),
        "net_pips": stats[_NET_PIPS_SUM],
        "net_pnl": stats[_PNL_SUM],
        "cvar95_pips": stats[_CVAR95],
        "max_win_streak": stats[_MAX_WIN_STREAK],
        "max_loss_streak": stats[_MAX_LOSS_STREAK],
        "avg_bars_held": stats[_BARS_HELD_SUM] / n_trades,
    }


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
    equity = np.ascontiguousarray(equity, dtype=np.float64)
    if len(equity) == 0:
        return dict.fromkeys(EQUITY_METRIC_NAMES, 0.0)
    if years is None:
        years = len(day_end_idx) / days_per_year
    final_ratio = float(equity[-1]) / initial_capital
    drawdown, drawdown_bars, n_returns, mean, std, downside = _equity_stats_nb(
        equity, np.ascontiguousarray(day_end_idx, dtype=np.int64), float(initial_capital)
    )
    annualiser = math.sqrt(days_per_year)
    return {
        "total_return": final_ratio - 1.0,
        "cagr": _cagr(final_ratio, years),
        "max_drawdown_pct": float(drawdown) * 100.0,
        "max_drawdown_bars": float(drawdown_bars),
        "sharpe": _sharpe(n_returns, mean, std) * annualiser,
        "sortino": _sortino(n_returns, mean, downside) * annualiser,
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


_DRAWDOWN_BLOCK = 16  # bars whose minimum and maximum are taken with four independent chains


@njit(cache=True, inline="always")
def _drawdown_step(
    value: float, position: int, peak_value: float, peak_at: int, lowest: float, worst: float, worst_bars: int
) -> tuple[float, int, float, float, int]:
    """Advance the drawdown state by one bar (``position`` = its index + 1); see ``_max_drawdown_nb``."""
    if value >= peak_value:
        if lowest < peak_value:
            drawdown = (peak_value - lowest) / peak_value
            if drawdown > worst:
                worst, worst_bars = drawdown, position - peak_at
        return value, position, value, worst, worst_bars
    if value < lowest:
        lowest = value
    return peak_value, peak_at, lowest, worst, worst_bars


@njit(cache=True)
def _max_drawdown_nb(equity: np.ndarray, initial_capital: float) -> tuple[float, int]:
    """Return the deepest drawdown (fraction of its peak) and the bars from that peak to its recovery.

    Position 0 is the initial capital (the peak before the first bar), position k is bar k-1. Between
    two peaks the peak is fixed and (peak - value) / peak falls as the value rises, so the deepest
    point of each stretch is its lowest value: one division per stretch, not per bar. A stretch ends
    where the equity is back at its peak, which is the recovery bar. A block of bars that stays below
    the peak only lowers the minimum, so it is reduced with independent chains (NaN bars are skipped,
    as every comparison with NaN is false).
    """
    n_bars = len(equity)
    peak_value, peak_at, lowest = initial_capital, 0, initial_capital
    worst, worst_bars = 0.0, 0
    start = 0
    while start + _DRAWDOWN_BLOCK <= n_bars:
        high_0 = high_1 = high_2 = high_3 = -np.inf
        low_0 = low_1 = low_2 = low_3 = np.inf
        for i in range(start, start + _DRAWDOWN_BLOCK, 4):
            value_0, value_1, value_2, value_3 = equity[i], equity[i + 1], equity[i + 2], equity[i + 3]
            high_0 = value_0 if value_0 > high_0 else high_0
            high_1 = value_1 if value_1 > high_1 else high_1
            high_2 = value_2 if value_2 > high_2 else high_2
            high_3 = value_3 if value_3 > high_3 else high_3
            low_0 = value_0 if value_0 < low_0 else low_0
            low_1 = value_1 if value_1 < low_1 else low_1
            low_2 = value_2 if value_2 < low_2 else low_2
            low_3 = value_3 if value_3 < low_3 else low_3
        if max(max(high_0, high_1), max(high_2, high_3)) < peak_value:
            lowest = min(lowest, min(min(low_0, low_1), min(low_2, low_3)))
        else:
            for i in range(start, start + _DRAWDOWN_BLOCK):
                peak_value, peak_at, lowest, worst, worst_bars = _drawdown_step(
                    equity[i], i + 1, peak_value, peak_at, lowest, worst, worst_bars
                )
        start += _DRAWDOWN_BLOCK
    for i in range(start, n_bars):
        peak_value, peak_at, lowest, worst, worst_bars = _drawdown_step(
            equity[i], i + 1, peak_value, peak_at, lowest, worst, worst_bars
        )
    if lowest < peak_value:  # the last stretch never recovered: it runs to the last bar
        drawdown = (peak_value - lowest) / peak_value
        if drawdown > worst:
            worst, worst_bars = drawdown, n_bars - peak_at
    return worst, worst_bars


@njit(cache=True)
def _equity_stats_nb(
    equity: np.ndarray, day_end_idx: np.ndarray, initial_capital: float
) -> tuple[float, int, int, float, float, float]:
    """Return the max drawdown (fraction, bars) and the daily returns' count, mean, std and downside.

    The std has ddof 1 and is NaN with fewer than 2 returns; downside = √(mean(min(r, 0)²)).
    """
    drawdown, drawdown_bars = _max_drawdown_nb(equity, initial_capital)
    n_days = len(day_end_idx)
    returns = np.empty(n_days)
    previous = initial_capital
    total = total_err = 0.0
    for day in range(n_days):
        value = equity[day_end_idx[day]]
        returns[day] = value / previous - 1.0
        previous = value
        total, total_err = _add(total, total_err, returns[day])
    mean = _total(total, total_err) / n_days if n_days else np.nan
    squares = squares_err = down = down_err = 0.0
    for day in range(n_days):
        deviation = returns[day] - mean
        squares, squares_err = _add(squares, squares_err, deviation * deviation)
        shortfall = 0.0 if returns[day] >= 0.0 else returns[day]  # NaN stays NaN, as in np.minimum
        down, down_err = _add(down, down_err, shortfall * shortfall)
    std = math.sqrt(_total(squares, squares_err) / (n_days - 1)) if n_days > 1 else np.nan
    downside = math.sqrt(_total(down, down_err) / n_days) if n_days else np.nan
    return drawdown, drawdown_bars, n_days, mean, std, downside


def _sharpe(n_returns: int, mean: float, std: float) -> float:
    if n_returns < 2:
        return 0.0
    return mean / std if std > 0 else 0.0


def _sortino(n_returns: int, mean: float, downside: float) -> float:
    if n_returns < 2:
        return 0.0
    if downside > 0:
        return mean / downside
    return math.inf if mean > 0 else 0.0


NS_PER_DAY = 86_400_000_000_000


def day_end_index(time: np.ndarray | pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Return the index (int64) of the last bar of each UTC day, oldest day first."""
    if isinstance(time, pd.Series | pd.DatetimeIndex):
        times = pd.to_datetime(time, utc=True)
        time = (times.dt if isinstance(times, pd.Series) else times).tz_localize(None).to_numpy("datetime64[ns]")
    return _day_end_index_nb(np.ascontiguousarray(np.asarray(time, dtype="datetime64[ns]").view(np.int64)))


@njit(cache=True)
def _day_end_index_nb(time_ns: np.ndarray) -> np.ndarray:
    # One pass that divides only when the day changes (the current day's [start, end) is kept):
    # a quarter of the NumPy form's time. Floor division keeps days before 1970 right.
    ends = np.empty(len(time_ns), dtype=np.int64)
    n_days = 0
    day_start = day_end = 0
    for i in range(len(time_ns)):
        if i == 0 or time_ns[i] < day_start or time_ns[i] >= day_end:
            if i > 0:
                ends[n_days] = i - 1
                n_days += 1
            day_start = (time_ns[i] // NS_PER_DAY) * NS_PER_DAY
            day_end = day_start + NS_PER_DAY
    if len(time_ns) > 0:
        ends[n_days] = len(time_ns) - 1
        n_days += 1
    return ends[:n_days].copy()


LEG_COLUMNS = ("exit_reason", "leg")  # properties of a leg, not of its position


def positions_frame(trades: pd.DataFrame) -> pd.DataFrame:
    """Return one row per position from a trades frame of legs (DESIGN §6's position rules).

    Net pips and R are the legs' values weighted by ``fraction``, PnL their sum, bars held the
    longest leg's; other columns (side, regime, symbol, ...) come from the position's first leg. A
    frame without ``position_id`` (one written before legs existed) is returned as it is: each row
    is a position.
    """
    if "position_id" not in trades.columns or trades.empty:
        return trades
    keys = [name for name in ("scenario", "symbol", "position_id") if name in trades.columns]
    weight = trades["fraction"].to_numpy(np.float64)
    folded = trades.assign(net_pips=trades["net_pips"] * weight, r_multiple=trades["r_multiple"] * weight)
    grouped = folded.groupby(keys, sort=False)
    positions = trades.drop_duplicates(keys, keep="first").set_index(keys)
    positions["net_pips"] = grouped["net_pips"].sum()
    positions["pnl"] = grouped["pnl"].sum()
    r_missing = folded["r_multiple"].isna().groupby([folded[key] for key in keys], sort=False).any()
    positions["r_multiple"] = grouped["r_multiple"].sum().where(~r_missing)
    positions["bars_held"] = grouped["bars_held"].max()
    positions["legs"] = grouped.size()
    return positions.reset_index()


def breakdown(trades: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return trade-level metrics (``TRADE_METRIC_NAMES``) per value of column ``by``.

    ``by`` is e.g. ``scenario``, ``symbol``, ``regime``, ``side`` or ``exit_reason``. Scenarios never
    mix: when the frame has a ``scenario`` column and ``by`` is another column, the groups are
    (scenario, ``by``) pairs. By ``exit_reason`` or ``leg`` each leg counts as one trade; by any
    other column the legs are folded into positions first (``positions_frame``).
    """
    if by not in trades.columns:
        raise KeyError(f"breakdown: trades have no column {by!r}; columns: {list(trades.columns)}")
    units = trades if by in LEG_COLUMNS else positions_frame(trades)
    keys = ["scenario", by] if "scenario" in units.columns and by != "scenario" else [by]
    rows = []
    for group_key, group in units.groupby(keys, sort=True):
        metrics = trade_metrics(
            group["net_pips"].to_numpy(np.float64),
            group["pnl"].to_numpy(np.float64),
            group["r_multiple"].to_numpy(np.float64),
            group["bars_held"].to_numpy(np.float64),
        )
        metrics["legs"] = float(group["legs"].sum()) if "legs" in group.columns else metrics["legs"]
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
