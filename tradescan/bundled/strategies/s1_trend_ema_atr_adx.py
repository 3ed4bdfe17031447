"""S1: trend following on an EMA cross, only while ADX says the market trends.

Long when EMA(fast) > EMA(slow), short when EMA(fast) < EMA(slow), in both cases only while
ADX(adx_period) > ``adx_th``. A trend strategy signals on every bar of a trend; the engine ignores
signals while a position is open. Stop = max(k_sl·ATR, min_sl_pips pips); target = max(k_tp·ATR,
min_tp_pips pips), or none when ``use_tp`` is false.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradescan import Bars, Signals, Strategy
from tradescan.indicators import adx, atr, atr_distance, ema


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
        fast = bars.cached(("ema", params.ema_fast), lambda: ema(bars.close, params.ema_fast))
        slow = bars.cached(("ema", params.ema_slow), lambda: ema(bars.close, params.ema_slow))
        adx_values = bars.cached(
            ("adx", params.adx_period), lambda: adx(bars.high, bars.low, bars.close, params.adx_period)
        )
        atr_values = bars.cached(
            ("atr", params.atr_period), lambda: atr(bars.high, bars.low, bars.close, params.atr_period)
        )
        # In-place NumPy passes: each temporary of a long series costs a pass and fresh pages.
        pip_size = bars.instrument.pip_size
        stop = atr_distance(atr_values, params.k_sl, params.min_sl_pips, pip_size)  # NaN while ATR is undefined
        target = atr_distance(atr_values, params.k_tp if params.use_tp else None, params.min_tp_pips, pip_size)
        entry = np.greater(fast, slow).view(np.int8)  # +1 / -1 / 0 by EMA order (0 when equal or NaN)
        entry -= np.less(fast, slow).view(np.int8)
        tradable = np.greater(adx_values, params.adx_th)
        tradable &= ~np.isnan(stop)
        entry *= tradable
        entry[: self.warmup(params)] = 0
        return Signals(entry=entry, stop_distance=stop, target_distance=target)
