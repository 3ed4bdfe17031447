"""S2: mean reversion to an EMA, only in a quiet, flat market.

z = rolling z-score of (close - EMA(ema_base)) over ``z_window`` bars. Trades only while
ADX(adx_period) < ``adx_max`` and the EMA's slope is flat: |EMA[t] - EMA[t - slope_lag]| / slope_lag,
measured in ATRs per bar, < ``slope_th`` (ATRs make one threshold work for EURUSD and BTC alike).
Short when z >= ``z_entry``, long when z <= -``z_entry``. Stop = max(k_sl·ATR, min_sl_pips pips);
target = max(k_tp·ATR, min_tp_pips pips) when ``k_tp`` is set, else none.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tradescan import Bars, Signals, Strategy
from tradescan.indicators import adx, atr, atr_distance, ema, rolling_zscore, slope


class MeanReversionZscoreEmaRegime(Strategy):
    """Fade z-score extremes around EMA(base) when ADX is low and the EMA is flat (seed 003's S2)."""

    name = "S2_MR_ZSCORE_EMA_REGIME"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        ema_base: int = Field(200, ge=2, le=2000, description="EMA the price reverts to (bars)")
        z_window: int = Field(30, ge=2, le=2000, description="z-score window of close - EMA (bars)")
        z_entry: float = Field(2.0, gt=0.0, le=10.0, description="enter when |z| >= z_entry")
        adx_period: int = Field(14, ge=2, le=200, description="ADX period (bars)")
        adx_max: float = Field(20.0, gt=0.0, le=100.0, description="trade only while ADX < adx_max")
        slope_lag: int = Field(20, ge=1, le=1000, description="bars over which the EMA slope is measured")
        slope_th: float = Field(0.05, gt=0.0, le=10.0, description="trade only while |slope| < slope_th (ATR/bar)")
        atr_period: int = Field(14, ge=1, le=500, description="ATR period (bars)")
        k_sl: float = Field(2.0, gt=0.0, le=20.0, description="stop distance in ATRs")
        min_sl_pips: float = Field(5.0, gt=0.0, le=100_000.0, description="smallest stop distance (pips)")
        k_tp: float | None = Field(None, gt=0.0, le=50.0, description="target in ATRs; None = no target")
        min_tp_pips: float = Field(5.0, gt=0.0, le=100_000.0, description="smallest target distance (pips)")

    def warmup(self, params: Params) -> int:
        """Return the first bar where the z-score, slope, ADX and ATR are all defined."""
        ema_ready = params.ema_base - 1
        return max(
            ema_ready + params.z_window - 1,
            ema_ready + params.slope_lag,
            2 * params.adx_period - 1,
            params.atr_period,
        )

    def signals(self, bars: Bars, params: Params) -> Signals:
        """Return -1 on stretched-up bars and +1 on stretched-down bars inside the quiet regime."""
        base = bars.cached(("ema", params.ema_base), lambda: ema(bars.close, params.ema_base))
        z_values = bars.cached(
            ("zscore_close_minus_ema", params.ema_base, params.z_window),
            lambda: rolling_zscore(bars.close - base, params.z_window),
        )
        base_slope = bars.cached(
            ("ema_slope", params.ema_base, params.slope_lag), lambda: slope(base, params.slope_lag)
        )
        adx_values = bars.cached(
            ("adx", params.adx_period), lambda: adx(bars.high, bars.low, bars.close, params.adx_period)
        )
        atr_values = bars.cached(
            ("atr", params.atr_period), lambda: atr(bars.high, bars.low, bars.close, params.atr_period)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            slope_in_atrs = np.abs(base_slope) / atr_values
        quiet = (adx_values < params.adx_max) & (slope_in_atrs < params.slope_th)
        pip_size = bars.instrument.pip_size
        stop = atr_distance(atr_values, params.k_sl, params.min_sl_pips, pip_size)
        target = atr_distance(atr_values, params.k_tp, params.min_tp_pips, pip_size)
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[quiet & (z_values <= -params.z_entry)] = 1
        entry[quiet & (z_values >= params.z_entry)] = -1
        entry[np.isnan(stop)] = 0
        entry[: self.warmup(params)] = 0
        return Signals(entry=entry, stop_distance=stop, target_distance=target)
