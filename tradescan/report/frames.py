"""Pure derived frames the report's figures and tables are drawn from (no I/O, no plotting).

Every function takes the run's tables (or slices of them) and returns a new frame; the same input
gives the same output, so the report is reproducible byte for byte.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradescan.results.tables import PARAM_PREFIX

MAX_GRID_LEVELS = 10  # a numeric parameter with more distinct values is binned into this many bins
NS_PER_DAY = 86_400_000_000_000
MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def complete_trials(trials: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Return the COMPLETE trials of ``symbol`` with a finite value, in trial order."""
    mine = trials[(trials["symbol"] == symbol) & (trials["state"] == "COMPLETE")]
    mine = mine[np.isfinite(mine["value"].astype(np.float64))]
    return mine.sort_values("trial", kind="stable").reset_index(drop=True)


def varying_params(trials: pd.DataFrame) -> list[str]:
    """Return the parameter names (without ``param_``) that take more than one value, in column order."""
    names = []
    for column in trials.columns:
        if column.startswith(PARAM_PREFIX) and trials[column].dropna().nunique() > 1:
            names.append(column[len(PARAM_PREFIX):])
    return names


def history(trials: pd.DataFrame) -> pd.DataFrame:
    """Return ``trial, value, best``: each complete trial's value and the best value so far."""
    values = trials["value"].astype(np.float64).to_numpy()
    return pd.DataFrame({"trial": trials["trial"].to_numpy(np.int64), "value": values,
                         "best": np.maximum.accumulate(values) if len(values) else values})


def grid_levels(values: pd.Series) -> pd.Series:
    """Return each value's grid level: the value itself when there are few, else its bin's centre.

    backtesting.py's ``plot_heatmaps`` groups by the exact parameter values; a continuous parameter
    sampled by TPE has as many values as trials, so it is cut into ``MAX_GRID_LEVELS`` equal bins.
    """
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not numeric or values.nunique() <= MAX_GRID_LEVELS:
        return values
    numbers = values.astype(np.float64)
    low, high = float(numbers.min()), float(numbers.max())
    width = (high - low) / MAX_GRID_LEVELS
    index = np.minimum(((numbers - low) / width).astype(np.int64), MAX_GRID_LEVELS - 1)
    return pd.Series(low + (index + 0.5) * width, index=values.index)


def pair_grid(trials: pd.DataFrame, x: str, y: str, how: str) -> pd.DataFrame:
    """Return the objective over the (``x``, ``y``) grid: rows = ``y`` levels, columns = ``x`` levels.

    Args:
        trials: complete trials with ``value`` and ``param_<x>``, ``param_<y>``.
        x: parameter on the columns.
        y: parameter on the rows.
        how: ``"mean"`` or ``"max"`` of the value in each cell (NaN where no trial fell).
    """
    levels = pd.DataFrame({
        "x": grid_levels(trials[PARAM_PREFIX + x]), "y": grid_levels(trials[PARAM_PREFIX + y]),
        "value": trials["value"].astype(np.float64),
    }).dropna(subset=["x", "y"])
    grouped = levels.groupby(["y", "x"], sort=True)["value"].agg(how)
    return grouped.unstack("x").sort_index(axis=0).sort_index(axis=1)


def day_bounds(times: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Return the first and last row of each UTC day of sorted bar ``times``, and the days.

    NumPy on the int64 nanoseconds: grouping tz-aware timestamps with pandas turns them into objects
    first, which took seconds per finalist on 20,000 bars.
    """
    index = pd.DatetimeIndex(times)
    nanoseconds = (index.tz_convert("UTC") if index.tz is not None else index).as_unit("ns").asi8
    day_numbers = nanoseconds // NS_PER_DAY
    if not len(day_numbers):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, pd.DatetimeIndex([], tz="UTC", name="day")
    last = np.flatnonzero(np.diff(day_numbers, append=day_numbers[-1] + 1))
    first = np.concatenate(([0], last[:-1] + 1))
    days = pd.DatetimeIndex(day_numbers[last] * NS_PER_DAY, tz="UTC", name="day")
    return first, last, days


def daily_equity(equity: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Return the equity's last value on each UTC day, indexed by day, one column per scenario.

    The page would grow with every bar; the daily curve is what the Sharpe ratio is computed on.
    """
    _, last, days = day_bounds(equity["time"])
    return pd.DataFrame({s: equity[s].to_numpy(np.float64)[last] for s in scenarios}, index=days)


def drawdown_pct(equity: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Return the drawdown in % of the running peak (≤ 0) at each bar's close, indexed by bar time.

    The first value counts as the first peak, as in ``tradescan.metrics``.
    """
    values = {s: equity[s].to_numpy(np.float64) for s in scenarios}
    frame = pd.DataFrame({s: (v / np.maximum.accumulate(v) - 1.0) * 100.0 for s, v in values.items()},
                         index=pd.DatetimeIndex(equity["time"]), columns=scenarios)
    return frame


def daily_drawdown_pct(equity: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Return the deepest per-bar drawdown (%) of each UTC day, indexed by day."""
    drawdown = drawdown_pct(equity, scenarios)
    first, _, days = day_bounds(equity["time"])
    if not len(first):
        return pd.DataFrame(columns=scenarios, index=days, dtype=np.float64)
    return pd.DataFrame({s: np.minimum.reduceat(drawdown[s].to_numpy(), first) for s in scenarios}, index=days)


def monthly_returns(equity: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Return the monthly returns in % of one scenario: rows = years, columns = months and ``Year``.

    A month's return is its last equity over the previous month's last (the first month: over the
    first equity value, the initial capital); ``Year`` compounds the year's months.
    """
    times = pd.DatetimeIndex(equity["time"])
    values = pd.Series(equity[scenario].to_numpy(np.float64), index=times)
    month_end = values.groupby([times.year, times.month]).last()
    previous = month_end.shift(1)
    previous.iloc[0] = float(values.iloc[0])
    returns = (month_end / previous - 1.0) * 100.0
    table = returns.unstack(level=1).reindex(columns=range(1, 13))
    table.columns = list(MONTH_LABELS)
    growth = (1.0 + returns / 100.0).groupby(level=0).prod()
    table["Year"] = (growth - 1.0) * 100.0
    table.index = pd.Index([str(year) for year in table.index], name="year")
    return table


def finalist_rows(frame: pd.DataFrame, symbol: str, rank: int) -> pd.DataFrame:
    """Return the rows of one finalist (``symbol``, ``rank``) of a trades or equity table."""
    return frame[(frame["symbol"] == symbol) & (frame["rank"] == rank)].reset_index(drop=True)


def scenario_columns(equity: pd.DataFrame) -> list[str]:
    """Return the scenario columns of an equity table (everything after symbol, rank, time)."""
    return [c for c in equity.columns if c not in ("symbol", "rank", "time")]


def format_number(value: object, digits: int = 3) -> str:
    """Return a number for a table cell: ints with separators, floats to ``digits`` significant places."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"
        if abs(number) >= 1000:
            return f"{number:,.0f}"
        return f"{number:.{digits}g}" if abs(number) < 1 else f"{number:,.{max(digits - 1, 0)}f}"
    return str(value)
