"""Technical indicators on NumPy arrays: NumPy in, float64 NumPy out, NaN during warm-up.

``ema``, ``sma``, ``true_range``, ``atr`` and ``adx`` reproduce TA-Lib's ``EMA``, ``SMA``, ``TRANGE``,
``ATR`` and ``ADX`` value for value (SMA-seeded EMA, Wilder smoothing, TA-Lib's own order of floating
point operations and its NaN lead), so anyone can check them against a library they trust.

NaN inputs:
    * Leading NaNs are skipped, as TA-Lib's Python wrapper does: the indicator starts at the first bar
      where every input is a number, and its warm-up counts from there.
    * A NaN after that point poisons every later value of the TA-Lib-equal indicators (``ema``,
      ``atr``, ``adx`` and ``sma``, whose running sum keeps it), exactly as in TA-Lib. Bars never
      contain NaN (the data layer rejects them), so this only concerns derived series.
    * ``rolling_zscore``, ``rolling_max`` and ``rolling_min`` are NaN wherever their window holds a
      NaN and recover once it has left the window.

Strategies share indicators across the trials of a sweep through ``Bars.cached``; the keys used by
the bundled strategies are ``("ema", period)`` for the EMA of the close, ``("atr", period)``,
``("adx", period)`` and ``("true_range",)``: a key names the function and every argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

__all__ = [
    "adx",
    "atr",
    "ema",
    "rolling_max",
    "rolling_min",
    "rolling_zscore",
    "shift",
    "slope",
    "sma",
    "true_range",
]

# TA-Lib's TA_IS_ZERO: ADX skips a bar's DX when the smoothed range or the DI sum is this close to 0.
_TA_ZERO = 1e-8


def _as_float_array(values: ArrayLike, label: str) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional, got shape {array.shape}")
    return array


def _check_period(period: int, label: str = "period", minimum: int = 1) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ValueError(f"{label} must be an integer >= {minimum}, got {period!r}")
    return int(period)


def _first_valid(*arrays: np.ndarray) -> int:
    """Return the first index where every array is a number (``len`` when there is none)."""
    valid = np.ones(len(arrays[0]), dtype=bool)
    for array in arrays:
        valid &= ~np.isnan(array)
    hits = np.flatnonzero(valid)
    return int(hits[0]) if len(hits) else len(valid)


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have the same length, got {lengths}")


# --- compiled kernels (NumPy in, NumPy out; inputs start at their first valid bar) -------------------


@njit(cache=True)
def sma_nb(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average with TA-Lib's running sum; first value at ``period - 1``."""
    n_bars = len(values)
    out = np.full(n_bars, np.nan)
    if n_bars < period:
        return out
    period_total = 0.0
    for i in range(period - 1):
        period_total += values[i]
    for i in range(period - 1, n_bars):
        period_total += values[i]
        window_total = period_total
        period_total -= values[i - period + 1]
        out[i] = window_total / period
    return out


@njit(cache=True)
def ema_nb(values: np.ndarray, period: int) -> np.ndarray:
    """EMA seeded with the SMA of the first ``period`` values (TA-Lib's default); k = 2/(period+1)."""
    n_bars = len(values)
    out = np.full(n_bars, np.nan)
    if n_bars < period:
        return out
    total = 0.0
    for i in range(period):
        total += values[i]
    previous = total / period
    out[period - 1] = previous
    k = 2.0 / (period + 1)
    for i in range(period, n_bars):
        previous = (values[i] - previous) * k + previous
        out[i] = previous
    return out


@njit(cache=True)
def _bar_true_range(high: float, low: float, previous_close: float) -> float:
    value = high - low
    up_gap = abs(high - previous_close)
    if up_gap > value:
        value = up_gap
    down_gap = abs(low - previous_close)
    if down_gap > value:
        value = down_gap
    return value


@njit(cache=True)
def true_range_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(high - low, |high - previous close|, |low - previous close|); NaN on the first bar."""
    n_bars = len(close)
    out = np.full(n_bars, np.nan)
    for i in range(1, n_bars):
        out[i] = _bar_true_range(high[i], low[i], close[i - 1])
    return out


@njit(cache=True)
def atr_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ATR: the mean of TR[1..period] at bar ``period``, then (ATR·(n-1) + TR) / n."""
    n_bars = len(close)
    out = np.full(n_bars, np.nan)
    if n_bars <= period:
        return out
    ranges = true_range_nb(high, low, close)
    total = 0.0
    for i in range(1, period + 1):
        total += ranges[i]
    previous = total / period
    out[period] = previous
    for i in range(period + 1, n_bars):
        previous = (previous * (period - 1) + ranges[i]) / period
        out[i] = previous
    return out


@njit(cache=True)
def _is_zero(value: float) -> bool:
    return -_TA_ZERO < value < _TA_ZERO


