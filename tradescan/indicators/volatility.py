"""Volatility: true range, Wilder's ATR, Bollinger Bands, and the ATR-based stop/target distance."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import (
    as_float_array,
    bar_true_range,
    check_period,
    check_positive,
    first_valid,
    first_valid_bar,
    high_low_close,
    nan_until,
)
from tradescan.indicators.moving_averages import sma_nb


class BollingerBands(NamedTuple):
    """Bollinger Bands: ``middle ± num_std · σ`` with σ the population std of the window."""

    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


@njit(cache=True)
def true_range_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(high - low, |high - previous close|, |low - previous close|); NaN on the first bar."""
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    out = nan_until(n_bars, start + 1)
    for i in range(start + 1, n_bars):
        out[i] = bar_true_range(high[i], low[i], close[i - 1])
    return out


@njit(cache=True)
def atr_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ATR: the mean of TR[1..period] at bar ``period``, then (ATR·(n-1) + TR) / n."""
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    first_out = start + period
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    total = 0.0
    for i in range(start + 1, first_out + 1):
        total += bar_true_range(high[i], low[i], close[i - 1])
    previous = total / period
    out[first_out] = previous
    for i in range(first_out + 1, n_bars):
        previous = (previous * (period - 1) + bar_true_range(high[i], low[i], close[i - 1])) / period
        out[i] = previous
    return out


@njit(cache=True)
def rolling_population_std_nb(values: np.ndarray, mean: np.ndarray, period: int) -> np.ndarray:
    """Population std of each ``period``-bar window around the given window mean (two passes per bar).

    Deviations from the mean rather than a running sum of squares: on prices near 40,000 with a
    std of a few units, E[x²] - E[x]² loses most of its digits.
    """
    n_bars = len(values)
    start = first_valid(values)
    first_out = start + period - 1
    out = nan_until(n_bars, first_out)
    for i in range(first_out, n_bars):
        squares = 0.0
        for j in range(i - period + 1, i + 1):
            deviation = values[j] - mean[i]
            squares += deviation * deviation
        out[i] = math.sqrt(squares / period)
    return out


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> np.ndarray:
    """Return the true range per bar (equals TA-Lib ``TRANGE``); NaN on the first bar."""
    return true_range_nb(*high_low_close(high, low, close))


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average true range (equals TA-Lib ``ATR``); first value at bar ``period``.

    TradingView's ``ta.atr`` starts a bar earlier and from another seed: see ``atr_tradingview``.
    """
    return atr_nb(*high_low_close(high, low, close), check_period(period))


def bollinger_bands(values: ArrayLike, period: int = 20, num_std: float = 2.0) -> BollingerBands:
    """Return Bollinger Bands: SMA(period) ± ``num_std`` population standard deviations.

    Equals TA-Lib ``BBANDS(values, period, num_std, num_std, MA_Type.SMA)`` (TA-Lib's std is the
    population one, divisor ``period``); the first value is at bar ``period - 1``. The default 20
    bars is Bollinger's own (TA-Lib's default is 5).
    """
    array = as_float_array(values, "values")
    period = check_period(period, minimum=2)
    num_std = check_positive(num_std, "num_std")
    middle = sma_nb(array, period)
    width = rolling_population_std_nb(array, middle, period) * num_std
    return BollingerBands(upper=middle + width, middle=middle, lower=middle - width)


def atr_distance(atr_values: np.ndarray, k_atr: float | None, min_pips: float, pip_size: float) -> np.ndarray:
    """Return ``max(k_atr · ATR, min_pips · pip_size)`` per bar, in price units: a stop or target distance.

    NaN where the ATR is NaN (warm-up), so no signal gets a level it cannot have; all NaN when
    ``k_atr`` is ``None`` (the strategy places no such level).
    """
    if k_atr is None:
        return np.full(len(atr_values), np.nan)
    distance = np.multiply(atr_values, k_atr)
    np.maximum(distance, min_pips * pip_size, out=distance)
    return distance
