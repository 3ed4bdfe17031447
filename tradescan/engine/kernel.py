"""The compiled bar loop (DESIGN §4): signals in, trade records and per-bar equity out.

Everything here is NumPy in, NumPy out, ``@njit(cache=True)``: no pandas, dicts or strings. All cost
scenarios run in the same pass over the bars, each with its own position and realised equity, so
the scenarios share every strategy computation and differ only in the ``cost_pips`` row they read.

The pass goes over the bars in blocks of ``BLOCK_BARS``; inside a block each scenario runs with its
position state in local variables (registers) and the block's bars, just read from memory, still
in cache for the next scenario. Keeping the state in per-scenario arrays inside one bar loop, the
obvious layout, is 2-3x slower in numba because every array access must be reloaded.

Within a scenario the bars go by in runs: while flat, a tight loop marks the realised equity up to
the next signal it may take; in a position, a tight loop marks the open trade up to the first bar
that touches a level, the time stop or the last bar, and only that bar takes the full exit rules.

Bar contract, per scenario:

- a signal (``entry[t] != 0``) is read at the close of bar ``t`` when flat, ``t >= max(1, warmup)``
  and ``t`` is not the last bar; it fills at ``open[t+1]`` moved against the trader by the entry cost
  (``cost_pips[s, t+1]``);
- stop/target levels come from the fill (``STOPS_FROM_FILL``) or from ``close[t]``
  (``STOPS_FROM_SIGNAL_CLOSE``); a NaN distance means no such level;
- exits are checked on every bar from ``t+1`` on: a gap through the stop (then the target) exits at
  the open — on the entry bar only with levels from the signal close —, then the stop, then the
  target inside the bar (the stop wins a tie), then the time stop at the close of ``t + max_hold``,
  then end of data at the last close; each exit pays ``cost_pips[s, exit_bar]``;
- a new signal may be read on the close of the exit bar.

Capital: risk amount = ``risk_fraction`` × (realised equity if compounding else initial capital);
size = risk amount / (risk distance × value of one price unit), with the risk distance being the
strategy's stop distance at ``t`` (or ``risk_distance_fallback[t]``, the ATR14, when there is no
stop). Equity on each bar = realised equity + the open position marked at the close (no exit cost,
the entry side's commission already paid).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradescan.engine.records import (
    EXIT_EOD,
    EXIT_SL,
    EXIT_TIME,
    EXIT_TP,
    STOPS_FROM_SIGNAL_CLOSE,
    TRADE_DTYPE,
)

_NO_EXIT = -1


@njit(cache=True, inline="always")
def _trigger_levels(side: int, stop_price: float, target_price: float) -> tuple[float, float]:
    """Return the (lower, upper) levels whose touch may end the position; a missing level is ±inf."""
    lower = stop_price if side > 0 else target_price
    upper = target_price if side > 0 else stop_price
    return (-np.inf if np.isnan(lower) else lower), (np.inf if np.isnan(upper) else upper)


BLOCK_BARS = 2048  # bars per block: 2048 bars of OHLC + signals fit in L2 for the next scenario
INITIAL_TRADES_PER_SCENARIO = 64  # plus one per 16 bars; the buffer grows when that is not enough


def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    risk_distance_fallback: np.ndarray,
    warmup: int,
    cost_pips: np.ndarray,
    pip_size: float,
    max_hold_bars: int,
    stops_from: int,
    initial_capital: float,
    risk_fraction: float,
    compounding: bool,
    commission_per_unit_side: float,
    quote_value: np.ndarray,
    value_per_price: bool,
    equity_out: np.ndarray,
    trade_buffer: np.ndarray | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Simulate every cost scenario over the bars; fill ``equity_out`` and return the trades.

    Args:
        open_, high, low, close: float64[n_bars] prices.
        entry: int8[n_bars], +1/-1/0 read at each bar's close.
        stop_distance, target_distance: float64[n_bars] price distances (NaN = none).
        risk_distance_fallback: float64[n_bars] risk distance used for sizing when there is no stop.
        warmup: signals on bars ``t < warmup`` are ignored (and always on bar 0).
        cost_pips: float64[n_scenarios, n_bars] cost of one fill on each bar.
        pip_size: price units per pip.
        max_hold_bars: close at the close of bar ``t + max_hold_bars``; ``-1`` = no time stop.
        stops_from: ``STOPS_FROM_FILL`` or ``STOPS_FROM_SIGNAL_CLOSE``.
        initial_capital, risk_fraction, compounding: the capital model.
        commission_per_unit_side: commission per unit of base per side (per lot / contract size).
        quote_value: float64[n_bars] account-currency value of one unit of quote currency.
        value_per_price: divide the value by the price (base currency == account currency).
        equity_out: float64[n_scenarios, n_bars], written with the equity at each bar's close.
        trade_buffer: optional TRADE_DTYPE scratch array to write the trades into (reused across
            calls by a session: fresh memory costs page faults); grown when too small.

    Returns:
        (trades per scenario, in time order, as views into the buffer; the buffer used).
    """
    n_scenarios, n_bars = cost_pips.shape
    int_state = np.zeros((n_scenarios, 3), dtype=np.int64)  # side, signal_idx, entry_idx
    float_state = np.zeros((n_scenarios, 8))  # see _run_block_nb
    float_state[:, 7] = initial_capital
    # Each scenario writes its trades into its own region of the buffer (no regrouping later). A
    # buffer reassigned inside compiled code slows its loops down badly, so the compiled pass stops
    # before a block that might overflow a region and resumes here on a bigger buffer.
    block_bars = BLOCK_BARS
    region = INITIAL_TRADES_PER_SCENARIO + n_bars // 16 + block_bars
    if trade_buffer is not None and len(trade_buffer) >= n_scenarios * region:
        buffer = trade_buffer
    else:
        buffer = np.empty(n_scenarios * region, dtype=TRADE_DTYPE)
    used = np.zeros(n_scenarios, dtype=np.int64)
    next_bar = 0
    while True:
        next_bar = run_blocks_nb(
            next_bar, block_bars, used, buffer, int_state, float_state,
            open_, high, low, close, entry, stop_distance, target_distance, risk_distance_fallback,
            warmup, cost_pips, pip_size, max_hold_bars, stops_from, initial_capital, risk_fraction,
            compounding, commission_per_unit_side, quote_value, value_per_price, equity_out,
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
    first_bar: int,
    block_bars: int,
    used: np.ndarray,
    buffer: np.ndarray,
    int_state: np.ndarray,
    float_state: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    risk_distance_fallback: np.ndarray,
    warmup: int,
    cost_pips: np.ndarray,
    pip_size: float,
    max_hold_bars: int,
    stops_from: int,
    initial_capital: float,
    risk_fraction: float,
    compounding: bool,
    commission_per_unit_side: float,
    quote_value: np.ndarray,
    value_per_price: bool,
    equity_out: np.ndarray,
) -> int:
    """Run the bars from ``first_bar`` on, ``block_bars`` at a time; return the next bar to run.

    ``used[s]`` counts scenario ``s``'s records, written from ``s * region`` on. Returns early,
    before a block, when a region could not take one trade per bar of that block; the caller grows
    the buffer and calls again with the same state arrays.
    """
    n_scenarios, n_bars = cost_pips.shape
    region = buffer.shape[0] // n_scenarios
    for block_start in range(first_bar, n_bars, block_bars):
        for s in range(n_scenarios):
            if used[s] + block_bars > region:
                return block_start
        block_end = min(block_start + block_bars, n_bars)
        for s in range(n_scenarios):
            used[s] = _run_block_nb(
                s, block_start, block_end, s * region + used[s], buffer, int_state, float_state,
                open_, high, low, close, entry, stop_distance, target_distance, risk_distance_fallback,
                warmup, cost_pips, pip_size, max_hold_bars, stops_from, initial_capital, risk_fraction,
                compounding, commission_per_unit_side, quote_value, value_per_price, equity_out,
            ) - s * region
    return n_bars


