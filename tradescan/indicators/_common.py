"""Input checks and small compiled helpers shared by every indicator family."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

# TA-Lib's TA_IS_ZERO: several TA-Lib functions treat a value this close to 0 as 0 (ADX skips the bar's
# DX, RSI and CCI output 0, KAMA takes an efficiency ratio of 1); the TA-Lib-equal kernels do the same.
TA_ZERO = 1e-8


def as_float_array(values: ArrayLike, label: str) -> np.ndarray:
    """Return ``values`` as a contiguous, read-only, one-dimensional float64 array."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional, got shape {array.shape}")
    if array.flags.writeable:
        # Numba compiles one version per array type and read-only is a type of its own; the bars'
        # arrays are read-only, so a read-only view of every input keeps one version per kernel.
        array = array.view()
        array.flags.writeable = False
    return array


def check_period(period: int, label: str = "period", minimum: int = 1) -> int:
    """Return ``period`` as an int, or raise naming the argument, the rule and the value."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ValueError(f"{label} must be an integer >= {minimum}, got {period!r}")
    return int(period)


def check_positive(value: float, label: str) -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{label} must be a number > 0, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{label} must be a number > 0, got {value!r}")
    return float(value)


def same_length(**arrays: np.ndarray) -> None:
    """Raise if the arrays do not all have one length (their lengths are named in the message)."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have the same length, got {lengths}")


def high_low_close(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the three price arrays checked and converted, of one length."""
    arrays = (as_float_array(high, "high"), as_float_array(low, "low"), as_float_array(close, "close"))
    same_length(high=arrays[0], low=arrays[1], close=arrays[2])
    return arrays


def high_low(high: ArrayLike, low: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return the high and low arrays checked and converted, of one length."""
    arrays = (as_float_array(high, "high"), as_float_array(low, "low"))
    same_length(high=arrays[0], low=arrays[1])
    return arrays


# --- compiled helpers --------------------------------------------------------------------------------
#
# The TA-Lib kernels find the first bar where every input is a number themselves (a scan over the
# NaN lead only), write NaN up to their first value and run TA-Lib's recurrence from there: one pass,
# no copies. ``np.empty`` rather than ``np.full`` because every element is written exactly once.


@njit(cache=True)
def first_valid(values: np.ndarray) -> int:
    """Return the first index where ``values`` is a number (``len`` when there is none)."""
    for i in range(len(values)):
        if not np.isnan(values[i]):
            return i
    return len(values)


@njit(cache=True)
def first_valid_bar(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> int:
    """Return the first index where high, low and close are all numbers (``len`` when none)."""
    for i in range(len(close)):
        if not (np.isnan(high[i]) or np.isnan(low[i]) or np.isnan(close[i])):
            return i
    return len(close)


@njit(cache=True)
def nan_until(n_bars: int, first_value_at: int) -> np.ndarray:
    """Return an uninitialised float array of ``n_bars`` with NaN before ``first_value_at``."""
    out = np.empty(n_bars)
    out[: min(first_value_at, n_bars)] = np.nan
    return out


@njit(cache=True)
def is_zero(value: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO``: ``|value| < 1e-8``."""
    return -TA_ZERO < value < TA_ZERO


@njit(cache=True)
def bar_true_range(high: float, low: float, previous_close: float) -> float:
    """Return max(high - low, |high - previous close|, |low - previous close|) for one bar."""
    value = high - low
    up_gap = abs(high - previous_close)
    if up_gap > value:
        value = up_gap
    down_gap = abs(low - previous_close)
    if down_gap > value:
        value = down_gap
    return value
