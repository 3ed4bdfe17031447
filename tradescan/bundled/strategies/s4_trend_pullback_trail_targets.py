"""S4: buy pullbacks in a trend, scale out at three targets, trail the rest, leave when the trend turns.

Trend: EMA(ema_fast) above EMA(ema_slow) is an up-trend, below a down-trend. Entry: in an up-trend,
long when RSI(rsi_period) crosses back up through ``rsi_pullback`` (below it on the previous bar, at
or above it now: the pullback is over); in a down-trend, short when RSI crosses back down through
``100 - rsi_pullback``. Stop = max(k_sl·ATR, min_sl_pips pips) from the entry; the plan closes 40 %
at TP1 = r_tp1 stop distances, 30 % at TP2 = r_tp2 and 30 % at TP3 = r_tp3 (r_tp1 < r_tp2 < r_tp3,
so the targets always progress); after TP1 the stop moves to break-even (``break_even``). The stop
trails at max(k_trail·ATR, min_sl_pips pips) behind the best price since entry (read at the signal
bar, moved after each close, never backwards). Exit signal: a long closes at the next open once
EMA(fast) falls below EMA(slow), a short once it rises above — the trend the trade relied on is gone.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradescan import Bars, Signals, Strategy
from tradescan.indicators import atr, atr_distance, ema, rsi, shift


class TrendPullbackTrailTargets(Strategy):
    """EMA trend, RSI pullback entries, a three-target plan with break-even, a trailing stop, trend exits."""

    name = "S4_TREND_PULLBACK_TRAIL_TARGETS"
    TARGET_FRACTIONS: ClassVar[tuple[float, float, float]] = (0.4, 0.3, 0.3)  # of the position, per target

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        ema_fast: int = Field(20, ge=2, le=500, description="fast EMA period of the trend (bars)")
        ema_slow: int = Field(100, ge=3, le=1000, description="slow EMA period of the trend (bars)")
        rsi_period: int = Field(14, ge=2, le=200, description="RSI period (bars)")
        rsi_pullback: float = Field(40.0, gt=0.0, lt=50.0, description="long when RSI crosses up through this")
        atr_period: int = Field(14, ge=1, le=500, description="ATR period for stop and trail (bars)")
        k_sl: float = Field(2.0, gt=0.0, le=20.0, description="stop distance in ATRs")
        min_sl_pips: float = Field(5.0, gt=0.0, le=100_000.0, description="smallest stop and trail distance (pips)")
        k_trail: float = Field(3.0, gt=0.0, le=20.0, description="trailing distance in ATRs")
        r_tp1: float = Field(1.0, gt=0.0, le=20.0, description="TP1 in stop distances (closes 40 %)")
        r_tp2: float = Field(2.0, gt=0.0, le=30.0, description="TP2 in stop distances (closes 30 %)")
        r_tp3: float = Field(3.5, gt=0.0, le=50.0, description="TP3 in stop distances (closes 30 %)")
        break_even: bool = Field(True, description="move the stop to the entry after TP1")

        @model_validator(mode="after")
        def _ordered(self) -> TrendPullbackTrailTargets.Params:
            if self.ema_fast >= self.ema_slow:
                raise ValueError(
                    f"ema_fast < ema_slow must hold, but got (ema_fast={self.ema_fast}, ema_slow={self.ema_slow})"
                )
            if not self.r_tp1 < self.r_tp2 < self.r_tp3:
                raise ValueError(
                    f"r_tp1 < r_tp2 < r_tp3 must hold (targets progress), but got "
                    f"(r_tp1={self.r_tp1}, r_tp2={self.r_tp2}, r_tp3={self.r_tp3})"
                )
            return self

    def warmup(self, params: Params) -> int:
        """Return the first bar where both EMAs, the RSI and its previous value, and the ATR exist."""
        return max(params.ema_slow - 1, params.rsi_period + 1, params.atr_period)

    def signals(self, bars: Bars, params: Params) -> Signals:
        """Return pullback entries in the trend, trend-flip exits, the trail and the three-target plan."""
        fast = bars.cached(("ema", params.ema_fast), lambda: ema(bars.close, params.ema_fast))
        slow = bars.cached(("ema", params.ema_slow), lambda: ema(bars.close, params.ema_slow))
        rsi_values = bars.cached(("rsi", params.rsi_period), lambda: rsi(bars.close, params.rsi_period))
        atr_values = bars.cached(
            ("atr", params.atr_period), lambda: atr(bars.high, bars.low, bars.close, params.atr_period)
        )
        previous_rsi = shift(rsi_values, 1)
        up = fast > slow  # NaN compares False: no trend before both EMAs exist
        down = fast < slow
        low_level, high_level = params.rsi_pullback, 100.0 - params.rsi_pullback
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[up & (previous_rsi < low_level) & (rsi_values >= low_level)] = 1
        entry[down & (previous_rsi > high_level) & (rsi_values <= high_level)] = -1
        pip_size = bars.instrument.pip_size
        stop = atr_distance(atr_values, params.k_sl, params.min_sl_pips, pip_size)
        trail = atr_distance(atr_values, params.k_trail, params.min_sl_pips, pip_size)
        entry[np.isnan(stop)] = 0
        entry[: self.warmup(params)] = 0
        exit_signal = down.view(np.int8) - up.view(np.int8)  # +1 closes a long in a down-trend, -1 a short
        targets = np.column_stack([stop * params.r_tp1, stop * params.r_tp2, stop * params.r_tp3])
        return Signals(
            entry=entry,
            stop_distance=stop,
            exit=exit_signal,
            trail_distance=trail,
            targets=targets,
            target_fractions=self.TARGET_FRACTIONS,
            break_even=params.break_even,
        )
