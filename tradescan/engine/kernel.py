"""The compiled bar loop (DESIGN §4): signals in, trade records and per-bar equity out.

Everything here is NumPy in, NumPy out, ``@njit(cache=True)``: no pandas, dicts or strings. All cost
scenarios run in the same pass over the bars, each with its own position and realised equity, so
the scenarios share every strategy computation and differ only in the cost rows they read.

The pass goes over the bars in blocks of ``BLOCK_BARS``; inside a block each scenario runs with its
position state in local variables (registers) and the block's bars, just read from memory, still
in cache for the next scenario. Keeping the state in per-scenario arrays inside one bar loop, the
obvious layout, is 2-3x slower in numba because every array access must be reloaded.

Within a scenario the bars go by in runs: while flat, a tight loop marks the realised equity up to
the next signal it may take; in a position, a tight loop marks the open trade up to the first bar
that touches a level, the time stop or the last bar, and only that bar takes the full exit rules.
The optional signal arrays (``exit_signal``, ``trail_distance``) may be ``None``: numba then compiles
a version of the loop without their code, so a strategy that does not use them pays nothing.

Bar contract, per scenario:

- a signal (``entry[t] != 0``) is read at the close of bar ``t`` when flat (or when an exit signal
  closes the position at that close), ``t >= max(1, warmup)`` and ``t`` is not the last bar; it
  fills at ``open[t+1]`` moved against the trader by the entry cost;
- stop/target levels come from the fill (``STOPS_FROM_FILL``) or from ``close[t]``
  (``STOPS_FROM_SIGNAL_CLOSE``); a NaN distance means no such level; with ``INTRABAR_TRADINGVIEW``
  they are put on the tick grid away from the entry (stops down for a long, targets up);
- a position is one leg per target of its plan plus the remainder (one leg without a plan); each
  leg that closes writes one record;
- exits are checked on every bar from ``t+1`` on: a gap through the stop (then through targets)
  exits at the open — on the entry bar only with levels from the signal close —, then the levels
  inside the bar in the intrabar order (``stop_first``: the stop before any target; ``tradingview``:
  open → nearer of high/low → the other → close), then the time stop at the close of
  ``t + max_hold``, then end of data at the last close; each exit pays the cost of its bar;
- after a bar closes with the position still open: the trailing stop and the break-even move
  (never backwards), then the exit signal, which fills at the next open (reason ``SIGNAL``);
- a new signal may be read on the close of the exit bar.

Costs of a fill at raw price ``p`` on bar ``b``: ``cost_pips[s, b] + cost_fraction[s, b] * p / pip``
pips, and commission ``commission_per_unit_side + pct * fill * value`` per unit (``pct`` the taker
fraction, or the maker fraction on target fills).

Capital: risk amount = ``risk_fraction`` × (realised equity if compounding else initial capital);
size = risk amount / (risk distance × value of one price unit), with the risk distance being the
strategy's stop distance at ``t`` (or ``risk_distance_fallback[t]``, the ATR14, when there is no
stop). Equity on each bar = realised equity + the open legs marked at the close (no exit cost, the
entry side's commission already paid).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tradescan.engine.records import (
    EXIT_EOD,
    EXIT_SIGNAL,
    EXIT_SL,
    EXIT_TIME,
    EXIT_TP,
    INTRABAR_TRADINGVIEW,
    MAX_LEGS,
    STOPS_FROM_SIGNAL_CLOSE,
    TRADE_DTYPE,
)

_NO_EXIT = -1
BLOCK_BARS = 2048  # bars per block: 2048 bars of OHLC + signals fit in L2 for the next scenario
INITIAL_TRADES_PER_SCENARIO = 64  # plus one per 16 bars; the buffer grows when that is not enough
_REMAINDER_EPSILON = 1e-9  # target fractions summing to 1 within this leave no remainder leg
_ON_GRID_TICKS = 1e-6  # a level within this many ticks of the grid is on it (floating-point noise)

# Carried state per scenario, between blocks (named columns of ``int_state`` / ``float_state``).
_SIDE, _SIGNAL_IDX, _ENTRY_IDX, _POSITION_ID, _NEXT_POSITION_ID, _OPEN_LEGS = range(6)
_N_INT_STATE = 6
(
    _ENTRY_PRICE,
    _ENTRY_FILL,
    _ENTRY_COST_PIPS,
    _STOP_PRICE,
    _SIZE,
    _RISK_AMOUNT,
    _REALISED,
    _ENTRY_COMMISSION_UNIT,
    _BEST_PRICE,
    _TRAIL,
) = range(10)
_N_FLOAT_STATE = 10
_LEG_LEVEL, _LEG_SIZE = range(2)  # rows of ``leg_state[s]``, one column per leg


class KernelBars(NamedTuple):
    """float64[n_bars] prices."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


