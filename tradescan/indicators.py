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

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

__all__ = [
    "adx",
    "atr",
    "atr_distance",
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
    if array.flags.writeable:
        # Numba compiles one version per array type and read-only is a type of its own; the bars'
        # arrays are read-only, so a read-only view of every input keeps one version per kernel.
        array = array.view()
        array.flags.writeable = False
    return array


def _check_period(period: int, label: str = "period", minimum: int = 1) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ValueError(f"{label} must be an integer >= {minimum}, got {period!r}")
    return int(period)


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have the same length, got {lengths}")


# --- compiled kernels (NumPy in, NumPy out) ---------------------------------------------------------
#
# The TA-Lib kernels find the first bar where every input is a number themselves (a scan over the
# NaN lead only), write NaN up to their first value and run TA-Lib's recurrence from there: one pass,
# no copies. ``np.empty`` rather than ``np.full`` because every element is written exactly once.


@njit(cache=True)
def _first_valid(values: np.ndarray) -> int:
    """Return the first index where ``values`` is a number (``len`` when there is none)."""
    for i in range(len(values)):
        if not np.isnan(values[i]):
            return i
    return len(values)


@njit(cache=True)
def _first_valid_bar(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> int:
    """Return the first index where high, low and close are all numbers (``len`` when none)."""
    for i in range(len(close)):
        if not (np.isnan(high[i]) or np.isnan(low[i]) or np.isnan(close[i])):
            return i
    return len(close)


@njit(cache=True)
def _nan_until(n_bars: int, first_value_at: int) -> np.ndarray:
    """Return an uninitialised float array of ``n_bars`` with NaN before ``first_value_at``."""
    out = np.empty(n_bars)
    out[: min(first_value_at, n_bars)] = np.nan
    return out


@njit(cache=True)
def sma_nb(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average with TA-Lib's running sum; first value ``period - 1`` bars after the NaN lead."""
    n_bars = len(values)
    start = _first_valid(values)
    first_out = start + period - 1
    out = _nan_until(n_bars, first_out)
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
    start = _first_valid(values)
    first_out = start + period - 1
    out = _nan_until(n_bars, first_out)
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
    start = _first_valid_bar(high, low, close)
    out = _nan_until(n_bars, start + 1)
    for i in range(start + 1, n_bars):
        out[i] = _bar_true_range(high[i], low[i], close[i - 1])
    return out


@njit(cache=True)
def atr_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ATR: the mean of TR[1..period] at bar ``period``, then (ATR·(n-1) + TR) / n."""
    n_bars = len(close)
    start = _first_valid_bar(high, low, close)
    first_out = start + period
    out = _nan_until(n_bars, first_out)
    if first_out >= n_bars:
        return out
    total = 0.0
    for i in range(start + 1, first_out + 1):
        total += _bar_true_range(high[i], low[i], close[i - 1])
    previous = total / period
    out[first_out] = previous
    for i in range(first_out + 1, n_bars):
        previous = (previous * (period - 1) + _bar_true_range(high[i], low[i], close[i - 1])) / period
        out[i] = previous
    return out


@njit(cache=True)
def _is_zero(value: float) -> bool:
    return -_TA_ZERO < value < _TA_ZERO


@njit(cache=True)
def _directional_index(plus_dm: float, minus_dm: float, range_sum: float) -> float:
    """Return TA-Lib's DX from the smoothed +DM, -DM and range; NaN where TA-Lib skips the bar."""
    if _is_zero(range_sum):
        return np.nan
    minus_di = 100.0 * (minus_dm / range_sum)
    plus_di = 100.0 * (plus_dm / range_sum)
    di_sum = minus_di + plus_di
    if _is_zero(di_sum):
        return np.nan
    return 100.0 * (abs(minus_di - plus_di) / di_sum)


@njit(cache=True)
def adx_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ADX as TA-Lib computes it; first value ``2·period - 1`` bars after the NaN lead.

    The first loop sums the first ``period - 1`` moves and ranges; the second smooths them, sums
    ``period`` DX values for the seed and then smooths the ADX.
    """
    n_bars = len(close)
    start = _first_valid_bar(high, low, close)
    first_out = start + 2 * period - 1
    out = _nan_until(n_bars, first_out)
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
        range_sum += _bar_true_range(previous_high, previous_low, previous_close)
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
        bar_range = _bar_true_range(previous_high, previous_low, previous_close)
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
            while tail > head and (
                values[queue[tail - 1]] <= value if highest else values[queue[tail - 1]] >= value
            ):
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


# --- public functions ------------------------------------------------------------------------------


def sma(values: ArrayLike, period: int) -> np.ndarray:
    """Return the simple moving average of ``values`` over ``period`` bars (equals TA-Lib ``SMA``)."""
    array = _as_float_array(values, "values")
    return sma_nb(array, _check_period(period))


def ema(values: ArrayLike, period: int) -> np.ndarray:
    """Return the exponential moving average (SMA-seeded; equals TA-Lib ``EMA``).

    The first value is at bar ``period - 1`` (counted from the first non-NaN input).
    """
    array = _as_float_array(values, "values")
    return ema_nb(array, _check_period(period))


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> np.ndarray:
    """Return the true range per bar (equals TA-Lib ``TRANGE``); NaN on the first bar."""
    arrays = _ohlc(high, low, close)
    return true_range_nb(*arrays)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average true range (equals TA-Lib ``ATR``); first value at bar ``period``."""
    arrays = _ohlc(high, low, close)
    return atr_nb(*arrays, _check_period(period))


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> np.ndarray:
    """Return Wilder's average directional index (equals TA-Lib ``ADX``); first value at ``2·period - 1``."""
    arrays = _ohlc(high, low, close)
    return adx_nb(*arrays, _check_period(period))


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
    return rolling_min_nb(array, _check_period(window, "window"))


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
