"""The shape of a bar frame as the data layer stores and returns it.

Every frame leaving ``tradescan.data`` has exactly ``BAR_COLUMNS`` with fixed dtypes, so that the
Parquet bytes (and therefore the content hash used in lineage) depend only on the bar values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradescan.data.quote import cut
from tradescan.errors import DataError

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
VALUE_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
BAR_COLUMNS: tuple[str, ...] = ("time", *VALUE_COLUMNS)
TIME_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")

# Bar times are int64 nanoseconds (datetime64[ns]), which hold 1677-09-21 .. 2262-04-11; the store keeps
# the whole years inside that span, and anything outside is an error, never a wrap-around by centuries.
FIRST_YEAR, LAST_YEAR = 1678, 2261
FIRST_TIME_NS = int(pd.Timestamp(f"{FIRST_YEAR}-01-01").value)
END_TIME_NS = int(pd.Timestamp(f"{LAST_YEAR + 1}-01-01").value)  # exclusive
TIME_RANGE_TEXT = f"years {FIRST_YEAR}-{LAST_YEAR}"
# Importers mark time cells they could not use: NO_TIME_NS did not parse; OUT_OF_RANGE_NS parsed to a
# time outside the range. Both lie below FIRST_TIME_NS, so no real time is ever mistaken for them.
NO_TIME_NS = int(np.iinfo(np.int64).min)
OUT_OF_RANGE_NS = NO_TIME_NS + 1


def unusable_times(times_ns: np.ndarray) -> np.ndarray:
    """Return the mask of importer times that did not parse or were out of range."""
    return times_ns <= OUT_OF_RANGE_NS


def ns_in_range(nanoseconds: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Return int64 times: ``NO_TIME_NS`` where not ``valid``, ``OUT_OF_RANGE_NS`` outside the range."""
    inside = (nanoseconds >= FIRST_TIME_NS) & (nanoseconds < END_TIME_NS)
    return np.where(valid, np.where(inside, nanoseconds, OUT_OF_RANGE_NS), NO_TIME_NS).astype(np.int64)


def utc_times(values: pd.Series | pd.Index | np.ndarray, *, source: str = "frame") -> pd.Series:
    """Return ``values`` as a ``datetime64[ns, UTC]`` Series; naive times are taken to be UTC.

    Raises:
        DataError: a time lies outside the range the store can hold (named by row), rather than
            wrapping around when cast to nanoseconds.
    """
    index = pd.DatetimeIndex(pd.to_datetime(values))
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    _check_time_range(index, source)
    return pd.Series(index.as_unit("ns"), dtype=TIME_DTYPE)


def _check_time_range(index: pd.DatetimeIndex, source: str) -> None:
    """Refuse times outside the store's range, compared in the index's own unit (no overflow)."""
    per_ns = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[index.unit]
    ticks = np.asarray(index.asi8)
    present = ~np.asarray(index.isna())
    outside = present & ((ticks < -(-FIRST_TIME_NS // per_ns)) | (ticks >= -(-END_TIME_NS // per_ns)))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"{source} row {row}: time {index[row]} is outside the {TIME_RANGE_TEXT} the store can hold "
            f"(rule: times within {TIME_RANGE_TEXT})"
        )


def empty_bars() -> pd.DataFrame:
    """Return a bar frame with no rows and the standard dtypes."""
    frame = pd.DataFrame({name: np.empty(0, np.float64) for name in VALUE_COLUMNS})
    frame.insert(0, "time", pd.Series(pd.DatetimeIndex([], tz="UTC").as_unit("ns")))
    return frame


def standard_bars(frame: pd.DataFrame, *, source: str = "frame") -> pd.DataFrame:
    """Return ``frame`` reduced to ``BAR_COLUMNS`` with standard dtypes and a fresh RangeIndex.

    A missing ``volume`` column becomes 0.0 (DESIGN §2: volume is optional); other missing columns
    are an error naming what is there.
    """
    lower = {str(column).lower(): column for column in frame.columns}
    missing = [name for name in ("time", *PRICE_COLUMNS) if name not in lower]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; has {list(frame.columns)}")
    try:
        columns: dict[str, object] = {"time": utc_times(frame[lower["time"]], source=source).to_numpy()}
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: cannot convert the times to UTC times: {cut(str(exc))}") from None
    try:
        for name in VALUE_COLUMNS:
            values = frame[lower[name]] if name in lower else np.zeros(len(frame))
            columns[name] = np.asarray(pd.to_numeric(values), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: column {name!r} is not numbers: {cut(str(exc))}") from None
    result = pd.DataFrame(columns)
    result["time"] = result["time"].astype(TIME_DTYPE)
    return result
