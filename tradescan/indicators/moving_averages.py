"""Moving averages: SMA, EMA and Kaufman's adaptive moving average, each equal to TA-Lib's."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import as_float_array, check_period, first_valid, is_zero, nan_until

# TA-Lib's KAMA fixes the fast and slow ends of the smoothing constant at EMA(2) and EMA(30).
_KAMA_FAST_PERIOD = 2
_KAMA_SLOW_PERIOD = 30


@njit(cache=True)
def sma_nb(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average with TA-Lib's running sum; first value ``period - 1`` bars after the NaN lead."""
    n_bars = len(values)
    start = first_valid(values)
    first_out = start + period - 1
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    period_total = 0.0
    for i in range(start, first_out):
        period_total += values[i]
    for i in range(first_out, n_bars):
        period_total += values[i]
        window_total = period_total
        period_total -= values[i - period + 1]
        out[i] = window_total / period
    return out


@njit(cache=True)
def ema_nb(values: np.ndarray, period: int) -> np.ndarray:
    """EMA seeded with the SMA of the first ``period`` values (TA-Lib's default); k = 2/(period+1)."""
    n_bars = len(values)
    start = first_valid(values)
    first_out = start + period - 1
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    total = 0.0
    for i in range(start, first_out + 1):
        total += values[i]
    previous = total / period
    out[first_out] = previous
    k = 2.0 / (period + 1)
    for i in range(first_out + 1, n_bars):
        previous = (values[i] - previous) * k + previous
        out[i] = previous
    return out


@njit(cache=True)
def _kama_step(value: float, previous_kama: float, period_change: float, path_length: float) -> float:
    """One KAMA update: the efficiency ratio sets the smoothing constant of an EMA-like step."""
    # TA-Lib compares the path with the signed change: a full-length rise counts as ratio 1.
    trending = path_length <= period_change or is_zero(path_length)
    efficiency = 1.0 if trending else abs(period_change / path_length)
    slowest = 2.0 / (_KAMA_SLOW_PERIOD + 1.0)
    smoothing = efficiency * (2.0 / (_KAMA_FAST_PERIOD + 1.0) - slowest) + slowest
    smoothing *= smoothing
    return (value - previous_kama) * smoothing + previous_kama


@njit(cache=True)
def kama_nb(values: np.ndarray, period: int) -> np.ndarray:
    """Kaufman's adaptive moving average as TA-Lib computes it; first value ``period`` bars after the lead.

    The path length (sum of |one-bar changes| over ``period`` bars) is a running sum, as in TA-Lib, and
    the first KAMA starts from the previous bar's value.
    """
    n_bars = len(values)
    start = first_valid(values)
    first_out = start + period
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    path_length = 0.0
    for i in range(start, first_out):
        path_length += abs(values[i] - values[i + 1])
    kama = _kama_step(values[first_out], values[first_out - 1], values[first_out] - values[start], path_length)
    out[first_out] = kama
    for i in range(first_out + 1, n_bars):
        trailing = i - period
        path_length -= abs(values[trailing - 1] - values[trailing])
        path_length += abs(values[i] - values[i - 1])
        kama = _kama_step(values[i], kama, values[i] - values[trailing], path_length)
        out[i] = kama
    return out


def sma(values: ArrayLike, period: int) -> np.ndarray:
    """Return the simple moving average of ``values`` over ``period`` bars (equals TA-Lib ``SMA``)."""
    array = as_float_array(values, "values")
    return sma_nb(array, check_period(period))


def ema(values: ArrayLike, period: int) -> np.ndarray:
    """Return the exponential moving average (SMA-seeded; equals TA-Lib ``EMA``).

    The first value is at bar ``period - 1`` (counted from the first non-NaN input).
    """
    array = as_float_array(values, "values")
    return ema_nb(array, check_period(period))


def kama(values: ArrayLike, period: int = 30) -> np.ndarray:
    """Return Kaufman's adaptive moving average (equals TA-Lib ``KAMA``); first value at bar ``period``.

    The smoothing constant runs from EMA(30) (no trend: efficiency ratio 0) to EMA(2) (a straight
    line: ratio 1), fixed as in TA-Lib. TA-Lib quirks kept: a path length under 1e-8 in price units
    counts as a ratio of 1, and so does a rise (not a fall) as long as the whole path.
    """
    array = as_float_array(values, "values")
    return kama_nb(array, check_period(period, minimum=2))
