"""A slow, obvious pure-Python implementation of DESIGN §4, to check the compiled kernel against.

It is written from the design text, not from the kernel: one scenario at a time, a plain ``for`` loop
over the bars with a dict per position and per leg, costs computed per fill from the formula (with
TR and ATR14 from TA-Lib, the library the indicators promise to equal), the TradingView path walked
segment by segment, the trailing stop's best price taken over the bars since entry. It must agree
with ``tradescan.engine`` exactly.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import talib

# What ``run_reference(..., events=Counter())`` counts, so tests can show every rule was reached.
REFERENCE_EVENTS = (
    "partial target fill",          # a target leg closed while other legs stay open
    "targets at the open",          # a gap past a target
    "several targets in one bar",
    "stop moved by the trail",
    "stop moved to break-even",
    "exit at a moved stop",         # a trailed or break-even stop hit (reason SL)
    "gap through a moved stop",
    "exit then re-entry",           # a signal exit and an entry of the same side at one open
    "reversal",                     # a signal exit and an entry of the other side at one open
    "tradingview target before the stop",
    "tradingview stop first",       # the path reached the stop before a target inside the bar
    "on the tick grid",             # a tradingview level moved onto the grid
)
REMAINDER_EPSILON = 1e-9  # fractions summing to 1 within this leave no remainder leg
ON_GRID_TICKS = 1e-6


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
    spread_bps: float = 0.0
    base_bps: float = 0.0
    atr_k_bps: float = 0.0
    slippage_add_bps: float = 0.0
    commission_pct: float = 0.0
    maker_commission_pct: float | None = None  # None = commission_pct
    intrabar: str = "stop_first"
    price_precision: int = 5
    extra: dict[str, Any] = field(default_factory=dict)


def _ratio(bar: int, true_range: np.ndarray, atr14: np.ndarray) -> float:
    previous_atr = atr14[bar - 1] if bar >= 1 else math.nan
    if bar >= 1 and math.isfinite(previous_atr) and previous_atr > 0 and math.isfinite(true_range[bar]):
        return float(true_range[bar] / previous_atr)
    return 1.0


def _slippage(base: float, atr_k: float, add: float, ratio: float, cfg: ReferenceSettings) -> float:
    core = base + atr_k * ratio
    if cfg.spikes and ratio > cfg.spike_tr_atr:
        core = core * cfg.spike_mult
    return core * cfg.slippage_mult + add


def fill_cost_pips(bar: int, high: np.ndarray, low: np.ndarray, close: np.ndarray, cfg: ReferenceSettings) -> float:
    """Pip part of one fill's cost on ``bar`` (spread half + slippage), straight from DESIGN §4."""
    ratio = _ratio(bar, talib.TRANGE(high, low, close), talib.ATR(high, low, close, timeperiod=14))
    slippage = _slippage(cfg.base_pips, cfg.atr_k, cfg.slippage_add_pips, ratio, cfg)
    return cfg.spread_pips * cfg.spread_mult / 2.0 + slippage


def fill_cost_fraction(bar: int, high: np.ndarray, low: np.ndarray, close: np.ndarray, cfg: ReferenceSettings) -> float:
    """Basis-point part of one fill's cost on ``bar``, as a fraction of the fill's raw price."""
    ratio = _ratio(bar, talib.TRANGE(high, low, close), talib.ATR(high, low, close, timeperiod=14))
    slippage = _slippage(cfg.base_bps, cfg.atr_k_bps, cfg.slippage_add_bps, ratio, cfg)
    return (cfg.spread_bps * cfg.spread_mult / 2.0 + slippage) * 1e-4


def on_tick_grid(price: float, precision: int, direction: int) -> float:
    """Put ``price`` on the grid of 10**-precision: itself when on it, else one tick up/down."""
    if not math.isfinite(price):
        return price
    scale = 10.0**precision
    scaled = price * scale
    ticks = float(round(scaled))
    if abs(scaled - ticks) > ON_GRID_TICKS:
        ticks = float(math.ceil(scaled)) if direction > 0 else float(math.floor(scaled))
    return ticks / scale


def _value(bar: int, price: float, cfg: ReferenceSettings) -> float:
    quote_value = 1.0 if cfg.quote_value is None else float(cfg.quote_value[bar])
    return quote_value / price if cfg.base_is_account else quote_value


def _beyond(side: int, price: float, level: float) -> bool:
    """Whether ``price`` is at or past ``level`` in the position's favour (a target reached)."""
    return not math.isnan(level) and side * (price - level) >= 0


