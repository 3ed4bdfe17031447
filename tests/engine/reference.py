"""A slow, obvious pure-Python implementation of DESIGN §4, to check the compiled kernel against.

It is written from the design text, not from the kernel: one scenario at a time, a plain ``for`` loop
with a dict per trade, costs computed per fill from the formula (with TR and ATR14 from TA-Lib, the
library the indicators promise to equal). It must agree with ``tradescan.engine`` exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import talib


@dataclass
class ReferenceSettings:
    """Everything the reference needs besides the bars and the signals, for one scenario."""

    pip_size: float
    spread_pips: float
    base_pips: float
    atr_k: float
    spike_tr_atr: float
    spike_mult: float
    spread_mult: float
    slippage_mult: float
    slippage_add_pips: float
    spikes: bool
    warmup: int = 0
    max_hold_bars: int | None = None
    stops_from: str = "fill"
    initial: float = 10000.0
    risk_per_trade: float = 0.002
    compounding: bool = True
    commission_per_lot: float = 0.0
    contract_size: float = 100000.0
    base_is_account: bool = False  # value of a price unit = 1/price
    quote_value: np.ndarray | None = None  # per bar; None = 1.0
    extra: dict[str, Any] = field(default_factory=dict)


def fill_cost_pips(bar: int, high: np.ndarray, low: np.ndarray, close: np.ndarray, cfg: ReferenceSettings) -> float:
    """Cost in pips of one fill on ``bar`` (spread half + slippage), straight from DESIGN §4."""
    true_range = talib.TRANGE(high, low, close)
    atr14 = talib.ATR(high, low, close, timeperiod=14)
    previous_atr = atr14[bar - 1] if bar >= 1 else math.nan
    if bar >= 1 and math.isfinite(previous_atr) and previous_atr > 0 and math.isfinite(true_range[bar]):
        ratio = true_range[bar] / previous_atr
    else:
        ratio = 1.0
    core = cfg.base_pips + cfg.atr_k * ratio
    if cfg.spikes and ratio > cfg.spike_tr_atr:
        core = core * cfg.spike_mult
    slippage = core * cfg.slippage_mult + cfg.slippage_add_pips
    return cfg.spread_pips * cfg.spread_mult / 2.0 + slippage


def _value(bar: int, price: float, cfg: ReferenceSettings) -> float:
    quote_value = 1.0 if cfg.quote_value is None else float(cfg.quote_value[bar])
    return quote_value / price if cfg.base_is_account else quote_value


def run_reference(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    cfg: ReferenceSettings,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Return (trades, equity per bar) for one cost scenario."""
    n_bars = len(close)
    costs = [fill_cost_pips(b, high, low, close, cfg) for b in range(n_bars)]
    atr14 = talib.ATR(high, low, close, timeperiod=14)
    pip = cfg.pip_size
    commission_per_unit = cfg.commission_per_lot / cfg.contract_size
    trades: list[dict[str, Any]] = []
    equity = np.zeros(n_bars)
    realised = cfg.initial
    position: dict[str, Any] | None = None

    for b in range(n_bars):
        if position is not None:
            side = position["side"]
            stop, target = position["stop_price"], position["target_price"]
            has_stop, has_target = not math.isnan(stop), not math.isnan(target)
            exit_price, reason = None, None
            gap_allowed = b > position["entry_idx"] or cfg.stops_from == "signal_close"
            if gap_allowed:
                if has_stop and ((side == 1 and open_[b] <= stop) or (side == -1 and open_[b] >= stop)):
                    exit_price, reason = open_[b], "SL"
                elif has_target and (
                    (side == 1 and open_[b] >= target) or (side == -1 and open_[b] <= target)
                ):
                    exit_price, reason = open_[b], "TP"
            if reason is None:
                stop_hit = has_stop and ((side == 1 and low[b] <= stop) or (side == -1 and high[b] >= stop))
                target_hit = has_target and (
                    (side == 1 and high[b] >= target) or (side == -1 and low[b] <= target)
                )
                if stop_hit:  # also when the target is inside the same bar: the stop wins
                    exit_price, reason = stop, "SL"
                elif target_hit:
                    exit_price, reason = target, "TP"
                elif cfg.max_hold_bars is not None and b == position["signal_idx"] + cfg.max_hold_bars:
                    exit_price, reason = close[b], "TIME"
                elif b == n_bars - 1:
                    exit_price, reason = close[b], "EOD"
            if reason is not None:
                exit_cost = costs[b]
                exit_fill = exit_price - side * exit_cost * pip
                size = position["size"]
                pnl = size * (exit_fill - position["entry_fill"]) * side * _value(b, exit_fill, cfg)
                pnl -= commission_per_unit * size * 2
                gross = (exit_price - position["entry_price"]) * side / pip
                cost = position["entry_cost"] + exit_cost
                trades.append(
                    {
                        **position,
                        "exit_idx": b,
                        "exit_price": exit_price,
                        "exit_fill": exit_fill,
                        "exit_reason": reason,
                        "gross_pips": gross,
                        "cost_pips": cost,
                        "net_pips": gross - cost,
                        "pnl": pnl,
                        "r_multiple": pnl / position["risk_amount"] if size > 0 else math.nan,
                        "bars_held": b - position["entry_idx"] + 1,
                    }
                )
                realised += pnl
                position = None

        equity[b] = realised
        if position is not None:
            size = position["size"]
            equity[b] += size * (close[b] - position["entry_fill"]) * position["side"] * _value(b, close[b], cfg)
            equity[b] -= commission_per_unit * size

        signal = int(entry[b])
        can_signal = b >= 1 and b >= cfg.warmup and b < n_bars - 1
        if position is None and signal != 0 and can_signal:
            entry_cost = costs[b + 1]
            entry_fill = open_[b + 1] + signal * entry_cost * pip
            reference_price = entry_fill if cfg.stops_from == "fill" else close[b]
            risk_amount = cfg.risk_per_trade * (realised if cfg.compounding else cfg.initial)
            risk_amount = max(risk_amount, 0.0)
            risk_distance = stop_distance[b] if math.isfinite(stop_distance[b]) else atr14[b]
            value = _value(b, entry_fill, cfg)
            size = 0.0
            if math.isfinite(risk_distance) and risk_distance > 0 and risk_amount > 0:
                size = risk_amount / (risk_distance * value)
            position = {
                "side": signal,
                "signal_idx": b,
                "entry_idx": b + 1,
                "entry_price": open_[b + 1],
                "entry_fill": entry_fill,
                "entry_cost": entry_cost,
                "stop_price": reference_price - signal * stop_distance[b],
                "target_price": reference_price + signal * target_distance[b],
                "size": size,
                "risk_amount": risk_amount,
            }
    return trades, equity
