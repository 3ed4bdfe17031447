"""The bar timeframes Trade_Scan knows, and their lengths.

A timeframe is part of a dataset's file name and decides which resampling is possible, so it is
checked against a fixed list instead of being trusted as free text.
"""

from __future__ import annotations

from tradescan.errors import DataError

TIMEFRAME_MINUTES: dict[str, int] = {
    "M1": 1,
    "M5": 5,
    "M15": 15,
    "M30": 30,
    "H1": 60,
    "H4": 240,
    "D1": 1440,
}
TIMEFRAMES: tuple[str, ...] = tuple(TIMEFRAME_MINUTES)

_NS_PER_MINUTE = 60 * 1_000_000_000


def validate_timeframe(timeframe: str) -> str:
    """Return the canonical (upper-case) timeframe name, or raise ``DataError`` listing the known ones.

    Lower case is accepted (``h1``) because people type it; the stored name is always upper case so
    that one dataset never exists under two file names.
    """
    canonical = timeframe.strip().upper() if isinstance(timeframe, str) else timeframe
    if canonical not in TIMEFRAME_MINUTES:
        raise DataError(f"unknown timeframe {timeframe!r}; known timeframes: {', '.join(TIMEFRAMES)}")
    return str(canonical)


def timeframe_minutes(timeframe: str) -> int:
    """Return the length of one bar of ``timeframe`` in minutes."""
    return TIMEFRAME_MINUTES[validate_timeframe(timeframe)]


def timeframe_ns(timeframe: str) -> int:
    """Return the length of one bar of ``timeframe`` in nanoseconds (the unit of stored times)."""
    return timeframe_minutes(timeframe) * _NS_PER_MINUTE
