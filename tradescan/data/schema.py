"""The shape of a bar frame as the data layer stores and returns it.

Every frame leaving ``tradescan.data`` has exactly ``BAR_COLUMNS`` with fixed dtypes, so that the
Parquet bytes (and therefore the content hash used in lineage) depend only on the bar values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradescan.errors import DataError

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
VALUE_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume")
BAR_COLUMNS: tuple[str, ...] = ("time", *VALUE_COLUMNS)
TIME_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")


def utc_times(values: pd.Series | pd.Index | np.ndarray) -> pd.Series:
    """Return ``values`` as a ``datetime64[ns, UTC]`` Series; naive times are taken to be UTC."""
    index = pd.DatetimeIndex(pd.to_datetime(values))
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return pd.Series(index.as_unit("ns"), dtype=TIME_DTYPE)


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
        columns: dict[str, object] = {"time": utc_times(frame[lower["time"]]).to_numpy()}
        for name in VALUE_COLUMNS:
            values = frame[lower[name]] if name in lower else np.zeros(len(frame))
            columns[name] = np.asarray(pd.to_numeric(values), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: cannot convert to bars: {exc}") from exc
    result = pd.DataFrame(columns)
    result["time"] = result["time"].astype(TIME_DTYPE)
    return result
