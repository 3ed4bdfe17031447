"""TradingView's own definitions: ``ta.atr`` and ``ta.supertrend``, as Pine Script computes them.

These follow Pine, not TA-Lib, so that a Pine export of a strategy sees the same values. Pine's ATR
is ``ta.rma(ta.tr(true), n)``: the first bar's true range is its high - low, and the first ATR is
the mean of the first ``n`` true ranges at bar ``n - 1`` — one bar earlier than TA-Lib's ``ATR``,
from another seed (the two converge as Wilder's smoothing forgets the seed).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import (
    bar_true_range,
    check_period,
    check_positive,
    first_valid_bar,
    high_low_close,
    nan_until,
)

# Pine's ta.supertrend direction: -1 while the trend is up (the line is the lower band, under the
# price), +1 while it is down (the line is the upper band).
SUPERTREND_UP = -1.0
SUPERTREND_DOWN = 1.0


class SuperTrend(NamedTuple):
    """``ta.supertrend``'s two series: the line and the direction (-1 up-trend, +1 down-trend, as Pine)."""

    line: np.ndarray
    direction: np.ndarray


@njit(cache=True)
def atr_tradingview_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Pine's ``ta.atr``: RMA of the true range, the first bar's range being high - low."""
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    first_out = start + period - 1
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    total = high[start] - low[start]
    for i in range(start + 1, first_out + 1):
        total += bar_true_range(high[i], low[i], close[i - 1])
    previous = total / period
    out[first_out] = previous
    for i in range(first_out + 1, n_bars):
        previous = (previous * (period - 1) + bar_true_range(high[i], low[i], close[i - 1])) / period
        out[i] = previous
    return out


@njit(cache=True)
def supertrend_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, factor: float, atr_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pine's ``ta.supertrend(factor, atrPeriod)`` bar by bar.

    The bands ``hl2 ± factor·ATR`` only tighten while the previous close stays inside them; the
    trend flips when the close crosses the band on the other side. The first value (direction +1,
    the line on the upper band) is on the first bar with an ATR, but never on the very first bar,
    where TradingView reports 0 before any state exists; as in Pine, the trend test compares the
    previous line with the previous upper band (not the previous direction).
    """
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    atr_values = atr_tradingview_nb(high, low, close, atr_period)
    first_out = max(start + atr_period - 1, start + 1)
    line, direction = np.full(n_bars, np.nan), np.full(n_bars, np.nan)
    if first_out >= n_bars:
        return line, direction
    previous_upper = (high[first_out] + low[first_out]) / 2 + factor * atr_values[first_out]
    previous_lower = (high[first_out] + low[first_out]) / 2 - factor * atr_values[first_out]
    line[first_out], direction[first_out] = previous_upper, SUPERTREND_DOWN
    for i in range(first_out + 1, n_bars):
        if np.isnan(atr_values[i]) or np.isnan(close[i]):  # a NaN poisons the ATR, and so the rest
            break
        middle = (high[i] + low[i]) / 2
        upper = middle + factor * atr_values[i]
        lower = middle - factor * atr_values[i]
        if not (lower > previous_lower or close[i - 1] < previous_lower):
            lower = previous_lower
        if not (upper < previous_upper or close[i - 1] > previous_upper):
            upper = previous_upper
        if line[i - 1] == previous_upper:
            direction[i] = SUPERTREND_UP if close[i] > upper else SUPERTREND_DOWN
        else:
            direction[i] = SUPERTREND_DOWN if close[i] < lower else SUPERTREND_UP
        line[i] = upper if direction[i] == SUPERTREND_DOWN else lower
        previous_upper, previous_lower = upper, lower
    return line, direction


def atr_tradingview(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return TradingView's ``ta.atr(period)``; first value at bar ``period - 1`` (TA-Lib's ``atr``: ``period``)."""
    return atr_tradingview_nb(*high_low_close(high, low, close), check_period(period))


def supertrend(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, factor: float = 3.0, atr_period: int = 10
) -> SuperTrend:
    """Return TradingView's ``ta.supertrend(factor, atr_period)``: the line and the direction.

    ``direction`` is -1 in an up-trend (the line is a support under the price) and +1 in a
    down-trend, Pine's convention; both are NaN before bar ``max(atr_period - 1, 1)``. TA-Lib has no
    SuperTrend; the tests check this against a Pine runtime and Pine's reference script.
    """
    arrays = high_low_close(high, low, close)
    return SuperTrend(*supertrend_nb(*arrays, check_positive(factor, "factor"), check_period(atr_period, "atr_period")))
