"""Compatibility names: the results store now lives in ``tradescan.results`` (one concept per module)."""

from __future__ import annotations

from tradescan.results.errors import FrozenRunError, RunLockedError
from tradescan.results.manifest import utc_now
from tradescan.results.store import FROZEN_MARKER, ResultsStore
from tradescan.results.tables import EQUITY, STAGE2, TRADES, TRIALS

TRIALS_FILE = TRIALS.file
STAGE2_FILE = STAGE2.file
FINALIST_TRADES_FILE = TRADES.file
FINALIST_EQUITY_FILE = EQUITY.file

__all__ = [
    "FINALIST_EQUITY_FILE",
    "FINALIST_TRADES_FILE",
    "FROZEN_MARKER",
    "STAGE2_FILE",
    "TRIALS_FILE",
    "FrozenRunError",
    "ResultsStore",
    "RunLockedError",
    "utc_now",
]
