"""Typed records the compiled kernel produces: sides, exit reasons, modes and the trade dtype.

The kernel works on integers only (no strings in ``@njit`` code); these names turn them back into
the labels users see (``SL``, ``TP``, ``TIME``, ``EOD``, ``SIGNAL``).
"""

from __future__ import annotations

import numpy as np

EXIT_SL = 0        # the stop (initial, trailed or moved to break-even)
EXIT_TP = 1        # a target
EXIT_TIME = 2      # the time stop
EXIT_EOD = 3       # end of data
EXIT_SIGNAL = 4    # the strategy's exit signal, filled at the next open
EXIT_REASON_NAMES = ("SL", "TP", "TIME", "EOD", "SIGNAL")

# Where stop and target levels are measured from (DESIGN §4).
STOPS_FROM_FILL = 0            # the entry fill price (default)
STOPS_FROM_SIGNAL_CLOSE = 1    # the signal bar's close: a bracket order priced when it is sent
STOPS_FROM_NAMES = ("fill", "signal_close")

# Which level comes first when several lie inside one bar (DESIGN §4, ``intrabar``).
INTRABAR_STOP_FIRST = 0        # the stop before any target (conservative, default)
INTRABAR_TRADINGVIEW = 1       # TradingView's broker emulator path, levels on the tick grid
INTRABAR_NAMES = ("stop_first", "tradingview")

NO_TIME_STOP = -1              # max_hold_bars value the kernel reads as "no time stop"

MAX_TARGETS = 4                # targets of one multi-target plan
MAX_LEGS = MAX_TARGETS + 1     # plus the remainder that rides the stop, time stop, signal or EOD

SCENARIO_NAMES = ("A", "B", "C")

# One row per closed leg. A position is one or more legs: one per target of its plan (leg 1..k)
# and, when the targets' fractions leave a remainder, that remainder (leg k+1); a position without
# a multi-target plan is the single leg 1. Rows of one position are consecutive and share its
# ``position_id``. Indices are bar positions in the series the kernel ran on.
TRADE_DTYPE = np.dtype(
    [
        ("scenario", np.int8),        # index into the scenarios the kernel ran
        ("side", np.int8),            # +1 long, -1 short
        ("signal_idx", np.int64),     # bar t whose close produced the signal
        ("entry_idx", np.int64),      # bar t+1 whose open filled the entry
        ("exit_idx", np.int64),       # bar of the exit (t'+1 for a signal read at the close of t')
        ("entry_price", np.float64),  # raw market price (open of entry bar)
        ("exit_price", np.float64),   # raw market price of the exit (stop/target level, open or close)
        ("entry_fill", np.float64),   # entry price moved against the trader by the entry cost
        ("exit_fill", np.float64),    # exit price moved against the trader by the exit cost
        ("stop_price", np.float64),   # stop level in force when the leg closed (NaN = none)
        ("target_price", np.float64), # this leg's target level (NaN = none)
        ("size", np.float64),         # units of the base in this leg (0 when no capital model applies)
        ("gross_pips", np.float64),   # (exit_price - entry_price) * side / pip
        ("cost_pips", np.float64),    # entry + exit cost (spread and slippage) in pips
        ("net_pips", np.float64),     # gross_pips - cost_pips
        ("pnl", np.float64),          # net PnL in account currency, commission included
        ("r_multiple", np.float64),   # pnl / (fraction * risk amount at entry) (NaN without size)
        ("bars_held", np.int64),      # exit_idx - entry_idx + 1: bars the leg was open in
        ("exit_reason", np.int8),     # EXIT_* constant
        ("position_id", np.int64),    # 0, 1, ... per scenario; shared by a position's legs
        ("leg", np.int8),             # 1..k targets, k+1 the remainder; 1 for a single-leg position
        ("fraction", np.float64),     # share of the position this leg closes (legs sum to 1)
        ("commission", np.float64),   # commission of both sides, account currency
        ("cost", np.float64),         # spread + slippage of both fills (exit-bar rate) + commission
        ("cost_bps", np.float64),     # round-trip cost per unit / entry notional per unit, in bps
    ]
)