@njit(cache=True)
def adx_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ADX as TA-Lib computes it; first value at bar ``2·period - 1``."""
    n_bars = len(close)
    out = np.full(n_bars, np.nan)
    lookback = 2 * period - 1
    if n_bars <= lookback:
        return out
    previous_high, previous_low, previous_close = high[0], low[0], close[0]
    plus_dm = 0.0
    minus_dm = 0.0
    range_sum = 0.0
    sum_dx = 0.0
    adx_value = 0.0
    for today in range(1, n_bars):
        up_move = high[today] - previous_high
        down_move = previous_low - low[today]
        previous_high, previous_low = high[today], low[today]
        bar_range = _bar_true_range(previous_high, previous_low, previous_close)
        previous_close = close[today]
        if today >= period:  # from here on the sums decay (Wilder smoothing)
            minus_dm -= minus_dm / period
            plus_dm -= plus_dm / period
        if down_move > 0 and up_move < down_move:
            minus_dm += down_move
        elif up_move > 0 and up_move > down_move:
            plus_dm += up_move
        if today < period:
            range_sum += bar_range
            continue
        range_sum = range_sum - (range_sum / period) + bar_range
        dx = np.nan
        if not _is_zero(range_sum):
            minus_di = 100.0 * (minus_dm / range_sum)
            plus_di = 100.0 * (plus_dm / range_sum)
            di_sum = minus_di + plus_di
            if not _is_zero(di_sum):
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        if today < lookback:
            if not np.isnan(dx):
                sum_dx += dx
            continue
        if today == lookback:
            if not np.isnan(dx):
                sum_dx += dx
            adx_value = sum_dx / period
        elif not np.isnan(dx):
            adx_value = ((adx_value * (period - 1)) + dx) / period
        out[today] = adx_value
    return out


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
def rolling_max_nb(values: np.ndarray, window: int) -> np.ndarray:
    """Highest value of the last ``window`` values (current included), with a monotonic queue."""
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
            while tail > head and values[queue[tail - 1]] <= value:
                tail -= 1
            queue[tail] = i
            tail += 1
        while tail > head and queue[head] <= i - window:
            head += 1
        if i >= window - 1 and last_nan <= i - window and tail > head:
            out[i] = values[queue[head]]
    return out


# --- public functions ------------------------------------------------------------------------------


def _from_first_valid(kernel: Any, arrays: tuple[np.ndarray, ...], *args: int) -> np.ndarray:
    start = _first_valid(*arrays)
    out = np.full(len(arrays[0]), np.nan)
    if start < len(out):
        out[start:] = kernel(*(array[start:] for array in arrays), *args)
    return out


def sma(values: ArrayLike, period: int) -> np.ndarray:
    """Return the simple moving average of ``values`` over ``period`` bars (equals TA-Lib ``SMA``)."""
    array = _as_float_array(values, "values")
    return _from_first_valid(sma_nb, (array,), _check_period(period))


def ema(values: ArrayLike, period: int) -> np.ndarray:
    """Return the exponential moving average (SMA-seeded; equals TA-Lib ``EMA``).

    The first value is at bar ``period - 1`` (counted from the first non-NaN input).
    """
    array = _as_float_array(values, "values")
    return _from_first_valid(ema_nb, (array,), _check_period(period))


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> np.ndarray:
    """Return the true range per bar (equals TA-Lib ``TRANGE``); NaN on the first bar."""
    arrays = _ohlc(high, low, close)
    return _from_first_valid(true_range_nb, arrays)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average true range (equals TA-Lib ``ATR``); first value at bar ``period``."""
    arrays = _ohlc(high, low, close)
    return _from_first_valid(atr_nb, arrays, _check_period(period))


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average directional index (equals TA-Lib ``ADX``); first value at ``2·period - 1``."""
    arrays = _ohlc(high, low, close)
    return _from_first_valid(adx_nb, arrays, _check_period(period))


def rolling_zscore(values: ArrayLike, window: int, ddof: int = 0) -> np.ndarray:
    """Return (value - rolling mean) / rolling std over the last ``window`` values, current included.

    ``ddof=0`` is the population std. Where the std is 0 (a window of equal values) the z-score is 0.
    The first value is at bar ``window - 1``.
    """
    array = _as_float_array(values, "values")
    window = _check_period(window, "window")
    if ddof < 0 or window <= ddof:
        raise ValueError(f"window must be > ddof >= 0, got window={window}, ddof={ddof}")
    return rolling_zscore_nb(array, window, int(ddof))


def rolling_max(values: ArrayLike, window: int) -> np.ndarray:
    """Return the highest of the last ``window`` values, current bar included."""
    array = _as_float_array(values, "values")
    return rolling_max_nb(array, _check_period(window, "window"))


def rolling_min(values: ArrayLike, window: int) -> np.ndarray:
    """Return the lowest of the last ``window`` values, current bar included."""
    array = _as_float_array(values, "values")
    return -rolling_max_nb(-array, _check_period(window, "window"))


def shift(values: ArrayLike, periods: int = 1) -> np.ndarray:
    """Return ``values`` delayed by ``periods`` bars (``out[t] = values[t - periods]``), NaN-filled."""
    array = _as_float_array(values, "values")
    periods = _check_period(periods, "periods", minimum=0)
    out = np.full(len(array), np.nan)
    out[periods:] = array[: len(array) - periods]
    return out


def slope(values: ArrayLike, lag: int = 1) -> np.ndarray:
    """Return the change per bar over ``lag`` bars: ``(values[t] - values[t - lag]) / lag``."""
    array = _as_float_array(values, "values")
    lag = _check_period(lag, "lag")
    return (array - shift(array, lag)) / lag


def _ohlc(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = (
        _as_float_array(high, "high"),
        _as_float_array(low, "low"),
        _as_float_array(close, "close"),
    )
    _same_length(high=arrays[0], low=arrays[1], close=arrays[2])
    return arrays
