"""Pine Script v6 export of a strategy with its parameters: the engine's rules as a TradingView strategy.

The script has four parts: a header (``strategy()`` with capital, order size, margin and costs set
explicitly), one ``input.*`` per parameter preset to the exported values, the strategy's own signal
code (a Pine template, see ``find_template``) on top of a library of indicators equal to
``tradescan.indicators``, and a generated execution block that applies DESIGN §4 bar by bar:

- a signal read at the close of bar t is sent as a market order and fills at the open of t+1
  (``process_orders_on_close=false``); signals while a position is open are ignored;
- stops and targets come from the fill (``loss=``/``profit=`` in ticks, which TradingView measures
  from the fill price) or from the signal close (absolute ``stop=``/``limit=`` prices), put on the
  tick grid away from the entry as the engine's ``intrabar="tradingview"`` mode does;
- a multi-target plan is one ``strategy.exit`` leg per target (``qty_percent``) plus the rest;
- the trailing stop and the break-even move are computed at each bar close and re-sent as the
  legs' ``stop=``, so the new level holds from the next bar on (TradingView's own ``trail_*`` moves
  inside the bar, which is not the engine's rule);
- an exit signal is a ``strategy.close`` (filled at the next open); the time stop closes at the close
  of bar ``signal + max_hold_bars`` (``immediately=true``); a position still open at the last bar
  shows as open in TradingView's list of trades (the engine's ``EOD``).

Costs: TradingView has one commission (percent of the order value or cash per contract) and one
slippage in ticks on market and stop fills. ``pine_costs`` maps a broker profile's scenario onto
them and lists what it cannot express (see ``PineCosts.notes``).

Pine v6 rather than v5: v6 is TradingView's current language version (v5 gets no new features);
its booleans cannot be ``na`` and its ``and``/``or`` are lazy, so the generated conditions mean what
they say without ``nz()`` guards. Both versions run the same broker emulator.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tradescan.bars import Bars
from tradescan.engine.broker import BrokerProfile, load_broker
from tradescan.engine.capital import CapitalConfig, parse_capital
from tradescan.errors import TradeScanError
from tradescan.instruments import Instrument
from tradescan.instruments import get as get_instrument
from tradescan.strategy import Signals, Strategy

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LIBRARY_FILE = TEMPLATES_DIR / "_library.pine"
PINE_VERSION = 6
_PROBE_BARS = 64  # bars of the probe series that reads the shape of a strategy's signals
_REMAINDER_EPSILON = 1e-9  # as the kernel: fractions summing to 1 within this leave no remainder leg
_TYPICAL_TR_ATR = 1.0  # TR/ATR of an average bar: the ATR-dependent slippage at its typical size

StopsFrom = Literal["fill", "signal_close"]


@dataclass(frozen=True)
class PineCosts:
    """What TradingView's ``strategy()`` can say about one cost scenario.

    Attributes:
        commission_type: ``"percent"`` (of the order value) or ``"cash_per_contract"``.
        commission_value: percent (0.1 = 0.1 %) or account currency per contract (one unit of base).
        slippage_ticks: ticks added against the trader on market and stop fills.
        notes: what the mapping had to approximate or leave out, one sentence each.
    """

    commission_type: Literal["percent", "cash_per_contract"] = "percent"
    commission_value: float = 0.0
    slippage_ticks: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PinePlan:
    """The shape of a strategy's signals, read off one probe run (what the execution block needs).

    Attributes:
        fractions: the share of the position each target closes (one per target column).
        remainder: whether a leg without a target rides the stop for the rest.
        break_even: move the stop to the entry after the first target.
        has_exit: the strategy emits exit signals.
        has_trail: the strategy emits trailing distances.
    """

    fractions: tuple[float, ...]
    remainder: bool
    break_even: bool
    has_exit: bool
    has_trail: bool

    @property
    def n_targets(self) -> int:
        """Return the number of target columns (1 for a single target or none)."""
        return len(self.fractions)


@dataclass(frozen=True)
class PineSettings:
    """Everything of a backtest besides the strategy that the script reproduces.

    Attributes:
        symbol: the instrument the parameters were fitted on (pip size, tick, currencies).
        stops_from: ``"fill"`` or ``"signal_close"`` (DESIGN §4).
        max_hold_bars: the time stop in bars after the signal bar; ``None`` = none.
        capital: initial capital, account currency, risk per trade, compounding.
        costs: the cost scenario in TradingView's terms.
        title: the strategy's title in TradingView.
    """

    symbol: str
    stops_from: StopsFrom = "fill"
    max_hold_bars: int | None = 96
    capital: CapitalConfig = field(default_factory=CapitalConfig)
    costs: PineCosts = PineCosts()
    title: str = ""


def render_pine(
    strategy: Strategy,
    params: Mapping[str, Any] | BaseModel | None,
    settings: PineSettings,
    *,
    header_lines: tuple[str, ...] = (),
) -> str:
    """Return the Pine v6 script of ``strategy`` with ``params`` preset, under ``settings``.

    Args:
        strategy: the strategy; its Pine template is found by ``find_template``.
        params: its parameters (validated by the strategy's ``Params``; defaults fill the rest).
        settings: symbol, execution rules, capital and costs.
        header_lines: extra comment lines for the script's header (e.g. the run and rank exported).

    Raises:
        TradeScanError: no template, a parameter type Pine inputs cannot hold, or an invalid value.
    """
    parsed = strategy.parse_params(params)
    instrument = get_instrument(settings.symbol)
    inputs = _inputs(strategy, parsed)
    template = find_template(strategy)
    plan = probe_plan(strategy, parsed, instrument)
    title = settings.title or f"{strategy.name} {settings.symbol}"
    parts = [
        _header(strategy, settings, title, header_lines),
        inputs,
        f"PIP_SIZE = {instrument.pip_size!r}  // price units per pip of {instrument.symbol}",
        LIBRARY_FILE.read_text(encoding="utf-8").rstrip(),
        "// ---- signals (the strategy's template) ----",
        template.rstrip(),
        _execution(plan, settings, template_sets_break_even=_sets(template, "sig_break_even")),
    ]
    return "\n\n".join(parts) + "\n"


def find_template(strategy: Strategy) -> str:
    """Return the Pine signal code of ``strategy``.

    Looked up in this order (the first found wins):

    1. the class attribute ``pine_template``: Pine source (text with a newline) or a file name,
       relative to the folder of the strategy's module;
    2. a file beside the strategy's module with the module's name and ``.pine``
       (``strategies/my_cross.py`` -> ``strategies/my_cross.pine``), how a plug-in ships one;
    3. the bundled templates, ``tradescan/export/templates/<module name>.pine``.

    The code runs once per bar after the parameter inputs and the indicator library
    (``ts_ema ts_atr ts_adx ts_rsi ts_zscore ts_atr_distance ts_gt ts_lt ts_ge ts_le``, ``PIP_SIZE``)
    and sets ``int warmup``, ``int sig_entry`` (+1/-1/0), ``float sig_stop`` and ``float sig_tp1``
    .. ``sig_tpK`` (price distances, ``na`` = none; one per target column, ``sig_tp1`` for a single
    target), and, when the strategy emits them, ``int sig_exit`` and ``float sig_trail``; a template
    whose break-even move depends on an input sets ``bool sig_break_even`` too.

    Raises:
        TradeScanError: no template in any of these places (the message names them).
    """
    cls = type(strategy)
    module_file = inspect.getsourcefile(cls)
    module_dir = Path(module_file).resolve().parent if module_file else None
    declared = getattr(cls, "pine_template", None)
    if declared is not None:
        if not isinstance(declared, str):
            raise TradeScanError(f"{strategy.name}: pine_template must be Pine source or a file name, got {declared!r}")
        if "\n" in declared:
            return declared
        path = Path(declared) if Path(declared).is_absolute() or module_dir is None else module_dir / declared
        if not path.is_file():
            raise TradeScanError(f"{strategy.name}: pine_template names {path}, which is not a file")
        return path.read_text(encoding="utf-8")
    candidates = []
    if module_file:
        candidates.append(Path(module_file).resolve().with_suffix(".pine"))
        candidates.append(TEMPLATES_DIR / f"{Path(module_file).stem}.pine")
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    looked = ", ".join(str(path) for path in candidates) or "(the class has no source file)"
    raise TradeScanError(
        f"{strategy.name} has no Pine template: set a pine_template attribute on the class or add "
        f"one of {looked} (see tradescan.export.pine.find_template)"
    )


def probe_plan(strategy: Strategy, params: BaseModel, instrument: Instrument) -> PinePlan:
    """Return the shape of ``strategy``'s signals (targets, fractions, exits, trail) from a probe run.

    The shape of ``Signals`` does not depend on the prices, so a short synthetic series is enough.
    """
    from tradescan.data.synth import synthesize

    frame = synthesize(instrument.symbol, "H1", _PROBE_BARS, seed=0)
    bars = _bars_of(frame, instrument)
    signals: Signals = strategy.signals(bars, params).validated(len(bars), strategy_name=strategy.name)
    if signals.targets is None:
        fractions: tuple[float, ...] = (1.0,)
    else:
        fractions = tuple(float(value) for value in signals.target_fractions or ())
    return PinePlan(
        fractions=fractions,
        remainder=1.0 - sum(fractions) > _REMAINDER_EPSILON,
        break_even=bool(signals.break_even),
        has_exit=signals.exit is not None,
        has_trail=signals.trail_distance is not None,
    )


def _bars_of(frame: Any, instrument: Instrument) -> Bars:
    from tradescan.engine.api import as_bars

    return as_bars(frame, instrument.symbol)


def pine_costs(broker: str | Mapping[str, Any] | BrokerProfile, symbol: str, scenario: str, price: float) -> PineCosts:
    """Map one cost scenario of a broker profile onto TradingView's commission and slippage.

    Args:
        broker: the profile (name, path, mapping or model).
        symbol: the symbol (spread, slippage model, tick).
        scenario: the scenario to reproduce (e.g. the stage-1 scenario).
        price: a typical price of the symbol (the last close), to turn basis points into ticks.

    Returns:
        ``PineCosts``; ``notes`` says where Pine cannot follow the engine: the spread and the
        slippage become one fixed number of ticks on market and stop fills (TradingView charges no
        slippage on limit fills, the engine charges every fill), the ATR-dependent slippage is taken
        at a typical bar (TR = ATR), spikes are left out, basis points are converted at ``price``,
        and only one commission type exists (a per-lot commission beside a percentage is dropped).
    """
    profile = load_broker(broker)
    instrument = get_instrument(symbol)
    costs = profile.scenario(scenario)
    spread = profile.symbol_spread(symbol)
    slippage = profile.slippage_for(symbol)
    pip_part = (
        spread.pips * costs.spread_mult / 2.0
        + (slippage.base_pips + slippage.atr_k * _TYPICAL_TR_ATR) * costs.slippage_mult
        + costs.slippage_add_pips
    )
    bps_part = (
        spread.bps * costs.spread_mult / 2.0
        + (slippage.base_bps + slippage.atr_k_bps * _TYPICAL_TR_ATR) * costs.slippage_mult
        + costs.slippage_add_bps
    )
    tick = 10.0**-instrument.price_precision
    per_fill = pip_part * instrument.pip_size + bps_part * 1e-4 * price
    slippage_ticks = math.floor(per_fill / tick + 0.5)  # half a tick rounds up
    notes = ["spread and slippage are one fixed slippage in ticks on market and stop fills; "
             "TradingView charges none on limit (target) fills"]  # fmt: skip
    if slippage.atr_k or slippage.atr_k_bps:
        notes.append("the ATR-dependent slippage is taken at a typical bar (TR = ATR); Pine has no per-bar slippage")
    if costs.spikes:
        notes.append("spike slippage (scenario spikes) is left out")
    if bps_part:
        notes.append(f"basis points are converted to ticks at price {price!r}")
    if profile.commission_pct:
        if profile.commission_per_lot:
            notes.append("commission_per_lot is dropped: Pine has one commission type, the percentage is kept")
        if profile.maker_pct != profile.commission_pct:
            notes.append("the maker rate on target fills is not expressible: every fill pays commission_pct")
        return PineCosts("percent", profile.commission_pct * 100.0, slippage_ticks, tuple(notes))
    per_unit = profile.commission_per_lot / instrument.contract_size
    return PineCosts("cash_per_contract", per_unit, slippage_ticks, tuple(notes))


# ---- the script's parts --------------------------------------------------------------------------


def _pine_float(value: float) -> str:
    if not math.isfinite(value):
        raise TradeScanError(f"Pine has no literal for {value!r}")
    text = repr(float(value))
    return text if ("." in text or "e" in text) else text + ".0"


def _pine_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _header(strategy: Strategy, settings: PineSettings, title: str, header_lines: tuple[str, ...]) -> str:
    capital, costs = settings.capital, settings.costs
    commission = f"strategy.commission.{costs.commission_type}"
    comments = [
        f"// {strategy.name} on {settings.symbol}, exported by tradescan export pine (Pine v{PINE_VERSION}).",
        f"// Execution as tradescan's engine with intrabar=tradingview: stops_from={settings.stops_from}, "
        f"max_hold_bars={settings.max_hold_bars}, risk {capital.risk_per_trade!r} of "
        f"{'equity' if capital.compounding else 'initial capital'} per trade.",
        *[f"// {line}" for line in header_lines],
        *[f"// cost approximation: {note}." for note in costs.notes],
    ]
    return "\n".join(
        [
            f"//@version={PINE_VERSION}",
            *comments,
            f"strategy({_pine_string(title)}, overlay=true, initial_capital={_pine_float(capital.initial)},",
            f"     currency={_pine_string(capital.currency)}, default_qty_type=strategy.fixed, default_qty_value=1,",
            "     margin_long=0, margin_short=0, pyramiding=2, process_orders_on_close=false,",
            f"     commission_type={commission}, commission_value={_pine_float(costs.commission_value)},",
            f"     slippage={costs.slippage_ticks})",
            "// pyramiding=2 only lets a same-side re-entry fill at the open where the signal exit closes",
            "// the previous position; the execution block never holds two positions.",
            f"RISK_PER_TRADE = {_pine_float(capital.risk_per_trade)}",
            f"RISK_COMPOUNDING = {'true' if capital.compounding else 'false'}",
            f"MAX_HOLD_BARS = {settings.max_hold_bars or 0}  // 0 = no time stop",
        ]
    )


def _inputs(strategy: Strategy, params: BaseModel) -> str:
    lines = ["// ---- parameters (preset to the exported values) ----"]
    for name, info in type(params).model_fields.items():
        lines.extend(_input_lines(strategy.name, name, info.annotation, getattr(params, name), info))
    return "\n".join(lines)


def _input_lines(strategy_name: str, name: str, annotation: Any, value: Any, field: Any) -> list[str]:
    base, optional = _unwrap_optional(annotation)
    title = _pine_string(name)
    tooltip = f", tooltip={_pine_string(field.description)}" if field.description else ""
    if base is bool:
        if optional:
            raise TradeScanError(f"{strategy_name}: parameter {name}: an optional bool has no Pine input")
        return [f"{name} = input.bool({'true' if value else 'false'}, {title}{tooltip})"]
    if base is int:
        bounds = _bounds(field, integer=True)
        literal = str(int(value)) if value is not None else str(int(field.default or 1))
        if not optional:
            return [f"{name} = input.int({literal}, {title}{bounds}{tooltip})"]
        return [
            f"{name}_on = input.bool({'true' if value is not None else 'false'}, {_pine_string(name + ' set')})",
            f"{name}_value = input.int({literal}, {title}{bounds}{tooltip})",
            f"int {name} = {name}_on ? {name}_value : na",
        ]
    if base is float:
        bounds = _bounds(field, integer=False)
        shown = value if value is not None else (field.default if field.default is not None else 1.0)
        if not optional:
            return [f"{name} = input.float({_pine_float(value)}, {title}{bounds}{tooltip})"]
        return [
            f"{name}_on = input.bool({'true' if value is not None else 'false'}, {_pine_string(name + ' set')})",
            f"{name}_value = input.float({_pine_float(shown)}, {title}{bounds}{tooltip})",
            f"float {name} = {name}_on ? {name}_value : na",
        ]
    raise TradeScanError(
        f"{strategy_name}: parameter {name} has type {annotation!r}; a Pine export takes int, float, bool "
        f"or optional int/float parameters"
    )


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0], True
    return annotation, False


def _bounds(field: Any, *, integer: bool) -> str:
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    text = ""
    if low is not None:
        text += f", minval={int(low) if integer else _pine_float(low)}"
    if high is not None:
        text += f", maxval={int(high) if integer else _pine_float(high)}"
    return text


def _sets(template: str, name: str) -> bool:
    """Return whether the template assigns ``name`` (a declaration such as ``bool name = ...``)."""
    return re.search(rf"^\s*(?:\w+\s+)?{name}\s*=", template, flags=re.MULTILINE) is not None


def _execution(plan: PinePlan, settings: PineSettings, *, template_sets_break_even: bool = False) -> str:
    """Return the execution block: DESIGN §4 with the levels of ``plan``'s legs.

    The break-even move follows the template's ``sig_break_even`` when it sets one (so the input that
    drives it works in TradingView), else the probed plan's constant.
    """
    fill_based = settings.stops_from == "fill"
    k = plan.n_targets
    legs = range(1, k + 1)
    targets = [f"sig_tp{j}" for j in legs]
    exit_signal = "sig_exit" if plan.has_exit else "0"
    trail = "sig_trail" if plan.has_trail else "na"
    break_even = "sig_break_even" if template_sets_break_even else ("true" if plan.break_even else "false")
    lines = [
        "// ---- execution: tradescan's engine rules (DESIGN §4), generated by tradescan export pine ----",
        "// A level on the tick grid, away from the entry: itself when within 1e-6 ticks of the grid, else",
        "// the next tick up (direction +1) or down (-1), exactly as the engine's intrabar=tradingview mode.",
        "ts_grid(float price, int direction) =>",
        "    float ticks = price * syminfo.pricescale",
        "    float nearest = math.round(ticks)",
        "    float on_grid = ts_le(math.abs(ticks - nearest), 1e-6) ? nearest"
        " : direction > 0 ? math.ceil(ticks) : math.floor(ticks)",
        "    on_grid / syminfo.pricescale",
        "",
        "// A distance in whole ticks, rounded away from the entry (the fill is on the grid).",
        "ts_ticks_out(float distance) =>",
        "    float ticks = distance * syminfo.pricescale",
        "    float nearest = math.round(ticks)",
        "    ts_le(math.abs(ticks - nearest), 1e-6) ? nearest : math.ceil(ticks)",
        "",
        "// Legs of this position closed so far: the last closed trades with its entry id.",
        "ts_closed_legs(string id) =>",
        "    int count = 0",
        "    int i = strategy.closedtrades - 1",
        "    while i >= 0 and strategy.closedtrades.entry_id(i) == id",
        "        count += 1",
        "        i -= 1",
        "    count",
        "",
        "float ts_fallback_atr = ts_atr(14)  // the engine sizes a position without a stop on ATR(14)",
        "int sig_exit_now = " + exit_signal,
        "float sig_trail_now = " + trail,
        "var int ts_side = 0  // +1/-1 while a position is open or its entry is pending, 0 when flat",
        "var int ts_signal_bar = -1",
        "var int ts_count = 0",
        "var string ts_id = \"\"",
        "var float ts_fill = na",
        "var float ts_stop = na",
        "var float ts_best = na",
        "var float ts_trail = na",
        "var int ts_legs_closed = 0",
        "var bool ts_break_even = false",
        "var float ts_stop_ticks = na",
        *[f"var float ts_tp{j} = na" for j in range(1, k + 1)],
        *[f"var float ts_tp{j}_ticks = na" for j in range(1, k + 1)],
        "int ts_held = strategy.position_size > 0 ? 1 : strategy.position_size < 0 ? -1 : 0",
        "float ts_closing_profit = 0.0  // P&L of a position this close flattens, not yet in netprofit",
        "bool ts_live = ts_side != 0 and bar_index > ts_signal_bar and ts_held == ts_side",
        "if ts_side != 0 and bar_index > ts_signal_bar and not ts_live",
        "    ts_side := 0  // every leg closed inside this bar",
        "if ts_live",
        "    bool moved = false",
        "    if bar_index == ts_signal_bar + 1  // the entry bar: the fill is known now",
        "        ts_fill := strategy.opentrades.entry_price(strategy.opentrades - 1)",
        "        ts_best := ts_side > 0 ? high : low",
    ]
    if fill_based:
        lines += [
            "        float fill_ticks = math.round(ts_fill * syminfo.pricescale)",
            "        ts_stop := (fill_ticks - ts_side * ts_stop_ticks) / syminfo.pricescale",
            *[f"        ts_tp{j} := (fill_ticks + ts_side * ts_tp{j}_ticks) / syminfo.pricescale" for j in legs],
        ]
    lines += [
        "    else",
        "        ts_best := ts_side > 0 ? math.max(ts_best, high) : math.min(ts_best, low)",
        "    int legs_closed = ts_closed_legs(ts_id)",
        "    bool target_filled = legs_closed > ts_legs_closed  // only targets close part of a position",
        "    ts_legs_closed := legs_closed",
        "    if MAX_HOLD_BARS > 0 and bar_index == ts_signal_bar + MAX_HOLD_BARS",
        "        strategy.close(ts_id, comment=\"TIME\", immediately=true)",
        "        ts_closing_profit := strategy.openprofit",
        "        ts_side := 0",
        "    else",
        "        if not na(ts_trail)",
        "            float candidate = ts_grid(ts_best - ts_side * ts_trail, -ts_side)",
        "            if na(ts_stop) or ts_gt(ts_side * (candidate - ts_stop), 0.0)",
        "                ts_stop := candidate",
        "                moved := true",
    ]
    if plan.break_even or template_sets_break_even:
        lines += [
            "        if ts_break_even and target_filled",
            "            float candidate = ts_grid(ts_fill, -ts_side)",
            "            if na(ts_stop) or ts_gt(ts_side * (candidate - ts_stop), 0.0)",
            "                ts_stop := candidate",
            "                moved := true",
        ]
    lines += [
        "        if sig_exit_now == ts_side",
        "            strategy.close(ts_id, comment=\"SIGNAL\")  // filled at the next open",
        "            ts_closing_profit := strategy.openprofit  // marked at this close",
        "            ts_side := 0",
        "        else if moved",
        *[f"            {line}" for line in _leg_calls(plan, absolute=True)],
        "if ts_side == 0 and sig_entry != 0 and bar_index >= math.max(1, warmup)",
        "    ts_count += 1",
        "    ts_side := sig_entry",
        "    ts_signal_bar := bar_index",
        "    ts_id := (ts_side > 0 ? \"L\" : \"S\") + str.tostring(ts_count)",
        "    ts_trail := sig_trail_now",
        "    ts_fill := na",
        "    ts_legs_closed := 0",
        f"    ts_break_even := {break_even}",
        "    float risk_base = RISK_COMPOUNDING ? strategy.initial_capital + strategy.netprofit + ts_closing_profit"
        " : strategy.initial_capital",
        "    float risk_distance = na(sig_stop) ? ts_fallback_atr : sig_stop",
        "    float qty = strategy.convert_to_symbol(math.max(RISK_PER_TRADE * risk_base, 0.0))"
        " / (risk_distance * syminfo.pointvalue)",
        "    strategy.entry(ts_id, ts_side > 0 ? strategy.long : strategy.short, qty=qty)",
    ]
    if fill_based:
        lines += [
            "    ts_stop_ticks := ts_ticks_out(sig_stop)",
            *[f"    ts_tp{j}_ticks := ts_ticks_out({target})" for j, target in enumerate(targets, start=1)],
            *[f"    {line}" for line in _leg_calls(plan, absolute=False)],
        ]
    else:
        lines += [
            "    ts_stop := ts_grid(close - ts_side * sig_stop, -ts_side)",
            *[f"    ts_tp{j} := ts_grid(close + ts_side * sig_tp{j}, ts_side)" for j in legs],
            *[f"    {line}" for line in _leg_calls(plan, absolute=True)],
        ]
    return "\n".join(lines)


def _leg_calls(plan: PinePlan, *, absolute: bool) -> list[str]:
    """Return one ``strategy.exit`` per leg: targets with their share, then the rest of the position."""
    calls = []
    k = plan.n_targets
    for j, fraction in enumerate(plan.fractions, start=1):
        is_rest = j == k and not plan.remainder  # the last target takes what is left (no rounding sliver)
        qty = "" if is_rest else f", qty_percent={_pine_float(fraction * 100.0)}"
        levels = f"stop=ts_stop, limit=ts_tp{j}" if absolute else f"loss=ts_stop_ticks, profit=ts_tp{j}_ticks"
        calls.append(f'strategy.exit(ts_id + "_tp{j}", ts_id{qty}, {levels}, comment_loss="SL", comment_profit="TP")')
    if plan.remainder:
        levels = "stop=ts_stop" if absolute else "loss=ts_stop_ticks"
        calls.append(f'strategy.exit(ts_id + "_rest", ts_id, {levels}, comment_loss="SL")')
    return calls


def settings_for(
    symbol: str,
    *,
    stops_from: StopsFrom = "fill",
    max_hold_bars: int | None = 96,
    capital: CapitalConfig | Mapping[str, Any] | None = None,
    broker: str | Mapping[str, Any] | BrokerProfile = "zero",
    scenario: str = "B",
    price: float = 1.0,
    title: str = "",
) -> PineSettings:
    """Return ``PineSettings`` for a symbol with costs from ``broker``'s ``scenario`` (see ``pine_costs``)."""
    return PineSettings(
        symbol=symbol,
        stops_from=stops_from,
        max_hold_bars=max_hold_bars,
        capital=parse_capital(capital),
        costs=pine_costs(broker, symbol, scenario, price),
        title=title,
    )
