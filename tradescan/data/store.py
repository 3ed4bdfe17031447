"""The Parquet store: one file per (symbol, timeframe) at ``<data_dir>/<SYMBOL>/<TF>.parquet``.

Files are written deterministically — a fixed schema with no pandas index or metadata, fixed
compression, no write timestamps — so the same bars always give the same bytes, and the SHA-256 of
those bytes (kept in ``manifest.json``) can stand for the data in a run's lineage. A write validates
first, then commits the file and its manifest entry together (``tradescan.data.commit``): a failed
write at any step leaves the old file and manifest as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from tradescan.data.commit import backup_path, commit_dataset, file_sha256, recover
from tradescan.data.manifest import (
    DEFAULT_TZ,
    ManifestEntry,
    dataset_key,
    describe_errors,
    manifest_lock,
    read_manifest,
)
from tradescan.data.quote import cut
from tradescan.data.schema import BAR_COLUMNS, TIME_DTYPE, VALUE_COLUMNS, standard_bars
from tradescan.data.sources import DatasetSource, FrameSource, ImportSource, SourceKind
from tradescan.data.timeframes import TIMEFRAMES, timeframe_ns, validate_timeframe
from tradescan.data.validation import format_time, time_ns, validate_bars
from tradescan.errors import DataError, UnknownNameError
from tradescan.instruments import get as get_instrument
from tradescan.instruments import validate_symbol
from tradescan.paths import data_dir as resolve_data_dir

PARQUET_SCHEMA = pa.schema(
    [pa.field("time", pa.timestamp("ns", tz="UTC"), nullable=False)]
    + [pa.field(name, pa.float64(), nullable=False) for name in VALUE_COLUMNS]
)
# Byte-stream-split floats and delta-coded times compress well even with snappy, which writes a
# million bars in tens of milliseconds (zstd took several times longer for ~20% smaller files).
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "snappy",
    "use_dictionary": False,
    "column_encoding": {"time": "DELTA_BINARY_PACKED", **{name: "BYTE_STREAM_SPLIT" for name in VALUE_COLUMNS}},
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": False,  # no Arrow schema blob: the Parquet types say all there is to say
    "row_group_size": 1 << 20,
}
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset as the manifest describes it.

    Attributes:
        tz: the zone the source's times were written in (the stored bars are UTC).
        source: where the bars came from (``tradescan.data.sources``).
    """

    symbol: str
    timeframe: str
    path: Path
    rows: int
    start: pd.Timestamp
    end: pd.Timestamp
    sha256: str
    tz: str = DEFAULT_TZ
    source: DatasetSource = field(default_factory=FrameSource)


def dataset_path(symbol: str, timeframe: str, data_dir: str | Path | None = None) -> Path:
    """Return where the dataset of ``symbol`` and ``timeframe`` lives (whether or not it exists).

    Both names are validated first, so a symbol such as ``../x`` can never address a file outside
    the data folder.
    """
    symbol = validate_symbol(symbol)
    return resolve_data_dir(data_dir) / symbol / f"{validate_timeframe(timeframe)}.parquet"


def known_symbol(symbol: str) -> str:
    """Return ``symbol`` if the instrument registry knows it; else say how to add it.

    Bars are stored only for instruments the engine can trade (pip size, precision, contract size),
    so a typo is caught at import instead of at the first backtest.

    Raises:
        UnknownNameError: the symbol is unknown; the message suggests close names and names
            ``TRADESCAN_INSTRUMENTS``.
    """
    try:
        get_instrument(symbol)
    except UnknownNameError as exc:
        raise UnknownNameError(f"{exc}; to add it, {ADD_INSTRUMENT_HINT}") from None
    return symbol


ADD_INSTRUMENT_HINT = (
    "describe it in a YAML file (SYMBOL: {pip_size: ..., price_precision: ..., contract_size: ..., base: ..., "
    "quote: ..., asset_class: ..., days_per_year: ...}) and set TRADESCAN_INSTRUMENTS to that file "
    "(merged over the bundled instruments)"
)


