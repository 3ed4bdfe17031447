"""Momentum oscillators: RSI, the slow stochastic and CCI, each equal to TA-Lib's."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.indicators._common import (
    as_float_array,
    check_period,
    first_valid,
    first_valid_bar,
    high_low_close,
    is_zero,
    nan_until,
)
from tradescan.indicators.moving_averages import sma_nb
from tradescan.indicators.rolling import rolling_max_nb, rolling_min_nb

# Lambert's constant: it scales CCI so that most values fall within ±100.
_CCI_SCALE = 0.015


class Stochastic(NamedTuple):
    """The slow stochastic: ``k`` is the smoothed %K, ``d`` its moving average, both in 0..100."""

    k: np.ndarray
    d: np.ndarray


@njit(cache=True)
def _rsi_value(average_gain: float, average_loss: float) -> float:
    total = average_gain + average_loss
    return 0.0 if is_zero(total) else 100.0 * (average_gain / total)


@njit(cache=True)
def rsi_nb(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI as TA-Lib computes it: 100·gain/(gain + loss) of Wilder-smoothed averages."""
    n_bars = len(values)
    start = first_valid(values)
    first_out = start + period
    out = nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(start + 1, first_out + 1):
        change = values[i] - values[i - 1]
        if change < 0.0:
            loss -= change
        else:
            gain += change
    gain /= period
    loss /= period
    out[first_out] = _rsi_value(gain, loss)
    for i in range(first_out + 1, n_bars):
        change = values[i] - values[i - 1]
        loss *= period - 1
        gain *= period - 1
        if change < 0.0:
            loss -= change
        else:
            gain += change
        loss /= period
        gain /= period
        out[i] = _rsi_value(gain, loss)
    return out


@njit(cache=True)
def fast_stochastic_k_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Raw %K: 100·(close - lowest low)/(highest high - lowest low) over ``period`` bars; 0 on a flat range."""
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    highest = rolling_max_nb(high, period)
    lowest = rolling_min_nb(low, period)
    out = nan_until(n_bars, start + period - 1)
    for i in range(start + period - 1, n_bars):
        scaled_range = (highest[i] - lowest[i]) / 100.0  # TA-Lib's order of operations
        out[i] = (close[i] - lowest[i]) / scaled_range if scaled_range != 0.0 else 0.0
    return out


@njit(cache=True)
def stochastic_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk_period: int, slowk_period: int, slowd_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slow %K = SMA(raw %K, slowk), %D = SMA(slow %K, slowd); both start on %D's first bar, as in TA-Lib."""
    slow_k = sma_nb(fast_stochastic_k_nb(high, low, close, fastk_period), slowk_period)
    slow_d = sma_nb(slow_k, slowd_period)
    first_out = first_valid_bar(high, low, close) + fastk_period + slowk_period + slowd_period - 3
    slow_k[: min(first_out, len(slow_k))] = np.nan
    return slow_k, slow_d


@njit(cache=True)
def cci_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Commodity channel index: (TP - mean TP) / (0.015 · mean |TP - mean TP|), TP = (high+low+close)/3.

    The window is summed in the order of TA-Lib's circular buffer (slot ``(bar - first bar) % period``
    first), so that the cancellation in TP - mean rounds as TA-Lib's does; a difference or a mean
    deviation under 1e-8 gives 0, as in TA-Lib.
    """
    n_bars = len(close)
    start = first_valid_bar(high, low, close)
    first_out = start + period - 1
    out = nan_until(n_bars, first_out)
    typical = (high + low + close) / 3
    for i in range(first_out, n_bars):
        # Slot 0 holds bar i - r (r = (i - start) % period): the buffer reads bars i-r..i, then the
        # older i-period+1..i-r-1.
        newest_run = i - (i - start) % period
        mean = 0.0
        for j in range(newest_run, i + 1):
            mean += typical[j]
        for j in range(i - period + 1, newest_run):
            mean += typical[j]
        mean /= period
        deviation_sum = 0.0
        for j in range(newest_run, i + 1):
            deviation_sum += abs(typical[j] - mean)
        for j in range(i - period + 1, newest_run):
            deviation_sum += abs(typical[j] - mean)
        difference = typical[i] - mean
        if is_zero(difference) or is_zero(deviation_sum):
            out[i] = 0.0
        else:
            out[i] = difference / (_CCI_SCALE * (deviation_sum / period))
    return out


def rsi(values: ArrayLike, period: int = 14) -> np.ndarray:
    """Return Wilder's relative strength index, 0..100 (equals TA-Lib ``RSI``); first value at bar ``period``.

    Where the average gain plus the average loss is under 1e-8 (a flat series) the RSI is 0, as in TA-Lib.
    """
    array = as_float_array(values, "values")
    return rsi_nb(array, check_period(period, minimum=2))


def stochastic(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> Stochastic:
    """Return the slow stochastic %K and %D (equal TA-Lib ``STOCH`` with SMA smoothing, its defaults).

    Raw %K uses the highest high and lowest low of the last ``fastk_period`` bars, current included
    (0 when they are equal); both lines start at bar ``fastk_period + slowk_period + slowd_period - 3``.
    """
    arrays = high_low_close(high, low, close)
    periods = (
        check_period(fastk_period, "fastk_period"),
        check_period(slowk_period, "slowk_period"),
        check_period(slowd_period, "slowd_period"),
    )
    return Stochastic(*stochastic_nb(*arrays, *periods))


def cci(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> np.ndarray:
    """Return the commodity channel index (equals TA-Lib ``CCI``); first value at bar ``period - 1``."""
    return cci_nb(*high_low_close(high, low, close), check_period(period, minimum=2))
