"""Volatility regime per bar (DESIGN §5): LOW / MID / HIGH from a z-score of ATR%, plus a spike flag.

ATR%(n) = ATR(n) / close · 100; z = rolling z-score of ATR% over ``window`` bars (population std,
z = 0 where the std is 0). The regime is LOW when z < ``z_low``, HIGH when z > ``z_high``, else MID,
and UNKNOWN while z is not yet defined (the first ``atr_n + window - 1`` bars). SPIKE marks a bar whose
true range exceeds ``spike_th`` times the ATR *of the same bar* (that ATR already contains the bar's
own range, which damps the ratio a little; both choices are causal). The spike flag is False where
the ATR is not defined yet.

Everything is causal. ``regime_codes`` is the vectorised form the backtest uses; ``RegimeStream``
computes the same codes bar by bar, as a live feed would, with the same floating point operations in
the same order, so the two agree exactly (the regime-mismatch guard compares them).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from tradescan.frozen import FrozenModel
from tradescan.indicators import atr, rolling_zscore, true_range

__all__ = [
    "VOL_HIGH",
    "VOL_LOW",
    "VOL_MID",
    "VOL_NAMES",
    "VOL_UNKNOWN",
    "RegimeSettings",
    "RegimeStream",
    "regime_codes",
    "regime_codes_streaming",
    "regime_label",
    "regime_labels",
]

VOL_UNKNOWN = 0
VOL_LOW = 1
VOL_MID = 2
VOL_HIGH = 3
VOL_NAMES = ("UNKNOWN", "LOW", "MID", "HIGH")


class RegimeSettings(FrozenModel):
    """Regime parameters (defaults from seed 003's example config)."""

    atr_n: int = Field(default=14, ge=1, le=10_000)
    window: int = Field(default=960, ge=2, le=1_000_000)
    z_low: float = -0.5
    z_high: float = 0.5
    spike_th: float = Field(default=2.5, gt=0)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> RegimeSettings:
        if self.z_low > self.z_high:
            raise ValueError(f"z_low <= z_high must hold, but got (z_low={self.z_low}, z_high={self.z_high})")
        return self

    @property
    def warmup(self) -> int:
        """Bars labelled UNKNOWN at the start of a series."""
        return self.atr_n + self.window - 1


def regime_codes(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    settings: RegimeSettings | None = None,
    *,
    atr_values: np.ndarray | None = None,
    true_range_values: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(vol_code, spike)`` per bar: ``VOL_*`` codes as int8 and spike flags as bool.

    ``atr_values`` (ATR(``settings.atr_n``)) and ``true_range_values`` may be passed when the caller
    already holds them (a backtest session does), to save recomputing them.
    """
    settings = settings or RegimeSettings()
    close_values = np.ascontiguousarray(close, dtype=np.float64)
    if atr_values is None:
        atr_values = atr(high, low, close_values, settings.atr_n)
    if true_range_values is None:
        true_range_values = true_range(high, low, close_values)
    atr_pct = atr_values / close_values
    atr_pct *= 100.0
    z_values = rolling_zscore(atr_pct, settings.window)
    with np.errstate(divide="ignore", invalid="ignore"):
        spike = np.divide(true_range_values, atr_values)
    return _classify(z_values, settings), np.greater(spike, settings.spike_th)


def _classify(z_values: np.ndarray, settings: RegimeSettings) -> np.ndarray:
    codes = np.full(len(z_values), VOL_MID, dtype=np.int8)
    codes[z_values < settings.z_low] = VOL_LOW
    codes[z_values > settings.z_high] = VOL_HIGH
    codes[np.isnan(z_values)] = VOL_UNKNOWN
    return codes


def regime_label(vol_code: int, spike: bool) -> str:
    """Return the label of one bar, e.g. ``"VOL=MID|SPIKE=0"``."""
    return f"VOL={VOL_NAMES[int(vol_code)]}|SPIKE={int(bool(spike))}"


_LABELS = np.array(
    [regime_label(code, spike) for code in range(len(VOL_NAMES)) for spike in (False, True)], dtype=object
)


def regime_labels(vol_code: ArrayLike, spike: ArrayLike) -> np.ndarray:
    """Return the label of every bar as an object array (vectorised ``regime_label``)."""
    codes = np.asarray(vol_code, dtype=np.int64)
    flags = np.asarray(spike, dtype=bool)
    return _LABELS[codes * 2 + flags]


class RegimeStream:
    """Bar-by-bar regime, as a live feed computes it: O(1) work per bar.

    Mirrors ``tradescan.indicators.atr`` (Wilder, SMA-seeded) and ``rolling_zscore`` (running sums
    re-anchored every ``window`` bars) operation for operation. Inputs must be finite.
    """

    def __init__(self, settings: RegimeSettings | None = None) -> None:
        self.settings = settings or RegimeSettings()
        self._bars_seen = 0
        self._previous_close = math.nan
        self._range_total = 0.0
        self._atr = math.nan
        self._zscore = _ZScoreStream(self.settings.window)

    def update(self, high: float, low: float, close: float) -> tuple[int, bool]:
        """Add one closed bar and return its ``(vol_code, spike)``."""
        bar_range = self._update_atr(float(high), float(low), float(close))
        z_value = self._zscore.update(self._atr / float(close) * 100.0)
        if math.isnan(self._atr):
            return VOL_UNKNOWN, False
        # ATR = 0 with a non-zero range is an infinite ratio, as in the vectorised division.
        spike = bar_range > 0.0 if self._atr == 0.0 else bar_range / self._atr > self.settings.spike_th
        return _classify_one(z_value, self.settings), bool(spike)

    def _update_atr(self, high: float, low: float, close: float) -> float:
        period = self.settings.atr_n
        index = self._bars_seen
        self._bars_seen += 1
        if index == 0:
            self._previous_close = close
            return math.nan
        bar_range = _bar_true_range(high, low, self._previous_close)
        self._previous_close = close
        if index <= period:
            self._range_total += bar_range
            if index == period:
                self._atr = self._range_total / period
        else:
            self._atr = (self._atr * (period - 1) + bar_range) / period
        return bar_range


class _ZScoreStream:
    """One step of ``indicators.rolling_zscore_nb`` (ddof 0) per call, NaN handling included."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._index = 0
        self._values: deque[float] = deque(maxlen=window)
        self._previous = math.nan
        self._run_length = 0
        self._anchor = math.nan
        self._sum_1 = 0.0
        self._sum_2 = 0.0
        self._nan_count = 0

    def update(self, value: float) -> float:
        window, index = self.window, self._index
        self._index += 1
        self._run_length = self._run_length + 1 if index > 0 and value == self._previous else 1
        self._previous = value
        leaving = self._values[0] if len(self._values) == window else math.nan
        self._values.append(value)
        if (index + 1) % window == 0:
            self._reanchor(value)
        else:
            self._add(value, +1.0)
            if index >= window:
                self._add(leaving, -1.0)
        if index < window - 1 or self._nan_count > 0:
            return math.nan
        if self._run_length >= window:
            return 0.0
        mean = self._sum_1 / window
        variance = (self._sum_2 - self._sum_1 * self._sum_1 / window) / window
        return (value - self._anchor - mean) / math.sqrt(variance) if variance > 0.0 else 0.0

    def _add(self, value: float, sign: float) -> None:
        if math.isnan(value):
            self._nan_count += 1 if sign > 0 else -1
            return
        if math.isnan(self._anchor):
            self._anchor = value
        deviation = value - self._anchor
        if sign > 0:
            self._sum_1 += deviation
            self._sum_2 += deviation * deviation
        else:
            self._sum_1 -= deviation
            self._sum_2 -= deviation * deviation

    def _reanchor(self, value: float) -> None:
        if not math.isnan(value):
            self._anchor = value
        self._sum_1 = 0.0
        self._sum_2 = 0.0
        self._nan_count = 0
        for member in self._values:
            self._add(member, +1.0)


def _bar_true_range(high: float, low: float, previous_close: float) -> float:
    value = high - low
    value = max(value, abs(high - previous_close))
    return max(value, abs(low - previous_close))


def _classify_one(z_value: float, settings: RegimeSettings) -> int:
    if math.isnan(z_value):
        return VOL_UNKNOWN
    if z_value < settings.z_low:
        return VOL_LOW
    if z_value > settings.z_high:
        return VOL_HIGH
    return VOL_MID


def regime_codes_streaming(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, settings: RegimeSettings | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(vol_code, spike)`` computed bar by bar with ``RegimeStream`` (a live feed's view)."""
    stream = RegimeStream(settings)
    high_values, low_values, close_values = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    codes = np.empty(len(close_values), dtype=np.int8)
    spikes = np.empty(len(close_values), dtype=bool)
    for i, bar in enumerate(zip(high_values.tolist(), low_values.tolist(), close_values.tolist(), strict=True)):
        codes[i], spikes[i] = stream.update(*bar)
    return codes, spikes
