"""Window statistics: rolling z-score, rolling highest/lowest, the Donchian channel, shift and slope.

These are not TA-Lib recurrences: they are NaN wherever their window holds a NaN and recover once it
has left the window. ``rolling_max``/``rolling_min`` equal TA-Lib ``MAX``/``MIN`` on numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import as_float_array, check_period, high_low


class DonchianChannel(NamedTuple):
    """Donchian channel: highest high and lowest low of the last n bars, and their midpoint."""

    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


@njit(cache=True)
def rolling_zscore_nb(values: np.ndarray, window: int, ddof: int) -> np.ndarray:
    """(x - mean) / std over the last ``window`` values; 0 where the std is 0; NaN if a NaN is inside.

    Running sums of ``x - anchor`` keep this O(n); every ``window`` bars the sums are recomputed from
    the window itself around a fresh anchor, so rounding cannot drift. A window of equal values is
    detected exactly (run length), so its z is exactly 0.
    """
    n_bars = len(values)
    out = np.full(n_bars, np.nan)
    anchor = np.nan
    sum_1 = 0.0
    sum_2 = 0.0
    nan_count = 0
    run_length = 0
    for i in range(n_bars):
        value = values[i]
        if i > 0 and value == values[i - 1]:
            run_length += 1
        else:
            run_length = 1
        if (i + 1) % window == 0:
            if not np.isnan(value):
                anchor = value
            sum_1 = 0.0
            sum_2 = 0.0
            nan_count = 0
            for j in range(i - window + 1, i + 1):
                member = values[j]
                if np.isnan(member):
                    nan_count += 1
                else:
                    if np.isnan(anchor):
                        anchor = member
                    deviation = member - anchor
                    sum_1 += deviation
                    sum_2 += deviation * deviation
        else:
            if np.isnan(value):
                nan_count += 1
            else:
                if np.isnan(anchor):
                    anchor = value
                deviation = value - anchor
                sum_1 += deviation
                sum_2 += deviation * deviation
            if i >= window:
                leaving = values[i - window]
                if np.isnan(leaving):
                    nan_count -= 1
                else:
                    deviation = leaving - anchor
                    sum_1 -= deviation
                    sum_2 -= deviation * deviation
        if i < window - 1 or nan_count > 0:
            continue
        if run_length >= window:
            out[i] = 0.0
            continue
        mean = sum_1 / window
        variance = (sum_2 - sum_1 * sum_1 / window) / (window - ddof)
        out[i] = (value - anchor - mean) / math.sqrt(variance) if variance > 0.0 else 0.0
    return out


@njit(cache=True)
def _rolling_extreme_nb(values: np.ndarray, window: int, highest: bool) -> np.ndarray:
    """Highest (or lowest) of the last ``window`` values, with a monotonic queue.

    NaN while the window is incomplete or holds a NaN.
    """
    n_bars = len(values)
    out = np.full(n_bars, np.nan)
    queue = np.empty(n_bars, dtype=np.int64)
    head = 0
    tail = 0
    last_nan = -1
    for i in range(n_bars):
        value = values[i]
        if np.isnan(value):
            last_nan = i
        else:
            while tail > head and (values[queue[tail - 1]] <= value if highest else values[queue[tail - 1]] >= value):
                tail -= 1
            queue[tail] = i
            tail += 1
        while tail > head and queue[head] <= i - window:
            head += 1
        if i >= window - 1 and last_nan <= i - window and tail > head:
            out[i] = values[queue[head]]
    return out


@njit(cache=True)
def rolling_max_nb(values: np.ndarray, window: int) -> np.ndarray:
    """Highest of the last ``window`` values (current included); NaN if the window holds a NaN."""
    return _rolling_extreme_nb(values, window, True)


@njit(cache=True)
def rolling_min_nb(values: np.ndarray, window: int) -> np.ndarray:
    """Lowest of the last ``window`` values (current included); NaN if the window holds a NaN."""
    return _rolling_extreme_nb(values, window, False)


def rolling_zscore(values: ArrayLike, window: int, ddof: int = 0) -> np.ndarray:
    """Return (value - rolling mean) / rolling std over the last ``window`` values, current included.

    ``ddof=0`` is the population std. Where the std is 0 (a window of equal values) the z-score is 0.
    The first value is at bar ``window - 1``.
    """
    array = as_float_array(values, "values")
    window = check_period(window, "window")
    if ddof < 0 or window <= ddof:
        raise ValueError(f"window must be > ddof >= 0, got window={window}, ddof={ddof}")
    return rolling_zscore_nb(array, window, int(ddof))


def rolling_max(values: ArrayLike, window: int) -> np.ndarray:
    """Return the highest of the last ``window`` values, current bar included (equals TA-Lib ``MAX``)."""
    array = as_float_array(values, "values")
    return rolling_max_nb(array, check_period(window, "window"))


def rolling_min(values: ArrayLike, window: int) -> np.ndarray:
    """Return the lowest of the last ``window`` values, current bar included (equals TA-Lib ``MIN``)."""
    array = as_float_array(values, "values")
    return rolling_min_nb(array, check_period(window, "window"))


def donchian(high: ArrayLike, low: ArrayLike, period: int = 20) -> DonchianChannel:
    """Return the Donchian channel over the last ``period`` bars, **current bar included**.

    ``upper`` = TA-Lib ``MAX(high, period)``, ``lower`` = ``MIN(low, period)`` (TA-Lib has no Donchian
    function), ``middle`` their mean; the first value is at bar ``period - 1``. A close can therefore
    never lie above ``upper`` of its own bar: a breakout rule compares the close with the channel of
    the bars before, ``shift(channel.upper, 1)``, as S3 does.
    """
    high_array, low_array = high_low(high, low)
    period = check_period(period)
    upper, lower = rolling_max_nb(high_array, period), rolling_min_nb(low_array, period)
    return DonchianChannel(upper=upper, middle=(upper + lower) / 2.0, lower=lower)


def shift(values: ArrayLike, periods: int = 1) -> np.ndarray:
    """Return ``values`` delayed by ``periods`` bars (``out[t] = values[t - periods]``), NaN-filled."""
    array = as_float_array(values, "values")
    periods = check_period(periods, "periods", minimum=0)
    out = np.full(len(array), np.nan)
    out[periods:] = array[: len(array) - periods]
    return out


def slope(values: ArrayLike, lag: int = 1) -> np.ndarray:
    """Return the change per bar over ``lag`` bars: ``(values[t] - values[t - lag]) / lag``."""
    array = as_float_array(values, "values")
    lag = check_period(lag, "lag")
    return (array - shift(array, lag)) / lag
