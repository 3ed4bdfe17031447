"""EMA(fast), EMA(slow), ATR and ADX in one pass, each bit-identical to its own function.

A trend strategy such as S1 needs all four on fresh bars (the first trial of a sweep, every
``tradescan.backtest`` call). Computed one by one they are four passes whose loop-carried
recurrences (a division per bar for Wilder's smoothing) each wait on the previous bar; in one loop
the CPU runs the independent recurrences side by side, so the four cost about what ADX alone costs.
Every value is computed with exactly the operations, in the order, of ``ema_nb``, ``atr_nb`` and
``adx_nb`` (the true range once, shared), so the results equal theirs bit for bit, and TA-Lib's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tradescan.indicators._common import (
    bar_true_range,
    check_period,
    first_valid,
    first_valid_bar,
    high_low_close,
    nan_until,
)
from tradescan.indicators.moving_averages import ema
from tradescan.indicators.trend import _directional_index, adx
from tradescan.indicators.volatility import atr


class TrendSet(NamedTuple):
    """The four series ``ema_pair_atr_adx`` returns (equal to ``ema``, ``ema``, ``atr``, ``adx``)."""

    ema_fast: np.ndarray
    ema_slow: np.ndarray
    atr: np.ndarray
    adx: np.ndarray


@njit(cache=True)
def _ema_seed(values: np.ndarray, period: int) -> float:
    total = 0.0
    for i in range(period):
        total += values[i]
    return total / period


@njit(cache=True)
def ema_pair_atr_adx_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fast_period: int, slow_period: int,
    atr_period: int, adx_period: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return EMA(fast), EMA(slow) of the close, ATR and ADX; the inputs must have no NaN lead.

    Needs ``len(close) > max(fast, slow, atr_period + 1, 2·adx_period)`` (``ema_pair_atr_adx``
    checks both and otherwise computes the four one by one).
    """
    n_bars = len(close)
    fast_out, slow_out = nan_until(n_bars, fast_period - 1), nan_until(n_bars, slow_period - 1)
    atr_out, adx_out = nan_until(n_bars, atr_period), nan_until(n_bars, 2 * adx_period - 1)
    # Seeds, as ema_nb and atr_nb make them: sums of the first values, then one division.
    fast = _ema_seed(close, fast_period)
    slow = _ema_seed(close, slow_period)
    fast_out[fast_period - 1], slow_out[slow_period - 1] = fast, slow
    fast_k, slow_k = 2.0 / (fast_period + 1), 2.0 / (slow_period + 1)
    atr_total = 0.0
    for i in range(1, atr_period + 1):
        atr_total += bar_true_range(high[i], low[i], close[i - 1])
    atr_value = atr_total / atr_period
    atr_out[atr_period] = atr_value
    # ADX's first loop (adx_nb): the first adx_period - 1 moves and ranges, summed.
    plus_dm = 0.0
    minus_dm = 0.0
    range_sum = 0.0
    for today in range(1, adx_period):
        up_move = high[today] - high[today - 1]
        down_move = low[today - 1] - low[today]
        range_sum += bar_true_range(high[today], low[today], close[today - 1])
        if down_move > 0 and up_move < down_move:
            minus_dm += down_move
        elif up_move > 0 and up_move > down_move:
            plus_dm += up_move
    first_adx = 2 * adx_period - 1
    sum_dx = 0.0
    adx_value = 0.0
    for today in range(min(fast_period, slow_period, atr_period + 1, adx_period), n_bars):
        value = close[today]
        if today >= fast_period:
            fast = (value - fast) * fast_k + fast
            fast_out[today] = fast
        if today >= slow_period:
            slow = (value - slow) * slow_k + slow
            slow_out[today] = slow
        bar_range = bar_true_range(high[today], low[today], close[today - 1])
        if today > atr_period:
            atr_value = (atr_value * (atr_period - 1) + bar_range) / atr_period
            atr_out[today] = atr_value
        if today < adx_period:
            continue
        up_move = high[today] - high[today - 1]
        down_move = low[today - 1] - low[today]
        minus_dm -= minus_dm / adx_period
        plus_dm -= plus_dm / adx_period
        minus_dm += down_move if (down_move > 0 and up_move < down_move) else 0.0
        plus_dm += up_move if (up_move > 0 and up_move > down_move) else 0.0
        range_sum = range_sum - (range_sum / adx_period) + bar_range
        dx = _directional_index(plus_dm, minus_dm, range_sum)
        if today < first_adx:
            if not np.isnan(dx):
                sum_dx += dx
            continue
        if today == first_adx:
            if not np.isnan(dx):
                sum_dx += dx
            adx_value = sum_dx / adx_period
        elif not np.isnan(dx):
            adx_value = ((adx_value * (adx_period - 1)) + dx) / adx_period
        adx_out[today] = adx_value
    return fast_out, slow_out, atr_out, adx_out


def ema_pair_atr_adx(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fast_period: int, slow_period: int,
    atr_period: int, adx_period: int,
) -> TrendSet:
    """Return ``TrendSet(ema(close, fast), ema(close, slow), atr(..., atr_period), adx(..., adx_period))``.

    One pass when the bars start with a number and are long enough for every warm-up (always, for
    bars from the data layer); otherwise the four functions one by one. Equal to them bit for bit.
    """
    arrays = high_low_close(high, low, close)
    periods = [check_period(fast_period, "fast_period"), check_period(slow_period, "slow_period"),
               check_period(atr_period, "atr_period"), check_period(adx_period, "adx_period")]
    n_bars = len(arrays[2])
    one_pass = (
        n_bars > max(periods[0], periods[1], periods[2] + 1, 2 * periods[3])
        and first_valid(arrays[2]) == 0
        and first_valid_bar(*arrays) == 0
    )
    if one_pass:
        return TrendSet(*ema_pair_atr_adx_nb(*arrays, *periods))
    return TrendSet(ema(arrays[2], periods[0]), ema(arrays[2], periods[1]), atr(*arrays, periods[2]),
                    adx(*arrays, periods[3]))