@njit(cache=True)
def _run_block_nb(  # the one long function (STYLE habit 2)
    s: int,
    block_start: int,
    block_end: int,
    write_at: int,
    buffer: np.ndarray,
    int_state: np.ndarray,
    float_state: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    risk_distance_fallback: np.ndarray,
    warmup: int,
    cost_pips: np.ndarray,
    pip_size: float,
    max_hold_bars: int,
    stops_from: int,
    initial_capital: float,
    risk_fraction: float,
    compounding: bool,
    commission_per_unit_side: float,
    quote_value: np.ndarray,
    value_per_price: bool,
    equity_out: np.ndarray,
) -> int:
    """Run scenario ``s`` over bars ``[block_start, block_end)``; return where the next record goes."""
    first_signal_bar = max(1, warmup)
    last_bar = close.shape[0] - 1
    side = int_state[s, 0]  # +1 / -1 in a position, 0 flat
    signal_idx = int_state[s, 1]
    entry_idx = int_state[s, 2]
    entry_price = float_state[s, 0]
    entry_fill = float_state[s, 1]
    entry_cost_pips = float_state[s, 2]
    stop_price = float_state[s, 3]
    target_price = float_state[s, 4]
    size = float_state[s, 5]
    risk_amount = float_state[s, 6]
    realised = float_state[s, 7]
    lower_level, upper_level = _trigger_levels(side, stop_price, target_price)
    time_exit_bar = signal_idx + max_hold_bars if max_hold_bars >= 0 else last_bar
    entry_commission = commission_per_unit_side * size  # charged at entry, part of the marked equity

    b = block_start
    while b < block_end:
        if side == 0:
            # ---- flat: the equity stays the realised equity up to the next signal it may take ----
            while b < block_end:
                equity_out[s, b] = realised
                if entry[b] != 0 and b >= first_signal_bar and b != last_bar:
                    break
                b += 1
            if b == block_end:
                break
            # ---- the signal at this close fills at the next open -----------------------------
            signal = entry[b]
            fill_bar = b + 1
            entry_cost_pips = cost_pips[s, fill_bar]
            entry_price = open_[fill_bar]
            entry_fill = entry_price + signal * entry_cost_pips * pip_size
            reference = close[b] if stops_from == STOPS_FROM_SIGNAL_CLOSE else entry_fill
            side = signal
            signal_idx = b
            entry_idx = fill_bar
            stop_price = reference - signal * stop_distance[b]
            target_price = reference + signal * target_distance[b]
            lower_level, upper_level = _trigger_levels(side, stop_price, target_price)
            time_exit_bar = b + max_hold_bars if max_hold_bars >= 0 else last_bar
            base_equity = realised if compounding else initial_capital
            risk_amount = max(risk_fraction * base_equity, 0.0)
            risk_distance = stop_distance[b]
            if not np.isfinite(risk_distance):
                risk_distance = risk_distance_fallback[b]
            value = quote_value[b] / entry_fill if value_per_price else quote_value[b]
            if np.isfinite(risk_distance) and risk_distance > 0.0 and risk_amount > 0.0 and value > 0.0:
                size = risk_amount / (risk_distance * value)
            else:
                size = 0.0
            entry_commission = commission_per_unit_side * size
            b += 1
            continue

        # ---- in a position: mark each bar that cannot end it -------------------------------------
        # A bar strictly between the levels cannot exit at either (its open is inside its range),
        # and NaN levels are ±inf here, so "no stop" / "no target" need no extra test. The time
        # stop and the last bar bound the run.
        run_end = min(block_end, min(time_exit_bar, last_bar))
        while b < run_end and lower_level < low[b] and high[b] < upper_level:
            value = quote_value[b] / close[b] if value_per_price else quote_value[b]
            equity_out[s, b] = realised + (size * (close[b] - entry_fill) * side * value - entry_commission)
            b += 1
        if b == block_end:
            break

        # ---- exits: a level touched, the time stop or the last bar -------------------------------
        exit_price = np.nan
        reason = _NO_EXIT
        touched = low[b] <= lower_level or high[b] >= upper_level
        if touched and (b > entry_idx or stops_from == STOPS_FROM_SIGNAL_CLOSE):
            bar_open = open_[b]
            if side * (bar_open - stop_price) <= 0.0:
                exit_price = bar_open
                reason = EXIT_SL
            elif side * (bar_open - target_price) >= 0.0:
                exit_price = bar_open
                reason = EXIT_TP
        if touched and reason == _NO_EXIT:
            adverse = low[b] if side > 0 else high[b]
            favourable = high[b] if side > 0 else low[b]
            if side * (adverse - stop_price) <= 0.0:
                exit_price = stop_price
                reason = EXIT_SL
            elif side * (favourable - target_price) >= 0.0:
                exit_price = target_price
                reason = EXIT_TP
        if reason == _NO_EXIT and b in (time_exit_bar, last_bar):
            exit_price = close[b]
            reason = EXIT_TIME if b == time_exit_bar and max_hold_bars >= 0 else EXIT_EOD
        if reason == _NO_EXIT:  # only on a bar whose low or high is NaN: mark it and go on
            value = quote_value[b] / close[b] if value_per_price else quote_value[b]
            equity_out[s, b] = realised + (size * (close[b] - entry_fill) * side * value - entry_commission)
            b += 1
            continue
        exit_cost = cost_pips[s, b]
        exit_fill = exit_price - side * exit_cost * pip_size
        value = quote_value[b] / exit_fill if value_per_price else quote_value[b]
        pnl = size * (exit_fill - entry_fill) * side * value - commission_per_unit_side * size * 2.0
        gross_pips = (exit_price - entry_price) * side / pip_size
        record = buffer[write_at]
        record["scenario"] = s
        record["side"] = side
        record["signal_idx"] = signal_idx
        record["entry_idx"] = entry_idx
        record["exit_idx"] = b
        record["entry_price"] = entry_price
        record["exit_price"] = exit_price
        record["entry_fill"] = entry_fill
        record["exit_fill"] = exit_fill
        record["stop_price"] = stop_price
        record["target_price"] = target_price
        record["size"] = size
        record["gross_pips"] = gross_pips
        record["cost_pips"] = entry_cost_pips + exit_cost
        record["net_pips"] = gross_pips - (entry_cost_pips + exit_cost)
        record["pnl"] = pnl
        record["r_multiple"] = pnl / risk_amount if size > 0.0 else np.nan
        record["bars_held"] = b - entry_idx + 1
        record["exit_reason"] = reason
        write_at += 1
        realised += pnl
        side = 0
        # Flat again at this close: the flat run above marks it and may take a new signal here.

    int_state[s, 0] = side
    int_state[s, 1] = signal_idx
    int_state[s, 2] = entry_idx
    float_state[s, 0] = entry_price
    float_state[s, 1] = entry_fill
    float_state[s, 2] = entry_cost_pips
    float_state[s, 3] = stop_price
    float_state[s, 4] = target_price
    float_state[s, 5] = size
    float_state[s, 6] = risk_amount
    float_state[s, 7] = realised
    return write_at
