"""S3: breakout out of a volatility compression, in the direction of the long-term trend.

Compression: the z-score of ATR% (ATR(atr_period) / close · 100) over ``compression_window`` bars
is below ``compression_z_low``. Up-breakout: close > the highest high of the previous
``breakout_window`` bars (the current bar excluded); down-breakout: close < their lowest low. Longs
only above EMA(ema_trend), shorts only below. Stop = max(k_sl·ATR, min_sl_pips pips); target =
max(k_tp·ATR, min_tp_pips pips) when ``k_tp`` is set, else none.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradescan import Bars, Signals, Strategy
from tradescan.indicators import atr, atr_distance, ema, rolling_max, rolling_min, rolling_zscore, shift


class BreakoutAtrRegimeEma200(Strategy):
    """Donchian breakout filtered by ATR% compression and an EMA(200) bias (seed 003's S3)."""

    name = "S3_BREAKOUT_ATR_REGIME_EMA200"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        breakout_window: int = Field(55, ge=2, le=2000, description="bars of the range to break (current excluded)")
        compression_window: int = Field(100, ge=2, le=5000, description="z-score window of ATR% (bars)")
        compression_z_low: float = Field(-0.5, ge=-10.0, le=10.0, description="compressed while z < this")
        ema_trend: int = Field(200, ge=2, le=2000, description="trend EMA period (bars)")
        atr_period: int = Field(14, ge=1, le=500, description="ATR period (bars)")
        k_sl: float = Field(2.0, gt=0.0, le=20.0, description="stop distance in ATRs")
        min_sl_pips: float = Field(5.0, gt=0.0, le=100_000.0, description="smallest stop distance (pips)")
        k_tp: float | None = Field(None, gt=0.0, le=50.0, description="target in ATRs; None = no target")
        min_tp_pips: float = Field(5.0, gt=0.0, le=100_000.0, description="smallest target distance (pips)")

    def warmup(self, params: Params) -> int:
        """Return the first bar where the compression z-score, the range and the EMA are defined."""
        return max(
            params.atr_period + params.compression_window - 1,
            params.breakout_window,
            params.ema_trend - 1,
        )

    def signals(self, bars: Bars, params: Params) -> Signals:
        """Return +1/-1 on breakout bars during a compression, on the side of EMA(ema_trend)."""
        atr_values = bars.cached(
            ("atr", params.atr_period), lambda: atr(bars.high, bars.low, bars.close, params.atr_period)
        )
        compression_z = bars.cached(
            ("zscore_atr_pct", params.atr_period, params.compression_window),
            lambda: rolling_zscore(atr_values / bars.close * 100.0, params.compression_window),
        )
        range_high = bars.cached(
            ("previous_max", "high", params.breakout_window),
            lambda: shift(rolling_max(bars.high, params.breakout_window), 1),
        )
        range_low = bars.cached(
            ("previous_min", "low", params.breakout_window),
            lambda: shift(rolling_min(bars.low, params.breakout_window), 1),
        )
        trend = bars.cached(("ema", params.ema_trend), lambda: ema(bars.close, params.ema_trend))
        close = bars.close
        compressed = compression_z < params.compression_z_low
        pip_size = bars.instrument.pip_size
        stop = atr_distance(atr_values, params.k_sl, params.min_sl_pips, pip_size)
        target = atr_distance(atr_values, params.k_tp, params.min_tp_pips, pip_size)
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[compressed & (close > range_high) & (close > trend)] = 1
        entry[compressed & (close < range_low) & (close < trend)] = -1
        entry[np.isnan(stop)] = 0
        entry[: self.warmup(params)] = 0
        return Signals(entry=entry, stop_distance=stop, target_distance=target)