class KernelSignals(NamedTuple):
    """A strategy's validated signals as the kernel reads them.

    Attributes:
        entry: int8[n_bars], +1/-1/0 read at each bar's close.
        stop_distance: float64[n_bars] price distance (NaN = none).
        targets: float64[n_bars, k] target distances, increasing along a row (NaN = unused); a single
            target is ``target_distance.reshape(-1, 1)``.
        target_fractions: float64[k] share of the position each target closes.
        risk_distance_fallback: float64[n_bars] risk distance used for sizing when there is no stop.
        warmup: signals on bars ``t < warmup`` are ignored (and always on bar 0).
        exit_signal: optional int8[n_bars], +1 closes a long, -1 a short (``None`` = no exits).
        trail_distance: optional float64[n_bars] trailing distance read at the signal bar.
        break_even: move the stop to the entry fill after a target fills.
    """

    entry: np.ndarray
    stop_distance: np.ndarray
    targets: np.ndarray
    target_fractions: np.ndarray
    risk_distance_fallback: np.ndarray
    warmup: int
    exit_signal: np.ndarray | None = None
    trail_distance: np.ndarray | None = None
    break_even: bool = False


class KernelCosts(NamedTuple):
    """Per-fill costs.

    Attributes:
        cost_pips: float64[n_scenarios, n_bars] pip part of one fill's cost on each bar.
        cost_fraction: float64[n_scenarios, n_bars] price-proportional part (bps × 1e-4), or ``None``
            when every value is 0 (pip-only profiles: the kernel then never reads it).
        pip_size: price units per pip.
        commission_per_unit_side: commission per unit of base per side (per lot / contract size).
        commission_pct: fraction of notional per side on entries and non-target exits (taker).
        maker_commission_pct: fraction of notional on target fills.
    """

    cost_pips: np.ndarray
    cost_fraction: np.ndarray | None
    pip_size: float
    commission_per_unit_side: float = 0.0
    commission_pct: float = 0.0
    maker_commission_pct: float = 0.0


class KernelRules(NamedTuple):
    """Execution settings.

    Attributes:
        max_hold_bars: close at the close of bar ``t + max_hold_bars``; ``NO_TIME_STOP`` (-1) = none.
        stops_from: ``STOPS_FROM_FILL`` or ``STOPS_FROM_SIGNAL_CLOSE``.
        intrabar: ``INTRABAR_STOP_FIRST`` or ``INTRABAR_TRADINGVIEW``.
        tick_scale: ``10 ** price_precision`` (ticks per price unit, for the tradingview grid).
    """

    max_hold_bars: int
    stops_from: int
    intrabar: int = 0
    tick_scale: float = 1e5


class KernelCapital(NamedTuple):
    """Capital model.

    Attributes:
        initial: initial capital in account currency.
        risk_fraction: risk per trade as a fraction of equity (or of ``initial`` when fixed).
        compounding: size from realised equity (True) or from the initial capital.
        quote_value: float64[n_bars] account-currency value of one unit of quote currency.
        value_per_price: divide the value by the price (base currency == account currency).
    """

    initial: float
    risk_fraction: float
    compounding: bool
    quote_value: np.ndarray
    value_per_price: bool


def leg_fractions(target_fractions: np.ndarray) -> np.ndarray:
    """Return each leg's share of a position: the targets' fractions, then the remainder if any."""
    fractions = np.asarray(target_fractions, dtype=np.float64)
    remainder = 1.0 - float(fractions.sum())
    if remainder > _REMAINDER_EPSILON:
        fractions = np.append(fractions, remainder)
    return np.ascontiguousarray(fractions)