def _through(side: int, price: float, stop: float) -> bool:
    """Whether ``price`` is at or past ``stop`` against the position (the stop reached)."""
    return not math.isnan(stop) and side * (price - stop) <= 0


class _Scenario:
    """One scenario's bar-by-bar simulation; ``run`` returns (legs, equity)."""

    def __init__(
        self, bars: tuple[np.ndarray, ...], signals: dict[str, Any], cfg: ReferenceSettings, events: Counter[str]
    ) -> None:
        self.events = events
        self.open, self.high, self.low, self.close = bars
        self.signals = signals
        self.cfg = cfg
        n_bars = len(self.close)
        self.cost_pips = [fill_cost_pips(b, self.high, self.low, self.close, cfg) for b in range(n_bars)]
        self.cost_fraction = [fill_cost_fraction(b, self.high, self.low, self.close, cfg) for b in range(n_bars)]
        self.atr14 = talib.ATR(self.high, self.low, self.close, timeperiod=14)
        self.tradingview = cfg.intrabar == "tradingview"
        self.legs: list[dict[str, Any]] = []
        self.realised = cfg.initial
        self.position: dict[str, Any] | None = None
        self.next_id = 0
        fractions = list(signals["fractions"])
        remainder = 1.0 - sum(fractions)
        self.fractions = fractions + ([remainder] if remainder > REMAINDER_EPSILON else [])

    # ---- costs and legs -------------------------------------------------------------------------

    def fill_cost(self, bar: int, price: float) -> float:
        return self.cost_pips[bar] + self.cost_fraction[bar] * price / self.cfg.pip_size

    def close_leg(self, leg: dict[str, Any], bar: int, exit_price: float, reason: str) -> None:
        position, cfg, pip = self.position, self.cfg, self.cfg.pip_size
        assert position is not None
        side = position["side"]
        exit_cost = self.fill_cost(bar, exit_price)
        exit_fill = exit_price - side * exit_cost * pip
        value = _value(bar, exit_fill, cfg)
        pct = cfg.commission_pct
        if reason == "TP" and cfg.maker_commission_pct is not None:
            pct = cfg.maker_commission_pct
        exit_commission_unit = cfg.commission_per_lot / cfg.contract_size + pct * exit_fill * value
        unit_commission = position["entry_commission_unit"] + exit_commission_unit
        size = leg["size"]
        commission = size * unit_commission
        pnl = size * (exit_fill - position["entry_fill"]) * side * value - commission
        gross = (exit_price - position["entry_price"]) * side / pip
        cost = position["entry_cost"] + exit_cost
        self.legs.append(
            {
                "side": side,
                "signal_idx": position["signal_idx"],
                "entry_idx": position["entry_idx"],
                "entry_price": position["entry_price"],
                "entry_fill": position["entry_fill"],
                "exit_idx": bar,
                "exit_price": exit_price,
                "exit_fill": exit_fill,
                "exit_reason": reason,
                "stop_price": position["stop"],
                "target_price": leg["target"],
                "size": size,
                "fraction": leg["fraction"],
                "gross_pips": gross,
                "cost_pips": cost,
                "net_pips": gross - cost,
                "pnl": pnl,
                "commission": commission,
                "cost": size * cost * pip * value + commission,
                "cost_bps": (cost * pip * value + unit_commission) / (position["entry_price"] * value) * 1e4,
                "r_multiple": pnl / (position["risk_amount"] * leg["fraction"]) if size > 0 else math.nan,
                "bars_held": bar - position["entry_idx"] + 1,
                "position_id": position["id"],
                "leg": leg["number"],
            }
        )
        self.realised += pnl
        position["size"] -= size
        position["open_legs"].remove(leg)
        if reason == "SL" and position["stop_moved"]:
            self.events["exit at a moved stop"] += 1
            self.events["gap through a moved stop"] += exit_price == self.open[bar]
        if reason == "TP" and position["open_legs"]:
            self.events["partial target fill"] += 1

    def close_all(self, bar: int, exit_price: float, reason: str) -> None:
        assert self.position is not None
        for leg in list(self.position["open_legs"]):
            self.close_leg(leg, bar, exit_price, reason)

    def target_legs(self) -> list[dict[str, Any]]:
        assert self.position is not None
        return [leg for leg in self.position["open_legs"] if not math.isnan(leg["target"])]

    # ---- the rules of one bar -------------------------------------------------------------------

    def exits_at_the_open(self, b: int) -> bool:
        """Gap rules: beyond the stop, everything at the open; beyond targets, those at the open."""
        position = self.position
        assert position is not None
        if not (b > position["entry_idx"] or self.cfg.stops_from == "signal_close"):
            return False
        side, bar_open = position["side"], self.open[b]
        if _through(side, bar_open, position["stop"]):
            self.close_all(b, bar_open, "SL")
            return True
        for leg in self.target_legs():
            if _beyond(side, bar_open, leg["target"]):
                self.close_leg(leg, b, bar_open, "TP")
                self.events["targets at the open"] += 1
        return False

    def exits_stop_first(self, b: int) -> None:
        position = self.position
        assert position is not None
        side = position["side"]
        adverse, favourable = (self.low[b], self.high[b]) if side == 1 else (self.high[b], self.low[b])
        if _through(side, adverse, position["stop"]):  # also when targets are inside the bar: the stop
            self.close_all(b, position["stop"], "SL")
            return
        for leg in self.target_legs():
            if _beyond(side, favourable, leg["target"]):
                self.close_leg(leg, b, leg["target"], "TP")

    def exits_on_the_tradingview_path(self, b: int) -> None:
        """Open → the nearer of high/low (the low on a tie, as TradingView) → the other → close; levels in order."""
        position = self.position
        assert position is not None
        bar_open, high, low = self.open[b], self.high[b], self.low[b]
        if _through(position["side"], bar_open, position["stop"]):
            # the path starts beyond the stop (an entry bar with fill-based levels, where no gap exit
            # applies): the stop is the first level touched, filled at its level
            self.close_all(b, position["stop"], "SL")
            return
        first, second = (high, low) if high - bar_open < bar_open - low else (low, high)
        path = [bar_open, first, second, self.close[b]]
        for start, end in itertools.pairwise(path):
            levels: list[tuple[float, str, dict[str, Any] | None]] = []
            if not math.isnan(position["stop"]):
                levels.append((position["stop"], "SL", None))
            levels += [(leg["target"], "TP", leg) for leg in self.target_legs()]
            crossed = [item for item in levels if min(start, end) <= item[0] <= max(start, end)]
            # the nearest to where the segment starts comes first; on equal distance, leg order
            crossed.sort(key=lambda item: abs(item[0] - start))
            for level, kind, leg in crossed:
                if self.position is None or not position["open_legs"]:
                    return
                if kind == "SL":
                    self.events["tradingview stop first"] += bool(self.target_legs())
                    self.close_all(b, level, "SL")
                    return
                assert leg is not None
                stop_later = _through(position["side"], second, position["stop"])
                self.events["tradingview target before the stop"] += stop_later
                self.close_leg(leg, b, level, "TP")

    def after_close(self, b: int, target_filled: bool) -> None:
        """The stop moves after the bar closes: trailing, then break-even; never backwards."""
        position = self.position
        assert position is not None
        side, direction = position["side"], -position["side"]
        candidates = []
        if not math.isnan(position["trail"]):
            since_entry = slice(position["entry_idx"], b + 1)
            if side == 1:
                best = max(self.high[since_entry]) - position["trail"]
            else:
                best = min(self.low[since_entry]) + position["trail"]
            candidates.append(("stop moved by the trail", best))
        if self.signals["break_even"] and target_filled:
            candidates.append(("stop moved to break-even", position["entry_fill"]))
        for kind, candidate in candidates:
            if self.tradingview:
                candidate = on_tick_grid(candidate, self.cfg.price_precision, direction)
            if math.isnan(position["stop"]) or side * (candidate - position["stop"]) > 0:
                position["stop"] = candidate
                position["stop_moved"] = True
                self.events[kind] += 1

    def process_position(self, b: int) -> None:
        position = self.position
        assert position is not None
        legs_before = len(self.legs)
        closed = self.exits_at_the_open(b)
        if not closed and position["open_legs"]:
            if self.tradingview:
                self.exits_on_the_tradingview_path(b)
            else:
                self.exits_stop_first(b)
        if position["open_legs"]:
            hold = self.cfg.max_hold_bars
            if hold is not None and b == position["signal_idx"] + hold:
                self.close_all(b, self.close[b], "TIME")
            elif b == len(self.close) - 1:
                self.close_all(b, self.close[b], "EOD")
        filled_here = [leg for leg in self.legs[legs_before:] if leg["exit_reason"] == "TP"]
        target_filled = bool(filled_here)
        self.events["several targets in one bar"] += len(filled_here) > 1
        if position["open_legs"]:
            self.after_close(b, target_filled)
        else:
            self.position = None

    def open_position(self, b: int) -> None:
        cfg, pip, signals = self.cfg, self.cfg.pip_size, self.signals
        signal = int(signals["entry"][b])
        entry_cost = self.fill_cost(b + 1, self.open[b + 1])
        entry_fill = self.open[b + 1] + signal * entry_cost * pip
        reference_price = entry_fill if cfg.stops_from == "fill" else self.close[b]
        risk_amount = max(cfg.risk_per_trade * (self.realised if cfg.compounding else cfg.initial), 0.0)
        stop_distance = signals["stop"][b]
        risk_distance = stop_distance if math.isfinite(stop_distance) else self.atr14[b]
        value = _value(b, entry_fill, cfg)
        size = 0.0
        if math.isfinite(risk_distance) and risk_distance > 0 and risk_amount > 0:
            size = risk_amount / (risk_distance * value)
        stop = reference_price - signal * stop_distance
        if self.tradingview:
            on_grid = on_tick_grid(stop, cfg.price_precision, -signal)
            self.events["on the tick grid"] += on_grid != stop
            stop = on_grid
        legs = []
        for number, fraction in enumerate(self.fractions, start=1):
            distance = signals["targets"][b][number - 1] if number <= len(signals["targets"][b]) else math.nan
            target = reference_price + signal * distance
            if self.tradingview:
                target = on_tick_grid(target, cfg.price_precision, signal)
            legs.append({"number": number, "fraction": fraction, "size": fraction * size, "target": target})
        trail = math.nan if signals["trail"] is None else float(signals["trail"][b])
        self.position = {
            "id": self.next_id,
            "side": signal,
            "signal_idx": b,
            "entry_idx": b + 1,
            "entry_price": self.open[b + 1],
            "entry_fill": entry_fill,
            "entry_cost": entry_cost,
            "entry_commission_unit": cfg.commission_per_lot / cfg.contract_size
            + cfg.commission_pct * entry_fill * value,
            "stop": stop,
            "trail": trail,
            "size": size,
            "risk_amount": risk_amount,
            "open_legs": legs,
            "stop_moved": False,
        }
        self.next_id += 1

    def marked_equity(self, b: int) -> float:
        equity = self.realised
        position = self.position
        if position is not None:
            size = position["size"]
            value = _value(b, self.close[b], self.cfg)
            equity += size * (self.close[b] - position["entry_fill"]) * position["side"] * value
            equity -= position["entry_commission_unit"] * size
        return equity

    def run(self) -> tuple[list[dict[str, Any]], np.ndarray]:
        n_bars = len(self.close)
        equity = np.zeros(n_bars)
        entry, exit_signal = self.signals["entry"], self.signals["exit"]
        for b in range(n_bars):
            if self.position is not None:
                self.process_position(b)
            equity[b] = self.marked_equity(b)
            exited_side = 0
            if self.position is not None and exit_signal is not None and exit_signal[b] == self.position["side"]:
                exited_side = self.position["side"]
                self.close_all(b + 1, self.open[b + 1], "SIGNAL")  # read at this close, filled at the next open
                self.position = None
            can_signal = b >= 1 and b >= self.cfg.warmup and b < n_bars - 1
            if self.position is None and int(entry[b]) != 0 and can_signal:
                self.open_position(b)
                if exited_side:
                    self.events["exit then re-entry" if exited_side == int(entry[b]) else "reversal"] += 1
        return self.legs, equity


def run_reference(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    cfg: ReferenceSettings,
    *,
    exit_signal: np.ndarray | None = None,
    trail_distance: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    target_fractions: tuple[float, ...] | None = None,
    break_even: bool = False,
    events: Counter[str] | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Return (legs, equity per bar) for one cost scenario; a position without a plan is one leg.

    ``events``, when given, counts the rules the run went through (``REFERENCE_EVENTS``).
    """
    plan = [[float(value)] for value in target_distance] if targets is None else np.asarray(targets).tolist()
    signals = {
        "entry": entry,
        "stop": stop_distance,
        "targets": plan,
        "fractions": (1.0,) if targets is None else tuple(target_fractions or ()),
        "exit": exit_signal,
        "trail": trail_distance,
        "break_even": break_even,
    }
    return _Scenario((open_, high, low, close), signals, cfg, Counter() if events is None else events).run()
