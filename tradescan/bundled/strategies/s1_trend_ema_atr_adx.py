"""S1: trend following on an EMA cross, only while ADX says the market trends.

Long when EMA(fast) > EMA(slow), short when EMA(fast) < EMA(slow), in both cases only while
ADX(adx_period) > ``adx_th``. A trend strategy signals on every bar of a trend; the engine ignores
signals while a position is open. Stop = max(k_sl·ATR, min_sl_pips pips); target = max(k_tp·ATR,
min_tp_pips pips), or none when ``use_tp`` is false.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradescan import Bars, Signals, Strategy
from tradescan.indicators import adx, atr, ema, ema_pair_atr_adx


class TrendEmaAtrAdx(Strategy):
    """EMA(fast)/EMA(slow) trend with an ADX filter and ATR stops (seed 003's S1)."""

    name = "S1_TREND_EMA_ATR_ADX"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        ema_fast: int = Field(20, ge=2, le=500, description="fast EMA period (bars)")
        ema_slow: int = Field(50, ge=3, le=1000, description="slow EMA period (bars)")
        adx_period: int = Field(14, ge=2, le=200, description="ADX period (bars)")
        adx_th: float = Field(25.0, ge=0.0, le=100.0, description="trade only while ADX > adx_th")
        atr_period: int = Field(14, ge=1, le=500, description="ATR period for stop and target (bars)")
        k_sl: float = Field(2.5, gt=0.0, le=20.0, description="stop distance in ATRs")
        min_sl_pips: float = Field(8.0, gt=0.0, le=100_000.0, description="smallest stop distance (pips)")
        k_tp: float = Field(1.5, gt=0.0, le=50.0, description="target distance in ATRs")
        min_tp_pips: float = Field(8.0, gt=0.0, le=100_000.0, description="smallest target distance (pips)")
        use_tp: bool = Field(True, description="place a target; false = exit by stop or time only")

        @model_validator(mode="after")
        def _fast_below_slow(self) -> TrendEmaAtrAdx.Params:
            if self.ema_fast >= self.ema_slow:
                raise ValueError(
                    f"ema_fast < ema_slow must hold, but got (ema_fast={self.ema_fast}, ema_slow={self.ema_slow})"
                )
            return self

    def warmup(self, params: Params) -> int:
        """Return the first bar where both EMAs, ADX and ATR are defined."""
        return max(params.ema_slow - 1, 2 * params.adx_period - 1, params.atr_period)

    def signals(self, bars: Bars, params: Params) -> Signals:
        """Return +1/-1 on trending bars by EMA order, with ATR-based stop and target distances."""
        fast, slow, atr_values, adx_values = _indicators(bars, params)
        pip_size = bars.instrument.pip_size
        entry, stop, target = _signals_nb(
            fast, slow, adx_values, atr_values, float(params.adx_th), float(params.k_sl),
            params.min_sl_pips * pip_size, float(params.k_tp), params.min_tp_pips * pip_size, params.use_tp,
            self.warmup(params),
        )
        return Signals(entry=entry, stop_distance=stop, target_distance=target)


def _indicators(bars: Bars, params: TrendEmaAtrAdx.Params) -> tuple[np.ndarray, ...]:
    """Return EMA(fast), EMA(slow), ATR and ADX through the bars' cache.

    When ADX and at least one of the others are missing (fresh bars, or a sweep's new ADX period),
    the missing ones come from one fused pass (``ema_pair_atr_adx``, equal bit for bit): the fused
    pass costs about what ADX alone costs. Otherwise each missing one is computed on its own.
    """
    keys = (("ema", params.ema_fast), ("ema", params.ema_slow), ("atr", params.atr_period),
            ("adx", params.adx_period))
    missing = [not bars.is_cached(key) for key in keys]
    if missing[3] and sum(missing) >= 2:
        fused = ema_pair_atr_adx(bars.high, bars.low, bars.close, params.ema_fast, params.ema_slow,
                                 params.atr_period, params.adx_period)
        return tuple(_cached_as(bars, key, values) for key, values in zip(keys, fused, strict=True))
    return (
        bars.cached(keys[0], lambda: ema(bars.close, params.ema_fast)),
        bars.cached(keys[1], lambda: ema(bars.close, params.ema_slow)),
        bars.cached(keys[2], lambda: atr(bars.high, bars.low, bars.close, params.atr_period)),
        bars.cached(keys[3], lambda: adx(bars.high, bars.low, bars.close, params.adx_period)),
    )


def _cached_as(bars: Bars, key: tuple[str, int], values: np.ndarray) -> np.ndarray:
    """Store ``values`` under ``key`` unless the cache has it already; return the cached array."""
    return bars.cached(key, lambda: values)


@njit(cache=True)
def _signals_nb(
    fast: np.ndarray, slow: np.ndarray, adx_values: np.ndarray, atr_values: np.ndarray, adx_th: float,
    k_sl: float, min_stop: float, k_tp: float, min_target: float, use_tp: bool, warmup: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry, stop and target distance per bar in one pass (the NumPy form took eight).

    stop = max(k_sl·ATR, min_stop), NaN while ATR is NaN (``atr_distance``'s rule); the same for the
    target, all NaN without ``use_tp``. Entry = +1 when EMA(fast) > EMA(slow), -1 when below, 0 when
    equal or NaN, kept only where ADX > adx_th and the stop is defined, and 0 before ``warmup``.
    """
    n_bars = len(fast)
    entry = np.zeros(n_bars, dtype=np.int8)
    stop = np.empty(n_bars)
    target = np.empty(n_bars)
    for i in range(n_bars):
        distance = atr_values[i] * k_sl
        if distance < min_stop:
            distance = min_stop
        stop[i] = distance
        if use_tp:
            distance = atr_values[i] * k_tp
            if distance < min_target:
                distance = min_target
            target[i] = distance
        else:
            target[i] = np.nan
        if i >= warmup and adx_values[i] > adx_th and not np.isnan(stop[i]):
            if fast[i] > slow[i]:
                entry[i] = 1
            elif fast[i] < slow[i]:
                entry[i] = -1
    return entry, stop, target
