"""Typed records the compiled kernel produces: sides, exit reasons and the trade dtype.

The kernel works on integers only (no strings in ``@njit`` code); these names turn them back into
the labels users see (``SL``, ``TP``, ``TIME``, ``EOD``).
"""

from __future__ import annotations

import numpy as np

EXIT_SL = 0
EXIT_TP = 1
EXIT_TIME = 2
EXIT_EOD = 3
EXIT_REASON_NAMES = ("SL", "TP", "TIME", "EOD")

# Where stop and target levels are measured from (DESIGN §4).
STOPS_FROM_FILL = 0            # the entry fill price (default)
STOPS_FROM_SIGNAL_CLOSE = 1    # the signal bar's close: a bracket order priced when it is sent
STOPS_FROM_NAMES = ("fill", "signal_close")

NO_TIME_STOP = -1              # max_hold_bars value the kernel reads as "no time stop"

SCENARIO_NAMES = ("A", "B", "C")

# One row per closed trade. Indices are bar positions in the series the kernel ran on.
TRADE_DTYPE = np.dtype(
    [
        ("scenario", np.int8),        # index into the scenarios the kernel ran
        ("side", np.int8),            # +1 long, -1 short
        ("signal_idx", np.int64),     # bar t whose close produced the signal
        ("entry_idx", np.int64),      # bar t+1 whose open filled the entry
        ("exit_idx", np.int64),       # bar of the exit
        ("entry_price", np.float64),  # raw market price (open of entry bar)
        ("exit_price", np.float64),   # raw market price of the exit (stop/target level, open or close)
        ("entry_fill", np.float64),   # entry price moved against the trader by the entry cost
        ("exit_fill", np.float64),    # exit price moved against the trader by the exit cost
        ("stop_price", np.float64),   # stop level (NaN = none)
        ("target_price", np.float64), # target level (NaN = none)
        ("size", np.float64),         # units of the base (0 when no capital model applies)
        ("gross_pips", np.float64),   # (exit_price - entry_price) * side / pip
        ("cost_pips", np.float64),    # entry + exit cost in pips
        ("net_pips", np.float64),     # gross_pips - cost_pips
        ("pnl", np.float64),          # net PnL in account currency, commission included
        ("r_multiple", np.float64),   # pnl / risk amount at entry (NaN without a stop)
        ("bars_held", np.int64),      # exit_idx - entry_idx + 1: bars the position was open in
        ("exit_reason", np.int8),     # EXIT_* constant
    ]
)
