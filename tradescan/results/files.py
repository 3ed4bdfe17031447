"""Reading and writing the results store's files with one-line errors instead of tracebacks.

Every failure names the file, says what was wrong (not JSON, cut off, not Parquet, permission
denied, disk full) and what the file should hold, so that a person can tell a damaged file from a
permission problem or a full disk.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan.results.errors import ResultsFileError, ResultsWriteError

MAX_SHOWN_CHARS = 80
COMMIT_METADATA_KEY = b"tradescan.commit"
# zstd: 25-30 % smaller than Parquet's default snappy on the run tables (finalists' trades 4.3 -> 3.9 MB,
# daily equity 2.0 -> 1.4 MB per symbol of the headline run); pandas, polars, DuckDB and Spark read it.
PARQUET_COMPRESSION = "zstd"

_OS_ERROR_TEXT = {
    errno.ENOSPC: "disk full (no space left on the device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is not a folder",
}
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def cut(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """Return ``text`` shortened to ``limit`` characters (with a note of its length) for messages."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def describe_os_error(exc: OSError) -> str:
    """Return a short reason for an ``OSError`` ("disk full …", "permission denied", …)."""
    if exc.errno in _OS_ERROR_TEXT:
        return _OS_ERROR_TEXT[exc.errno]
    return cut(exc.strerror or str(exc) or type(exc).__name__)


def is_disk_full(exc: BaseException) -> bool:
    """Return whether ``exc`` or one of its causes is a full disk (``ENOSPC``, ``EDQUOT``, SQLite's own)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        if "database or disk is full" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def read_text(path: Path, what: str) -> str:
    """Return the UTF-8 text of ``path``; a missing file raises ``FileNotFoundError`` for the caller."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path} ({what}): {describe_os_error(exc)}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path}: not UTF-8 text; expected {what}") from None


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Return the JSON object in ``path`` or raise naming the file, the fault and what it should hold."""
    text = read_text(path, what)
    if not text.strip():
        raise ResultsFileError(f"{path}: empty file; expected {what}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        stripped = text.rstrip()
        ending = " (the file is cut off)" if exc.pos >= len(stripped) or not stripped.endswith("}") else ""
        raise ResultsFileError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}){ending}; expected {what}"
        ) from None
    if not isinstance(value, dict):
        raise ResultsFileError(f"{path}: holds a JSON {type(value).__name__}; expected {what} (a JSON object)")
    return value


def read_table(path: Path, what: str) -> tuple[pd.DataFrame, str | None]:
    """Return a Parquet table and the commit token stored in its metadata (``None`` when absent)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # One open file for the footer and the data: a commit renaming a new file over the path between
        # two opens (pq.read_table(path) opens it twice) would pair one commit's token with another's rows.
        with path.open("rb") as stream:
            table = pq.read_table(stream)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno is not None:
            raise ResultsFileError(f"cannot read {path} ({what}): {describe_os_error(exc)}") from None
        raise ResultsFileError(f"{path}: not a readable Parquet file ({cut(str(exc))}); expected {what}") from None
    except (pa.ArrowException, ValueError) as exc:
        raise ResultsFileError(f"{path}: not a readable Parquet file ({cut(str(exc))}); expected {what}") from None
    metadata = table.schema.metadata or {}
    token = metadata.get(COMMIT_METADATA_KEY)
    try:
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise ResultsFileError(f"{path}: cannot convert to a table ({cut(str(exc))}); expected {what}") from None
    return frame, token.decode("utf-8", "replace") if token is not None else None


def write_table(frame: pd.DataFrame, path: Path, token: str) -> None:
    """Write ``frame`` as Parquet with the commit ``token`` in its metadata, flushed to disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), COMMIT_METADATA_KEY: token.encode("utf-8")}
    pq.write_table(table.replace_schema_metadata(metadata), path, compression=PARQUET_COMPRESSION)
    fsync_file(path)


def write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a new file ``path`` and flush it to disk."""
    with path.open("xb") as stream:
        stream.write(payload)
        stream.flush()
        os.fsync(stream.fileno())


def fsync_file(path: Path) -> None:
    """Flush a written file's data to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk where the platform allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its renames are durable on their own
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on folders; the renames still happened
    finally:
        os.close(descriptor)


def write_failed(path: Path, exc: OSError, *, kept: str) -> ResultsWriteError:
    """Return the error for a failed write of ``path``, saying what was kept."""
    return ResultsWriteError(f"cannot write {path}: {describe_os_error(exc)}; {kept}")
