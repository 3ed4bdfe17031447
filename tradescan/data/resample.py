"""Resampling bars to a coarser timeframe, labelled by open time as MetaTrader and Binance do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradescan.data.schema import TIME_DTYPE, empty_bars, standard_bars
from tradescan.data.timeframes import TIMEFRAME_MINUTES, TIMEFRAMES, timeframe_ns, validate_timeframe
from tradescan.data.validation import format_time, time_ns, validate_bars
from tradescan.errors import DataError


def resample(frame: pd.DataFrame, to_timeframe: str, *, from_timeframe: str | None = None) -> pd.DataFrame:
    """Aggregate bars into ``to_timeframe`` bars: open first, high max, low min, close last, volume sum.

    Target bars are left-closed and labelled by their open time (a H4 bar at 08:00 covers
    08:00 <= t < 12:00); buckets are aligned to the UTC epoch, so D1 bars are UTC days and H4 bars
    start at 00, 04, 08, ... UTC.

    **Only complete-enough bars are kept**: a target bar is emitted when it has at least half of
    the source bars it should contain (``count * 2 >= expected``; e.g. 3 of 5 M1 bars for M5, 12 of
    24 H1 bars for D1). A nearly empty bucket — the Sunday-evening FX open, a data gap — would
    otherwise become a bar whose range says little about the period it is labelled with. A bucket
    with no source bars is never emitted.

    Args:
        frame: valid bars (``time`` UTC, OHLC, optional volume), oldest first.
        to_timeframe: the target, one of ``M5 M15 M30 H1 H4 D1``.
        from_timeframe: the bars' timeframe; inferred from the smallest gap between bars if omitted.

    Raises:
        DataError: the target is not coarser than the source or not a multiple of it, the source
            bars are not on their timeframe's grid, or the bars break a validation rule.
    """
    target = validate_timeframe(to_timeframe)
    bars = standard_bars(frame, source="resample input")
    source = validate_timeframe(from_timeframe) if from_timeframe else infer_timeframe(bars)
    _check_ratio(source, target)
    validate_bars(bars, source=f"{source} bars", timeframe_ns=timeframe_ns(source))
    times = time_ns(bars["time"])
    _check_on_grid(times, source)
    return _aggregate(bars, times, timeframe_ns(target), TIMEFRAME_MINUTES[target] // TIMEFRAME_MINUTES[source])


def infer_timeframe(bars: pd.DataFrame) -> str:
    """Return the timeframe whose length equals the smallest gap between consecutive bars.

    Raises:
        DataError: fewer than two bars, or the smallest gap is not a known timeframe.
    """
    times = time_ns(bars["time"])
    gaps_ns = np.diff(times)
    positive = gaps_ns[gaps_ns > 0]
    if len(positive) == 0:
        raise DataError("cannot infer the timeframe of fewer than two bars; pass from_timeframe")
    smallest_minutes = int(positive.min()) / 60e9
    for name, minutes in TIMEFRAME_MINUTES.items():
        if minutes == smallest_minutes:
            return name
    raise DataError(
        f"the smallest gap between bars is {smallest_minutes:g} min, which is no known timeframe "
        f"({', '.join(TIMEFRAMES)}); pass from_timeframe"
    )


def _check_ratio(source: str, target: str) -> None:
    source_minutes, target_minutes = TIMEFRAME_MINUTES[source], TIMEFRAME_MINUTES[target]
    if target_minutes <= source_minutes or target_minutes % source_minutes:
        finer = [
            name
            for name, minutes in TIMEFRAME_MINUTES.items()
            if minutes < target_minutes and target_minutes % minutes == 0
        ]
        raise DataError(
            f"cannot resample {source} to {target}: the source must be a finer timeframe that divides "
            f"the target ({target} can be built from {', '.join(finer) or 'nothing'})"
        )


def _check_on_grid(times: np.ndarray, source: str) -> None:
    off_grid = np.flatnonzero(times % timeframe_ns(source))
    if len(off_grid):
        first = int(off_grid[0])
        raise DataError(
            f"bar {first} at {format_time(times[first])} is not on the {source} grid (UTC); "
            f"{len(off_grid)} bar(s) are off it, so they cannot be grouped into coarser bars"
        )


def _aggregate(bars: pd.DataFrame, times: np.ndarray, target_ns: int, expected_count: int) -> pd.DataFrame:
    buckets = (times // target_ns) * target_ns
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    counts = np.diff(np.concatenate((starts, [len(times)])))
    keep = counts * 2 >= expected_count
    if not keep.any():
        return empty_bars()
    ends = starts + counts - 1
    columns = {
        "time": pd.Series(buckets[starts][keep].view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIME_DTYPE),
        "open": bars["open"].to_numpy()[starts][keep],
        "high": np.maximum.reduceat(bars["high"].to_numpy(), starts)[keep],
        "low": np.minimum.reduceat(bars["low"].to_numpy(), starts)[keep],
        "close": bars["close"].to_numpy()[ends][keep],
        "volume": np.add.reduceat(bars["volume"].to_numpy(), starts)[keep],
    }
    return pd.DataFrame(columns)