def simulate(
    bars: KernelBars,
    signals: KernelSignals,
    costs: KernelCosts,
    rules: KernelRules,
    capital: KernelCapital,
    equity_out: np.ndarray,
    trade_buffer: np.ndarray | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Simulate every cost scenario over the bars; fill ``equity_out`` and return the trades.

    Args:
        bars, signals, costs, rules, capital: the inputs (see their classes).
        equity_out: float64[n_scenarios, n_bars], written with the equity at each bar's close.
        trade_buffer: optional TRADE_DTYPE scratch array to write the trades into (reused across
            calls by a session: fresh memory costs page faults); grown when too small.

    Returns:
        (leg records per scenario, in exit order, as views into the buffer; the buffer used).
    """
    n_scenarios, n_bars = costs.cost_pips.shape
    fractions = leg_fractions(signals.target_fractions)
    rows_per_bar = len(fractions)  # a bar closes at most every leg of one position
    int_state = np.zeros((n_scenarios, _N_INT_STATE), dtype=np.int64)
    float_state = np.zeros((n_scenarios, _N_FLOAT_STATE))
    float_state[:, _REALISED] = capital.initial
    leg_state = np.zeros((n_scenarios, 2, MAX_LEGS))
    # Each scenario writes its trades into its own region of the buffer (no regrouping later). A
    # buffer reassigned inside compiled code slows its loops down badly, so the compiled pass stops
    # before a block that might overflow a region and resumes here on a bigger buffer.
    block_bars = BLOCK_BARS
    region = INITIAL_TRADES_PER_SCENARIO + n_bars // 16 + block_bars * rows_per_bar
    if trade_buffer is not None and len(trade_buffer) >= n_scenarios * region:
        buffer = trade_buffer
    else:
        buffer = np.empty(n_scenarios * region, dtype=TRADE_DTYPE)
    used = np.zeros(n_scenarios, dtype=np.int64)
    next_bar = 0
    while True:
        next_bar = run_blocks_nb(
            next_bar, block_bars, rows_per_bar, used, buffer, int_state, float_state, leg_state,
            bars.open, bars.high, bars.low, bars.close,
            signals.entry, signals.stop_distance, signals.targets, fractions, signals.risk_distance_fallback,
            signals.warmup, signals.exit_signal, signals.trail_distance, signals.break_even,
            costs.cost_pips, costs.cost_fraction, costs.pip_size, costs.commission_per_unit_side,
            costs.commission_pct, costs.maker_commission_pct,
            rules.max_hold_bars, rules.stops_from, rules.intrabar, rules.tick_scale,
            capital.initial, capital.risk_fraction, capital.compounding, capital.quote_value,
            capital.value_per_price, equity_out,
        )
        region = len(buffer) // n_scenarios
        if next_bar >= n_bars:
            return [buffer[s * region : s * region + used[s]] for s in range(n_scenarios)], buffer
        buffer = _regrown(buffer, used, region)


def _regrown(buffer: np.ndarray, used: np.ndarray, region: int) -> np.ndarray:
    """Return a buffer with twice the room per scenario, each region's records copied over."""
    n_scenarios = len(used)
    bigger = np.empty(2 * len(buffer), dtype=TRADE_DTYPE)
    for s in range(n_scenarios):
        bigger[2 * s * region : 2 * s * region + used[s]] = buffer[s * region : s * region + used[s]]
    return bigger


@njit(cache=True)
def run_blocks_nb(
    first_bar, block_bars, rows_per_bar, used, buffer, int_state, float_state, leg_state,
    open_, high, low, close,
    entry, stop_distance, targets, fractions, risk_distance_fallback, warmup, exit_signal, trail_distance,
    break_even,
    cost_pips, cost_fraction, pip_size, commission_per_unit_side, commission_pct, maker_commission_pct,
    max_hold_bars, stops_from, intrabar, tick_scale,
    initial_capital, risk_fraction, compounding, quote_value, value_per_price, equity_out,
):  # the arguments are those of ``simulate``, flattened for numba
    """Run the bars from ``first_bar`` on, ``block_bars`` at a time; return the next bar to run.

    ``used[s]`` counts scenario ``s``'s records, written from ``s * region`` on. Returns early,
    before a block, when a region could not take ``rows_per_bar`` records per bar of that block; the
    caller grows the buffer and calls again with the same state arrays.
    """
    n_scenarios, n_bars = cost_pips.shape
    region = buffer.shape[0] // n_scenarios
    for block_start in range(first_bar, n_bars, block_bars):
        for s in range(n_scenarios):
            if used[s] + block_bars * rows_per_bar > region:
                return block_start
        block_end = min(block_start + block_bars, n_bars)
        for s in range(n_scenarios):
            used[s] = _run_block_nb(
                s, block_start, block_end, s * region + used[s], buffer, int_state, float_state, leg_state,
                open_, high, low, close,
                entry, stop_distance, targets, fractions, risk_distance_fallback, warmup, exit_signal,
                trail_distance, break_even,
                cost_pips, cost_fraction, pip_size, commission_per_unit_side, commission_pct,
                maker_commission_pct,
                max_hold_bars, stops_from, intrabar, tick_scale,
                initial_capital, risk_fraction, compounding, quote_value, value_per_price, equity_out,
            ) - s * region
    return n_bars


@njit(cache=True, inline="always")
def _on_tick_grid(price: float, tick_scale: float, direction: int) -> float:
    """Return ``price`` on the tick grid: itself when on it, else the next tick up (+1) or down (-1)."""
    if not np.isfinite(price):
        return price
    scaled = price * tick_scale
    ticks = np.rint(scaled)
    if abs(scaled - ticks) > _ON_GRID_TICKS:
        ticks = np.ceil(scaled) if direction > 0 else np.floor(scaled)
    return ticks / tick_scale


@njit(cache=True, inline="always")
def _trailed(
    side: int, best_price: float, bar_high: float, bar_low: float, trail: float, stop_price: float,
    tradingview: bool, tick_scale: float,
) -> tuple[float, float]:
    """Return (best price since entry, stop) after a bar closes: the trailed level if it gains.

    On the tick grid a level moves away from the price, so only a raw gain can survive rounding:
    the rounding is skipped for the (usual) bars that do not move the stop.
    """
    if side > 0:
        best_price = max(best_price, bar_high)
        candidate = best_price - trail
    else:
        best_price = min(best_price, bar_low)
        candidate = best_price + trail
    if stop_price != stop_price or side * (candidate - stop_price) > 0.0:
        if tradingview:
            candidate = _on_tick_grid(candidate, tick_scale, -side)
        if stop_price != stop_price or side * (candidate - stop_price) > 0.0:
            return best_price, candidate
    return best_price, stop_price

@njit(cache=True, inline="always")
def _trigger_levels(
    side: int, stop_price: float, leg_state_s: np.ndarray, open_legs: int, n_legs: int
) -> tuple[float, float]:
    """Return the (lower, upper) levels whose touch may end a leg: the stop and the nearest open target.

    A missing level is ±inf. Targets lie further out with each leg, so the nearest is the first open
    leg that has one.
    """
    nearest = np.nan
    for leg in range(n_legs):
        level = leg_state_s[_LEG_LEVEL, leg]
        if ((open_legs >> leg) & 1) != 0 and level == level:
            nearest = level
            break
    lower = stop_price if side > 0 else nearest
    upper = nearest if side > 0 else stop_price
    return (-np.inf if np.isnan(lower) else lower), (np.inf if np.isnan(upper) else upper)


@njit(cache=True, inline="always")
def _fill_cost_pips(
    cost_pips: np.ndarray, cost_fraction: np.ndarray | None, s: int, bar: int, price: float, pip_size: float
) -> float:
    """Return the cost in pips of one fill at raw ``price`` on ``bar``: pip part plus bps part.

    ``cost_fraction`` is ``None`` when the profile has no bps costs (then it is never read).
    """
    if cost_fraction is None:
        return cost_pips[s, bar]
    return cost_pips[s, bar] + cost_fraction[s, bar] * price / pip_size


@njit(cache=True, inline="always")
def _write_leg(
    buffer: np.ndarray, write_at: int, s: int, position_id: int, leg: int, side: int, signal_idx: int,
    entry_idx: int, exit_idx: int, entry_price: float, exit_price: float, entry_fill: float,
    exit_fill: float, stop_price: float, target_price: float, leg_size: float, fraction: float,
    entry_cost_pips: float, exit_cost_pips: float, pip_size: float, value: float,
    entry_commission_unit: float, exit_commission_unit: float, risk_amount: float, reason: int,
) -> float:
    """Write one closed leg at ``buffer[write_at]``; return its PnL in account currency."""
    commission = leg_size * (entry_commission_unit + exit_commission_unit)
    pnl = leg_size * (exit_fill - entry_fill) * side * value - commission
    gross_pips = (exit_price - entry_price) * side / pip_size
    cost_pips = entry_cost_pips + exit_cost_pips
    cost_unit = cost_pips * pip_size * value + entry_commission_unit + exit_commission_unit
    record = buffer[write_at]
    record["scenario"] = s
    record["side"] = side
    record["signal_idx"] = signal_idx
    record["entry_idx"] = entry_idx
    record["exit_idx"] = exit_idx
    record["entry_price"] = entry_price
    record["exit_price"] = exit_price
    record["entry_fill"] = entry_fill
    record["exit_fill"] = exit_fill
    record["stop_price"] = stop_price
    record["target_price"] = target_price
    record["size"] = leg_size
    record["gross_pips"] = gross_pips
    record["cost_pips"] = cost_pips
    record["net_pips"] = gross_pips - cost_pips
    record["pnl"] = pnl
    record["r_multiple"] = pnl / (risk_amount * fraction) if leg_size > 0.0 else np.nan
    record["bars_held"] = exit_idx - entry_idx + 1
    record["exit_reason"] = reason
    record["position_id"] = position_id
    record["leg"] = leg + 1
    record["fraction"] = fraction
    record["commission"] = commission
    record["cost"] = leg_size * cost_pips * pip_size * value + commission
    record["cost_bps"] = cost_unit / (entry_price * value) * 1e4
    return pnl


@njit(cache=True, inline="always")
def _close_open_legs(
    buffer, write_at, s, position_id, side, signal_idx, entry_idx, exit_bar, entry_price, exit_price,
    entry_fill, stop_price, legs, open_legs, fractions, entry_cost_pips, risk_amount,
    entry_commission_unit, commission_pct, reason, realised,
    cost_pips, cost_fraction, pip_size, commission_per_unit_side, quote_value, value_per_price,
):
    """Close every open leg at raw ``exit_price`` on ``exit_bar``; return (write_at, realised)."""
    exit_cost = _fill_cost_pips(cost_pips, cost_fraction, s, exit_bar, exit_price, pip_size)
    exit_fill = exit_price - side * exit_cost * pip_size
    value = quote_value[exit_bar] / exit_fill if value_per_price else quote_value[exit_bar]
    exit_commission_unit = commission_per_unit_side + commission_pct * exit_fill * value
    for leg in range(fractions.shape[0]):
        if ((open_legs >> leg) & 1) != 0:
            realised += _write_leg(
                buffer, write_at, s, position_id, leg, side, signal_idx, entry_idx, exit_bar, entry_price,
                exit_price, entry_fill, exit_fill, stop_price, legs[_LEG_LEVEL, leg], legs[_LEG_SIZE, leg],
                fractions[leg], entry_cost_pips, exit_cost, pip_size, value, entry_commission_unit,
                exit_commission_unit, risk_amount, reason,
            )
            write_at += 1
    return write_at, realised


@njit(cache=True, inline="always")
def _fill_targets(
    buffer, write_at, s, position_id, side, signal_idx, entry_idx, bar, entry_price, reached, at_open,
    entry_fill, stop_price, legs, open_legs, size, fractions, entry_cost_pips, risk_amount,
    entry_commission_unit, maker_commission_pct, realised,
    cost_pips, cost_fraction, pip_size, commission_per_unit_side, quote_value, value_per_price,
):
    """Fill, in leg order, every open target that price ``reached`` on ``bar`` (at the open or its level).

    Returns (write_at, realised, open_legs, size still open, whether a target filled).
    """
    filled = False
    for leg in range(fractions.shape[0]):
        level = legs[_LEG_LEVEL, leg]
        if ((open_legs >> leg) & 1) != 0 and side * (reached - level) >= 0.0:
            exit_price = reached if at_open else level
            exit_cost = _fill_cost_pips(cost_pips, cost_fraction, s, bar, exit_price, pip_size)
            exit_fill = exit_price - side * exit_cost * pip_size
            value = quote_value[bar] / exit_fill if value_per_price else quote_value[bar]
            exit_commission_unit = commission_per_unit_side + maker_commission_pct * exit_fill * value
            realised += _write_leg(
                buffer, write_at, s, position_id, leg, side, signal_idx, entry_idx, bar, entry_price,
                exit_price, entry_fill, exit_fill, stop_price, level, legs[_LEG_SIZE, leg], fractions[leg],
                entry_cost_pips, exit_cost, pip_size, value, entry_commission_unit, exit_commission_unit,
                risk_amount, EXIT_TP,
            )
            write_at += 1
            open_legs &= ~(1 << leg)
            size -= legs[_LEG_SIZE, leg]
            filled = True
    return write_at, realised, open_legs, size, filled


@njit(cache=True)
def _run_block_nb(  # the one long function (STYLE habit 2)
    s, block_start, block_end, write_at, buffer, int_state, float_state, leg_state,
    open_, high, low, close,
    entry, stop_distance, targets, fractions, risk_distance_fallback, warmup, exit_signal, trail_distance,
    break_even,
    cost_pips, cost_fraction, pip_size, commission_per_unit_side, commission_pct, maker_commission_pct,
    max_hold_bars, stops_from, intrabar, tick_scale,
    initial_capital, risk_fraction, compounding, quote_value, value_per_price, equity_out,
):
    """Run scenario ``s`` over bars ``[block_start, block_end)``; return where the next record goes."""
    first_signal_bar = max(1, warmup)
    last_bar = close.shape[0] - 1
    n_targets = targets.shape[1]
    n_legs = fractions.shape[0]
    tradingview = intrabar == INTRABAR_TRADINGVIEW
    legs = leg_state[s]
    side = int_state[s, _SIDE]  # +1 / -1 in a position, 0 flat
    signal_idx = int_state[s, _SIGNAL_IDX]
    entry_idx = int_state[s, _ENTRY_IDX]
    position_id = int_state[s, _POSITION_ID]
    next_position_id = int_state[s, _NEXT_POSITION_ID]
    open_legs = int_state[s, _OPEN_LEGS]  # bit j set while leg j is open
    entry_price = float_state[s, _ENTRY_PRICE]
    entry_fill = float_state[s, _ENTRY_FILL]
    entry_cost_pips = float_state[s, _ENTRY_COST_PIPS]
    stop_price = float_state[s, _STOP_PRICE]
    size = float_state[s, _SIZE]  # units still open
    risk_amount = float_state[s, _RISK_AMOUNT]
    realised = float_state[s, _REALISED]
    entry_commission_unit = float_state[s, _ENTRY_COMMISSION_UNIT]
    best_price = float_state[s, _BEST_PRICE]  # highest high (long) / lowest low (short) since entry
    trail = float_state[s, _TRAIL]  # this position's trailing distance, NaN = none
    trailing = trail == trail
    lower_level, upper_level = _trigger_levels(side, stop_price, legs, open_legs, n_legs)
    time_exit_bar = signal_idx + max_hold_bars if max_hold_bars >= 0 else last_bar

    b = block_start
    while b < block_end:
        signal_bar = -1
        if side == 0:
            # ---- flat: the equity stays the realised equity up to the next signal it may take ----
            while b < block_end:
                equity_out[s, b] = realised
                if entry[b] != 0 and b >= first_signal_bar and b != last_bar:
                    break
                b += 1
            if b == block_end:
                break
            signal_bar = b
        else:
            # ---- in a position: mark each bar that cannot end it ---------------------------------
            # A bar strictly between the levels cannot exit at either (its open is inside its
            # range), and NaN levels are ±inf here, so "no stop" / "no target" need no extra test.
            # The time stop and the last bar bound the run. The trailing stop moves after each close.
            run_end = min(block_end, min(time_exit_bar, last_bar))
            signal_exit = False
            while b < run_end and lower_level < low[b] and high[b] < upper_level:
                value = quote_value[b] / close[b] if value_per_price else quote_value[b]
                marked = size * (close[b] - entry_fill) * side * value - entry_commission_unit * size
                equity_out[s, b] = realised + marked
                # a bare "is not None" test, so numba compiles the branch away for None (no SIM102)
                if trail_distance is not None:  # noqa: SIM102
                    if trailing:
                        best_price, moved_stop = _trailed(
                            side, best_price, high[b], low[b], trail, stop_price, tradingview, tick_scale
                        )
                        if moved_stop != stop_price:
                            stop_price = moved_stop
                            lower_level, upper_level = _trigger_levels(side, stop_price, legs, open_legs, n_legs)
                if exit_signal is not None:  # noqa: SIM102
                    if exit_signal[b] == side:
                        signal_exit = True
                        break
                b += 1
            if not signal_exit:
                if b == block_end:
                    break
                # ---- exits on bar b: the open, inside the bar, the time stop, the last bar -------
                # Target legs fill one by one; whatever closes the rest (the stop, the time stop, the
                # last bar) is noted in close_reason and written once below, so the record-writing
                # code exists in few copies (the bar loop's code size is what keeps it fast).
                target_filled = False
                close_reason = _NO_EXIT
                close_price = np.nan
                if low[b] <= lower_level or high[b] >= upper_level:
                    bar_open = open_[b]
                    gap_allowed = b > entry_idx or stops_from == STOPS_FROM_SIGNAL_CLOSE
                    adverse = low[b] if side > 0 else high[b]
                    favourable = high[b] if side > 0 else low[b]
                    stop_hit = side * (adverse - stop_price) <= 0.0
                    # tradingview: the path goes to the high first only when the high is strictly
                    # nearer the open (a tie goes to the low first, as TradingView's emulator and
                    # PyneCore do); to the favourable extreme first means the targets before the stop,
                    # unless the path starts on the stop (an entry bar whose fill-based stop is
                    # beyond its open: no gap exit there, the stop is the first level touched)
                    high_first = high[b] - bar_open < bar_open - low[b]
                    open_past_stop = side * (bar_open - stop_price) <= 0.0
                    targets_first = tradingview and (high_first == (side > 0)) and not open_past_stop
                    if gap_allowed and open_past_stop:  # gapped through the stop: every leg at the open
                        close_reason = EXIT_SL
                        close_price = bar_open
                    else:
                        # phase 0: targets the open gapped past (filled at the open); phase 1: targets
                        # inside the bar, unless the stop comes first
                        for phase in range(2):
                            if phase == 0 and not gap_allowed:
                                continue
                            if phase == 1 and stop_hit and not targets_first:
                                break
                            reached = bar_open if phase == 0 else favourable
                            if not (reached >= upper_level if side > 0 else reached <= lower_level):
                                continue  # short of the nearest target (a trigger level)
                            write_at, realised, open_legs, size, filled = _fill_targets(
                                buffer, write_at, s, position_id, side, signal_idx, entry_idx, b, entry_price,
                                reached, phase == 0, entry_fill, stop_price, legs,
                                open_legs, size, fractions, entry_cost_pips, risk_amount, entry_commission_unit,
                                maker_commission_pct, realised, cost_pips, cost_fraction, pip_size,
                                commission_per_unit_side, quote_value, value_per_price,
                            )
                            target_filled = target_filled or filled
                        if stop_hit and open_legs != 0:
                            close_reason = EXIT_SL
                            close_price = stop_price
                if close_reason == _NO_EXIT and open_legs != 0 and b in (time_exit_bar, last_bar):
                    close_reason = EXIT_TIME if b == time_exit_bar and max_hold_bars >= 0 else EXIT_EOD
                    close_price = close[b]
                if close_reason != _NO_EXIT:
                    write_at, realised = _close_open_legs(
                        buffer, write_at, s, position_id, side, signal_idx, entry_idx, b, entry_price,
                        close_price, entry_fill, stop_price, legs, open_legs, fractions, entry_cost_pips,
                        risk_amount, entry_commission_unit, commission_pct, close_reason, realised,
                        cost_pips, cost_fraction, pip_size, commission_per_unit_side, quote_value,
                        value_per_price,
                    )
                    open_legs = 0
                if open_legs == 0:
                    side = 0
                    continue  # flat again at this close: the flat run marks it and may take a signal
                # ---- still open after bar b: mark it, move the stop, read the exit signal --------
                value = quote_value[b] / close[b] if value_per_price else quote_value[b]
                marked = size * (close[b] - entry_fill) * side * value - entry_commission_unit * size
                equity_out[s, b] = realised + marked
                if trail_distance is not None:  # noqa: SIM102
                    if trailing:
                        best_price, stop_price = _trailed(
                            side, best_price, high[b], low[b], trail, stop_price, tradingview, tick_scale
                        )
                if break_even and target_filled:
                    candidate = _on_tick_grid(entry_fill, tick_scale, -side) if tradingview else entry_fill
                    if stop_price != stop_price or side * (candidate - stop_price) > 0.0:
                        stop_price = candidate
                lower_level, upper_level = _trigger_levels(side, stop_price, legs, open_legs, n_legs)
                if exit_signal is not None:  # noqa: SIM102
                    if exit_signal[b] == side:
                        signal_exit = True
                if not signal_exit:
                    b += 1
                    continue
            # ---- exit signal at the close of bar b: every open leg fills at the open of b+1 ------
            write_at, realised = _close_open_legs(
                buffer, write_at, s, position_id, side, signal_idx, entry_idx, b + 1, entry_price,
                open_[b + 1], entry_fill, stop_price, legs, open_legs, fractions, entry_cost_pips,
                risk_amount, entry_commission_unit, commission_pct, EXIT_SIGNAL, realised,
                cost_pips, cost_fraction, pip_size, commission_per_unit_side, quote_value, value_per_price,
            )
            open_legs = 0
            side = 0
            if entry[b] != 0 and b >= first_signal_bar and b != last_bar:
                signal_bar = b  # the next position opens at the same open (a reversal if opposite)
            else:
                b += 1
                continue

        # ---- the signal at the close of signal_bar fills at the next open --------------------------
        signal = entry[signal_bar]
        fill_bar = signal_bar + 1
        entry_price = open_[fill_bar]
        entry_cost_pips = _fill_cost_pips(cost_pips, cost_fraction, s, fill_bar, entry_price, pip_size)
        entry_fill = entry_price + signal * entry_cost_pips * pip_size
        reference = close[signal_bar] if stops_from == STOPS_FROM_SIGNAL_CLOSE else entry_fill
        side = signal
        signal_idx = signal_bar
        entry_idx = fill_bar
        position_id = next_position_id
        next_position_id += 1
        stop_price = reference - signal * stop_distance[signal_bar]
        if tradingview:
            stop_price = _on_tick_grid(stop_price, tick_scale, -side)
        time_exit_bar = signal_bar + max_hold_bars if max_hold_bars >= 0 else last_bar
        base_equity = realised if compounding else initial_capital
        risk_amount = max(risk_fraction * base_equity, 0.0)
        risk_distance = stop_distance[signal_bar]
        if not np.isfinite(risk_distance):
            risk_distance = risk_distance_fallback[signal_bar]
        value = quote_value[signal_bar] / entry_fill if value_per_price else quote_value[signal_bar]
        if np.isfinite(risk_distance) and risk_distance > 0.0 and risk_amount > 0.0 and value > 0.0:
            size = risk_amount / (risk_distance * value)
        else:
            size = 0.0
        entry_commission_unit = commission_per_unit_side + commission_pct * entry_fill * value
        for leg in range(n_legs):
            legs[_LEG_SIZE, leg] = fractions[leg] * size
            level = reference + signal * targets[signal_bar, leg] if leg < n_targets else np.nan
            legs[_LEG_LEVEL, leg] = _on_tick_grid(level, tick_scale, side) if tradingview else level
        open_legs = (1 << n_legs) - 1
        trail = np.nan
        if trail_distance is not None:
            trail = trail_distance[signal_bar]
        trailing = trail == trail
        best_price = -np.inf if side > 0 else np.inf
        lower_level, upper_level = _trigger_levels(side, stop_price, legs, open_legs, n_legs)
        b = fill_bar

    int_state[s, _SIDE] = side
    int_state[s, _SIGNAL_IDX] = signal_idx
    int_state[s, _ENTRY_IDX] = entry_idx
    int_state[s, _POSITION_ID] = position_id
    int_state[s, _NEXT_POSITION_ID] = next_position_id
    int_state[s, _OPEN_LEGS] = open_legs
    float_state[s, _ENTRY_PRICE] = entry_price
    float_state[s, _ENTRY_FILL] = entry_fill
    float_state[s, _ENTRY_COST_PIPS] = entry_cost_pips
    float_state[s, _STOP_PRICE] = stop_price
    float_state[s, _SIZE] = size
    float_state[s, _RISK_AMOUNT] = risk_amount
    float_state[s, _REALISED] = realised
    float_state[s, _ENTRY_COMMISSION_UNIT] = entry_commission_unit
    float_state[s, _BEST_PRICE] = best_price
    float_state[s, _TRAIL] = trail
    return write_at
