"""Trend: Wilder's ADX and MACD, each equal to TA-Lib's."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import (
    as_float_array,
    bar_true_range,
    check_period,
    first_valid,
    first_valid_bar,
    high_low_close,
    is_zero,
    nan_until,
)


class MACD(NamedTuple):
    """MACD: ``macd = EMA(fast) - EMA(slow)``, ``signal = EMA(macd)``, ``histogram = macd - signal``."""

    macd: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


@njit(cache=True)
def _directional_index(plus_dm: float, minus_dm: float, range_sum: float) -> float:
    """Return TA-Lib's DX from the smoothed +DM, -DM and range; NaN where TA-Lib skips the bar."""
    if is_zero(range_sum):
        return np.nan
    minus_di = 100.0 * (minus_dm / range_sum)
    plus_di = 100.0 * (plus_dm / range_sum)
    di_sum = minus_di + plus_di
    if is_zero(di_sum):
        return np.nan
    return 100.0 * (abs(minus_di - plus_di) / di_sum)


@njit(cache=True)
def adx_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ADX as TA-Lib computes it; first value ``2·period - 1`` bars after the NaN lead.

    The first loop sums the first ``period - 1`` moves and ranges; the second smooths them, sums
    ``period`` DX values for the seed and then smooths the ADX.
    """
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    first_out = start + 2 * period - 1
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    previous_high, previous_low, previous_close = high[start], low[start], close[start]
    plus_dm = 0.0
    minus_dm = 0.0
    range_sum = 0.0
    for today in range(start + 1, start + period):
        up_move = high[today] - previous_high
        down_move = previous_low - low[today]
        previous_high, previous_low = high[today], low[today]
        range_sum += bar_true_range(previous_high, previous_low, previous_close)
        previous_close = close[today]
        if down_move > 0 and up_move < down_move:
            minus_dm += down_move
        elif up_move > 0 and up_move > down_move:
            plus_dm += up_move
    sum_dx = 0.0
    adx_value = 0.0
    for today in range(start + period, n_bars):
        up_move = high[today] - previous_high
        down_move = previous_low - low[today]
        previous_high, previous_low = high[today], low[today]
        bar_range = bar_true_range(previous_high, previous_low, previous_close)
        previous_close = close[today]
        minus_dm -= minus_dm / period  # Wilder smoothing of the sums
        plus_dm -= plus_dm / period
        # Adding 0.0 leaves a sum >= 0 unchanged, and selects beat the coin-flip branches here.
        minus_dm += down_move if (down_move > 0 and up_move < down_move) else 0.0
        plus_dm += up_move if (up_move > 0 and up_move > down_move) else 0.0
        range_sum = range_sum - (range_sum / period) + bar_range
        dx = _directional_index(plus_dm, minus_dm, range_sum)
        if today < first_out:
            if not np.isnan(dx):
                sum_dx += dx
            continue
        if today == first_out:
            if not np.isnan(dx):
                sum_dx += dx
            adx_value = sum_dx / period
        elif not np.isnan(dx):
            adx_value = ((adx_value * (period - 1)) + dx) / period
        out[today] = adx_value
    return out


@njit(cache=True)
def macd_nb(values: np.ndarray, fast_period: int, slow_period: int, signal_period: int) -> tuple[np.ndarray, ...]:
    """MACD as TA-Lib computes it: both EMAs seeded on the same bar, the signal EMA seeded with an SMA.

    The fast EMA's seed is the mean of the ``fast_period`` values ending where the slow seed ends
    (bar ``slow_period - 1``), not the usual bar ``fast_period - 1``: TA-Lib's alignment, kept.
    """
    n_bars = len(values)
    start = first_valid(values)
    seed_end = start + slow_period - 1
    first_out = seed_end + signal_period - 1
    line, signal, histogram = nan_until(n_bars, first_out), nan_until(n_bars, first_out), nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return line, signal, histogram
    slow_total = 0.0
    fast_total = 0.0
    for i in range(start, seed_end + 1):
        slow_total += values[i]
        if i > seed_end - fast_period:
            fast_total += values[i]
    fast, slow = fast_total / fast_period, slow_total / slow_period
    fast_k, slow_k, signal_k = 2.0 / (fast_period + 1), 2.0 / (slow_period + 1), 2.0 / (signal_period + 1)
    signal_value = fast - slow
    for i in range(seed_end + 1, first_out + 1):
        fast = (values[i] - fast) * fast_k + fast
        slow = (values[i] - slow) * slow_k + slow
        signal_value += fast - slow
    signal_value /= signal_period
    macd_value = fast - slow
    line[first_out], signal[first_out], histogram[first_out] = macd_value, signal_value, macd_value - signal_value
    for i in range(first_out + 1, n_bars):
        fast = (values[i] - fast) * fast_k + fast
        slow = (values[i] - slow) * slow_k + slow
        macd_value = fast - slow
        signal_value = (macd_value - signal_value) * signal_k + signal_value
        line[i], signal[i], histogram[i] = macd_value, signal_value, macd_value - signal_value
    return line, signal, histogram


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average directional index (equals TA-Lib ``ADX``); first value at ``2·period - 1``."""
    return adx_nb(*high_low_close(high, low, close), check_period(period))


def macd(values: ArrayLike, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9) -> MACD:
    """Return the MACD line, its signal line and the histogram (equal TA-Lib ``MACD``).

    All three start at bar ``slow_period + signal_period - 2``, as in TA-Lib (the fast EMA is seeded
    on the same bar as the slow one, so the line differs slightly from EMA(fast) - EMA(slow) at first).
    """
    array = as_float_array(values, "values")
    fast_period = check_period(fast_period, "fast_period", minimum=2)
    slow_period = check_period(slow_period, "slow_period", minimum=2)
    signal_period = check_period(signal_period, "signal_period")
    if fast_period >= slow_period:
        raise ValueError(
            f"fast_period < slow_period must hold, got fast_period={fast_period}, slow_period={slow_period}"
        )
    return MACD(*macd_nb(array, fast_period, slow_period, signal_period))