def parquet_bytes(bars: pd.DataFrame) -> bytes:
    """Serialise standard bars to Parquet bytes; equal frames always give equal bytes."""
    arrays = [pa.array(time_ns(bars["time"]), type=pa.int64()).cast(PARQUET_SCHEMA.field("time").type)]
    arrays += [pa.array(bars[name].to_numpy(np.float64), type=pa.float64()) for name in VALUE_COLUMNS]
    table = pa.Table.from_arrays(arrays, schema=PARQUET_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **_PARQUET_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


def write_dataset(
    frame: pd.DataFrame,
    symbol: str,
    timeframe: str,
    data_dir: str | Path | None = None,
    *,
    source: str | DatasetSource = "frame",
    may_replace: Collection[SourceKind] | None = None,
) -> DatasetInfo:
    """Validate ``frame`` and store it as the dataset (symbol, timeframe), with its manifest entry.

    Args:
        frame: columns ``time`` (naive times are UTC), ``open high low close`` and optionally ``volume``.
        symbol: an instrument the registry knows (``configs/instruments.yaml`` + ``TRADESCAN_INSTRUMENTS``).
        timeframe: one of ``TIMEFRAMES``.
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).
        source: where the bars came from, recorded in the manifest: a ``DatasetSource`` or a label
            (a ``FrameSource``), also used in error messages.
        may_replace: the source kinds (``"synthetic"``, ``"import"``, ...) an existing dataset may
            have for this write to replace it; None replaces anything, ``()`` nothing but the same
            origin (``same_origin``: an import of the file the manifest records).

    Raises:
        DataError: a bar breaks a validation rule, the dataset exists and ``may_replace`` does not
            cover it, or the write failed; nothing is changed then.
        UnknownNameError: the symbol is not a known instrument.
    """
    origin = FrameSource(label=source) if isinstance(source, str) else source
    label = source if isinstance(source, str) else origin.describe()
    symbol, timeframe = known_symbol(validate_symbol(symbol)), validate_timeframe(timeframe)
    bars = standard_bars(frame, source=label)
    if len(bars) == 0:
        raise DataError(f"{label}: no bars to write for {symbol} {timeframe}")
    validate_bars(bars, source=label, timeframe_ns=timeframe_ns(timeframe))
    return store_valid_bars(bars, symbol, timeframe, data_dir, source=origin, may_replace=may_replace)


def store_valid_bars(
    bars: pd.DataFrame,
    symbol: str,
    timeframe: str,
    data_dir: str | Path | None,
    *,
    source: DatasetSource,
    tz: str = DEFAULT_TZ,
    may_replace: Collection[SourceKind] | None = None,
) -> DatasetInfo:
    """Write already-validated standard bars and their manifest entry as one commit.

    The manifest is read (and checked) under the folder lock before anything is written, so a
    broken manifest refuses the write instead of being overwritten, and the whole write is undone
    on any failure (``tradescan.data.commit``).
    """
    path = dataset_path(known_symbol(symbol), timeframe, data_dir)
    folder = resolve_data_dir(data_dir)
    payload = parquet_bytes(bars)
    times = time_ns(bars["time"])
    info = DatasetInfo(
        symbol=symbol,
        timeframe=timeframe,
        path=path,
        rows=len(bars),
        start=pd.Timestamp(int(times[0]), unit="ns", tz="UTC"),
        end=pd.Timestamp(int(times[-1]), unit="ns", tz="UTC"),
        sha256=hashlib.sha256(payload).hexdigest(),
        tz=tz,
        source=source,
    )
    key, entry = dataset_key(symbol, timeframe), _manifest_entry(info, folder)
    with manifest_lock(folder):
        entries = read_manifest(folder)
        recover(folder, entries)
        _check_may_replace(path, entries.get(key), source, may_replace)
        commit_dataset(folder, path, payload, {**entries, key: entry})
    return info


class DatasetExistsError(DataError):
    """A write would replace a dataset of a kind it may not replace (``may_replace``)."""


def check_may_replace(
    symbol: str,
    timeframe: str,
    data_dir: str | Path | None,
    source: DatasetSource,
    may_replace: Collection[SourceKind] | None,
) -> None:
    """Raise ``DatasetExistsError`` now if a write of ``source`` bars would be refused.

    The write itself checks again under the lock; this lets a command that writes several datasets
    refuse before it writes the first.
    """
    path = dataset_path(symbol, timeframe, data_dir)
    recorded = read_manifest(resolve_data_dir(data_dir)).get(dataset_key(symbol, validate_timeframe(timeframe)))
    _check_may_replace(path, recorded, source, may_replace)


def _check_may_replace(
    path: Path, recorded: ManifestEntry | None, source: DatasetSource, may_replace: Collection[SourceKind] | None
) -> None:
    if may_replace is None or not path.exists():
        return
    if recorded is not None and (recorded.source.kind in may_replace or same_origin(recorded.source, source)):
        return
    held = f"{recorded.source.describe()}" if recorded is not None else "bars that the manifest does not record"
    writer = f"importing {source.path} does" if isinstance(source, ImportSource) else f"{source.kind} bars do"
    raise DatasetExistsError(f"{path} already holds {held}; {writer} not replace it unless asked")


def same_origin(recorded: DatasetSource, source: DatasetSource) -> bool:
    """Whether ``source`` is the origin ``recorded`` already names, so writing it only refreshes the dataset.

    Only an import has an identity beyond its kind: the absolute path of the file, as the manifest
    records it. Re-importing that file (edited or not, in any format) refreshes the dataset; a different
    file is different data.
    """
    return isinstance(recorded, ImportSource) and isinstance(source, ImportSource) and recorded.path == source.path


def _manifest_entry(info: DatasetInfo, folder: Path) -> ManifestEntry:
    fields = {
        "symbol": info.symbol,
        "timeframe": info.timeframe,
        "file": info.path.relative_to(folder).as_posix(),
        "sha256": info.sha256,
        "rows": info.rows,
        "start": info.start.isoformat(),
        "end": info.end.isoformat(),
        "tz": info.tz,
        "source": info.source,
    }
    try:
        return ManifestEntry.model_validate(fields)
    except ValidationError as exc:  # only the caller's tz can be wrong here
        raise DataError(f"{info.symbol} {info.timeframe}: cannot record the dataset: {describe_errors(exc)}") from None


def load(
    symbol: str,
    timeframe: str,
    start: str | dt.date | pd.Timestamp | None = None,
    end: str | dt.date | pd.Timestamp | None = None,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Return the stored bars of ``symbol`` and ``timeframe``, optionally between ``start`` and ``end``.

    Args:
        symbol: a stored symbol (see ``list_datasets``).
        timeframe: one of ``TIMEFRAMES``.
        start: first bar time to include (inclusive); naive times are UTC.
        end: last bar time to include (inclusive). A bare date (``"2024-01-31"`` or a
            ``datetime.date``) includes that whole UTC day, which is what people mean by it.
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).

    Returns:
        DataFrame with ``time`` (datetime64[ns, UTC]) and ``open high low close volume`` (float64),
        oldest first, with a RangeIndex.

    Raises:
        DataError: the dataset does not exist (the message lists what does) or cannot be read, or
            ``start``/``end`` is not a time.
    """
    path = dataset_path(symbol, timeframe, data_dir)
    if not path.is_file():
        raise DataError(_missing_message(symbol, validate_timeframe(timeframe), data_dir))
    bars = _read_parquet(path)
    return _between(bars, _bound(start, is_end=False), _bound(end, is_end=True))


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except PermissionError as exc:
        raise DataError(f"{path}: cannot read the dataset: {_read_reason(exc)}") from None
    except (OSError, pa.ArrowException) as exc:
        reason = cut(str(exc), limit=200)
        raise DataError(f"{path}: not a readable Parquet file ({reason}); re-import it") from None
    if table.column_names != list(BAR_COLUMNS):
        raise DataError(f"{path}: columns {table.column_names}, expected {list(BAR_COLUMNS)}; re-import it")
    frame = table.to_pandas()
    frame["time"] = frame["time"].astype(TIME_DTYPE)
    return frame.astype({name: np.float64 for name in VALUE_COLUMNS})


def _bound(value: str | dt.date | pd.Timestamp | None, *, is_end: bool) -> tuple[int, bool] | None:
    """Return (epoch ns, inclusive) for a start/end argument; a bare end date covers its whole day."""
    if value is None:
        return None
    date_only = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and bool(_DATE_ONLY.match(value))
    )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"cannot read {'end' if is_end else 'start'} time {value!r}; use e.g. 2024-01-31") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if is_end and date_only:
        return int((stamp + pd.Timedelta(days=1)).as_unit("ns").value), False
    return int(stamp.as_unit("ns").value), True


def _between(bars: pd.DataFrame, start: tuple[int, bool] | None, end: tuple[int, bool] | None) -> pd.DataFrame:
    if start is None and end is None:
        return bars
    times = time_ns(bars["time"])
    first = int(np.searchsorted(times, start[0], side="left")) if start else 0
    last = int(np.searchsorted(times, end[0], side="right" if end[1] else "left")) if end else len(times)
    if start and end and end[0] < start[0]:
        raise DataError(f"end {format_time(end[0])} is before start {format_time(start[0])}; swap them or drop one")
    return bars.iloc[first : max(first, last)].reset_index(drop=True)


def _stored_files(folder: Path) -> list[tuple[str, str]]:
    """Return (symbol, timeframe) of every dataset file present in the folder, sorted."""
    found = []
    for path in folder.glob("*/*.parquet"):
        if path.stem in TIMEFRAMES and not path.parent.name.startswith("."):
            found.append((path.parent.name, path.stem))
    return sorted(found, key=lambda item: (item[0], TIMEFRAMES.index(item[1])))


def _missing_message(symbol: str, timeframe: str, data_dir: str | Path | None) -> str:
    folder = resolve_data_dir(data_dir)
    present = _stored_files(folder)
    available = ", ".join(f"{s} {tf}" for s, tf in present[:30]) + (" ..." if len(present) > 30 else "")
    what = f"available: {available}" if present else "the folder has no datasets"
    return (
        f"no data for {symbol} {timeframe} in {folder} ({what}); add it with "
        "'tradescan data import' or 'tradescan data synth'"
    )


LIST_COLUMNS = ["symbol", "timeframe", "rows", "start", "end", "sha256", "tz", "source"]


def list_datasets(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Return one row per stored dataset: symbol, timeframe, rows, start, end, sha256, tz, source.

    ``source`` describes where the bars came from (``import /path/file.csv (mt4)``, ``synthetic
    seed=7 bars=30000 ...``). Files present in the folder but missing from the manifest (copied in by
    hand) are listed too, described from the file itself, with source ``not in the manifest``.

    Raises:
        DataError: the manifest is unreadable or an entry breaks its schema.
    """
    folder = resolve_data_dir(data_dir)
    entries = read_manifest(folder)
    rows = []
    for symbol, timeframe in _stored_files(folder):
        entry = entries.get(dataset_key(symbol, timeframe))
        rows.append(_listed(entry) if entry is not None else _describe_file(folder, symbol, timeframe))
    frame = pd.DataFrame(rows, columns=LIST_COLUMNS)
    return frame.astype({"rows": np.int64, "start": TIME_DTYPE, "end": TIME_DTYPE})


def _listed(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "symbol": entry.symbol,
        "timeframe": entry.timeframe,
        "rows": entry.rows,
        "start": entry.start_time,
        "end": entry.end_time,
        "sha256": entry.sha256,
        "tz": entry.tz,
        "source": entry.source.describe(),
    }


def _describe_file(folder: Path, symbol: str, timeframe: str) -> dict[str, Any]:
    path = folder / symbol / f"{timeframe}.parquet"
    bars = _read_parquet(path)
    times = time_ns(bars["time"])
    return {
        "symbol": symbol,
        "timeframe": timeframe,
        "rows": len(bars),
        "start": pd.Timestamp(int(times[0]), unit="ns", tz="UTC") if len(times) else pd.NaT,
        "end": pd.Timestamp(int(times[-1]), unit="ns", tz="UTC") if len(times) else pd.NaT,
        "sha256": file_sha256(path),
        "tz": "unknown",
        "source": UNRECORDED_SOURCE,
    }


UNRECORDED_SOURCE = "not in the manifest"


def dataset_hash(symbol: str, timeframe: str, data_dir: str | Path | None = None) -> str:
    """Return the SHA-256 of the dataset's Parquet file, as recorded in the manifest.

    The file is hashed again and compared with the manifest, so a file changed behind the store's
    back cannot slip into a run's lineage under its old hash. A file the manifest does not record
    (copied in by hand) is hashed as it is.

    Raises:
        DataError: the dataset does not exist, the manifest is unreadable, or the file no longer
            matches its manifest entry.
    """
    path = dataset_path(symbol, timeframe, data_dir)
    timeframe = validate_timeframe(timeframe)
    if not path.is_file():
        raise DataError(_missing_message(symbol, timeframe, data_dir))
    recorded = read_manifest(resolve_data_dir(data_dir)).get(dataset_key(symbol, timeframe))
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the dataset: {_read_reason(exc)}") from None
    if recorded is not None and recorded.sha256 != actual:
        interrupted = " (a write was interrupted; the next write to the folder repairs it)"
        raise DataError(
            f"{path} changed since it was written (manifest sha256 {recorded.sha256[:12]}..., file {actual[:12]}...)"
            f"{interrupted if backup_path(path).exists() else ''}; re-import it with 'tradescan data import'"
        )
    return actual


def _read_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied; check the file's permissions"
    return str(exc.strerror or exc)
