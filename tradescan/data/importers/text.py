"""Reading delimited text files fast, while keeping what validation needs to name a bad line.

One ``pandas.read_csv`` call (C engine, which pandas may run on several threads) reads the file with
inferred types; a numeric column that pandas had to read as text holds a bad cell, and only that
column is converted cell by cell so the bad cells can be found and quoted. Blank lines are read as
empty rows (not skipped) so that every row keeps the line number an editor shows, then left out.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradescan.data.quote import cut
from tradescan.data.schema import VALUE_COLUMNS, empty_bars, unusable_times
from tradescan.data.validation import ParsedBars
from tradescan.errors import DataError

_HEAD_BYTES = 64 * 1024
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class TextFile:
    """A data file to import: its path, encoding and first few non-blank lines (for detection)."""

    path: Path
    label: str
    encoding: str
    first_lines: tuple[str, ...]
    leading_blank_lines: int = 0


def open_text(path: str | Path) -> TextFile:
    """Return the file's encoding (from its byte-order mark; MetaTrader 5 writes UTF-16) and first lines.

    Raises:
        DataError: the file is missing, unreadable, empty, binary, or has no line break where the
            first bars should be (a CSV of bars has one bar per line).
    """
    file_path = Path(path)
    label = str(path)
    head, size = _read_head(file_path, label)
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    _refuse_non_csv(head, size, encoding, label)
    all_lines = head.decode(encoding, errors="replace").splitlines()
    if len(head) == _HEAD_BYTES:
        all_lines = all_lines[:-1]  # the read may have cut the last line short
    lines = tuple(line.strip() for line in all_lines if line.strip())[:5]
    if not lines:
        raise DataError(f"{label}: holds only blank lines ({_size_text(size)}), no bars")
    leading_blank_lines = next(index for index, line in enumerate(all_lines) if line.strip())
    return TextFile(file_path, label, encoding, lines, leading_blank_lines)


def _read_head(file_path: Path, label: str) -> tuple[bytes, int]:
    try:
        with file_path.open("rb") as handle:
            return handle.read(_HEAD_BYTES), os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise DataError(f"{label}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{label}: is a folder; give the path of a data file") from None
    except PermissionError:
        raise DataError(f"{label}: cannot read: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise DataError(f"{label}: cannot read: {exc.strerror or exc}") from None


def _refuse_non_csv(head: bytes, size: int, encoding: str, label: str) -> None:
    """Say what a file is when it cannot be a CSV of bars: empty, binary, or one endless line."""
    if not head:
        raise DataError(f"{label}: the file is empty (0 bytes)")
    if encoding == "utf-8" and b"\x00" in head:
        raise DataError(f"{label}: a binary file ({_size_text(size)}, NUL bytes in it), not a CSV of bars")
    line_break = b"\n\x00" if encoding == "utf-16" else b"\n"
    if len(head) == _HEAD_BYTES and line_break not in head and b"\r" not in head:
        raise DataError(
            f"{label}: no line break in its first {_HEAD_BYTES // 1024} KiB ({_size_text(size)} in all): "
            "not a CSV of bars, which has one bar per line"
        )


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:,.0f} KiB" if size < 1 << 20 else f"{size / (1 << 20):,.1f} MiB"


def split_fields(line: str, separator: str) -> list[str]:
    """Split one line into fields, trimming spaces and quotes."""
    return [part.strip().strip('"').strip() for part in line.split(separator)]


@dataclass
class RawTable:
    """Columns as read from the file (numeric ones as float64), their line numbers and unparsed cells."""

    columns: pd.DataFrame
    line_numbers: np.ndarray
    unparsed: dict[str, pd.Series] = field(default_factory=dict)


def read_table(
    text_file: TextFile,
    *,
    separator: str,
    has_header: bool,
    names: Sequence[str],
    usecols: Sequence[str],
    numeric: Sequence[str],
    format_label: str,
) -> RawTable:
    """Read the columns ``usecols`` of a delimited file, naming them ``names`` (one per field).

    Raises:
        DataError: the file does not have the shape of ``format_label`` (pandas' message is kept).
    """
    options: dict[str, Any] = {
        "sep": separator,
        "header": 0 if has_header else None,
        "names": list(names),  # no usecols: pandas would then silently ignore extra fields on a line
        "skiprows": text_file.leading_blank_lines or None,
        "skip_blank_lines": False,
        "engine": "c",
        "encoding": text_file.encoding,
    }
    try:
        columns = pd.read_csv(text_file.path, **options)
    except UnicodeError as exc:
        raise DataError(f"{text_file.label}: not readable as {text_file.encoding} text: {cut(str(exc))}") from None
    except PermissionError:
        raise DataError(f"{text_file.label}: cannot read: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise DataError(f"{text_file.label}: cannot read: {exc.strerror or exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{text_file.label}: cannot read as {format_label}: {cut(reason, limit=200)}") from None
    first_line = (2 if has_header else 1) + text_file.leading_blank_lines
    columns, line_numbers = _without_blank_rows(columns[list(usecols)], first_line)
    columns, unparsed = _coerce_numbers(columns, numeric)
    return RawTable(columns=columns, line_numbers=line_numbers, unparsed=unparsed)


def _without_blank_rows(columns: pd.DataFrame, first_line: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop entirely empty rows (blank lines), keeping every other row's editor line number."""
    line_numbers = np.arange(len(columns), dtype=np.int64) + first_line
    if not columns.iloc[:, 0].isna().any():  # a blank line has no first field: nothing to drop
        return columns, line_numbers
    kept = ~columns.isna().all(axis=1).to_numpy()
    return columns.loc[kept].reset_index(drop=True), line_numbers[kept]


def _coerce_numbers(columns: pd.DataFrame, numeric: Sequence[str]) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Make the numeric columns float64, keeping the raw text of cells that are not numbers.

    pandas reads a column with one bad cell as text (the fast C float parser is used either way), so
    only such a column goes through the slower cell-by-cell conversion.
    """
    converted = columns.copy(deep=False)
    unparsed: dict[str, pd.Series] = {}
    for name in numeric:
        raw = columns[name]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            converted[name] = raw.to_numpy(np.float64)
            continue
        text = raw.astype(str)  # missing cells become "nan", which is NaN again below: missing, not bad
        values = pd.to_numeric(text, errors="coerce").astype(np.float64)
        failed = values.isna() & raw.notna()
        if failed.any():
            unparsed[name] = text[failed].astype(object)
        converted[name] = values
    return converted, unparsed


def build_parsed(
    raw: RawTable,
    times_ns: np.ndarray,
    time_text: pd.Series | None,
    *,
    source: str,
    time_format: str,
) -> ParsedBars:
    """Assemble the importer result: UTC times, standard value columns, line numbers, unparsed cells.

    ``time_text`` is the raw time column, quoted in messages for times that did not parse (absent
    when the times were numbers; the number itself is quoted then).
    """
    columns: dict[str, object] = {"time": pd.Series(times_ns.view("datetime64[ns]")).dt.tz_localize("UTC")}
    for name in VALUE_COLUMNS:
        column = raw.columns.get(name)
        columns[name] = column.to_numpy(np.float64) if column is not None else np.zeros(len(times_ns))
    frame = pd.DataFrame(columns) if len(times_ns) else empty_bars()
    unparsed = {name: cells for name, cells in raw.unparsed.items() if name in VALUE_COLUMNS}
    bad_times = unusable_times(times_ns)
    if bad_times.any():
        quoted = [raw.unparsed["time"]] if "time" in raw.unparsed else []  # text in a numeric time column
        if time_text is not None:
            present = bad_times & time_text.notna().to_numpy()
            quoted.append(time_text[present].map(_cell_text).astype(object))
        if quoted:
            unparsed["time"] = pd.concat(quoted).sort_index()
    return ParsedBars(
        frame=frame,
        source=source,
        line_numbers=raw.line_numbers,
        unparsed=unparsed,
        time_format=time_format,
    )


def _cell_text(value: object) -> str:
    """Quote a cell as it was written: epoch numbers without a trailing '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalize_header(name: str) -> str:
    """Return a header name in one spelling: lower case, no ``<>``, ``_``/``-`` as spaces.

    ``<TICKVOL>`` -> ``tickvol``, ``Open_Time`` -> ``open time``.
    """
    cleaned = name.strip().strip('"').strip("<>").lower().replace("_", " ").replace("-", " ")
    return " ".join(cleaned.split())


def guess_separator(header_line: str) -> str:
    """Return the most frequent of ``, ; <tab> |`` in the header line (comma if none occurs)."""
    counts = {separator: header_line.count(separator) for separator in (",", ";", "\t", "|")}
    best = max(counts, key=lambda separator: counts[separator])
    return best if counts[best] else ","
