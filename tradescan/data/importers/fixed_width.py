"""A fast path for the common case: every time in the column has the same width (``2024-01-31 13:00:00``).

Then the column's characters form an ``(n_rows, width)`` byte matrix and the whole parse is a few dozen
NumPy operations on digit columns — several times faster than ``strptime``, which dominated import
time. Anything irregular (varying widths, missing cells, a format with other directives) returns
None and the caller uses Arrow's ``strptime`` instead. This path is also the stricter one: it refuses
impossible dates such as 2023-02-30, which ``strptime`` quietly rolls over into the next month.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from tradescan.data.schema import FIRST_YEAR, LAST_YEAR, NO_TIME_NS, OUT_OF_RANGE_NS

NO_TIME = NO_TIME_NS
_DIRECTIVE_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_TOKEN = re.compile(r"%([YmdHMSf])|([^%])")
_NS_PER_SECOND = 1_000_000_000
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def parse_fixed_width(text: pa.Array | pa.ChunkedArray, time_format: str) -> np.ndarray | None:
    """Parse equal-width strings with a format of ``%Y %m %d %H %M %S %f`` and literals.

    Returns:
        int64 nanoseconds (``NO_TIME`` where a value is not a valid time, ``OUT_OF_RANGE_NS`` where it
        is a valid date outside years 1678-2261), or None when the column or the format does not suit
        this path.
    """
    chars = _char_matrix(text)
    if chars is None:
        return None
    layout = _layout(time_format, chars.shape[1])
    if layout is None:
        return None
    fields, literals = layout
    columns = np.ascontiguousarray(chars.T)  # one row per character position: contiguous column ops
    valid = np.ones(len(chars), bool)
    for position, byte in literals:
        valid &= columns[position] == byte
    digit_positions = [p for start, width in fields.values() for p in range(start, start + width)]
    valid &= ((columns[digit_positions] - np.uint8(ord("0"))) <= 9).all(axis=0)  # non-digits wrap past 9
    days, date_valid, in_range = _days(columns, fields)
    nanoseconds, clock_valid = _time_of_day_ns(columns, fields)
    with np.errstate(over="ignore"):  # out-of-range years may overflow here; they are masked below
        nanoseconds += np.where(in_range, days, 0) * (86_400 * _NS_PER_SECOND)
    valid &= date_valid & clock_valid
    return np.where(valid, np.where(in_range, nanoseconds, OUT_OF_RANGE_NS), NO_TIME)


def _number(columns: np.ndarray, field: tuple[int, int]) -> np.ndarray:
    """Return the integer written in the character rows ``field = (start, width)`` of ``columns``."""
    start, width = field
    number = columns[start].astype(np.int64 if width > 9 else np.int32) - ord("0")
    for position in range(start + 1, start + width):
        number = number * 10 + (columns[position] - np.uint8(ord("0")))
    return number


def _days(columns: np.ndarray, fields: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return days since 1970-01-01, date validity and "year in range", once per run of identical dates.

    Bar files are sorted, so a date repeats for every bar of its day (1440 times in M1 data); only
    the first row of each run goes through the calendar arithmetic.
    """
    n_rows = columns.shape[1]
    date_fields = [fields[name] for name in ("Y", "m", "d") if name in fields]
    if not date_fields:
        return np.zeros(n_rows, np.int64), np.ones(n_rows, bool), np.ones(n_rows, bool)
    positions = [p for start, width in date_fields for p in range(start, start + width)]
    date_chars = columns[positions]
    run_starts = np.ones(n_rows, bool)
    np.any(date_chars[:, 1:] != date_chars[:, :-1], axis=0, out=run_starts[1:])
    firsts = columns[:, run_starts]
    ones = np.ones(firsts.shape[1], np.int32)
    year = _number(firsts, fields["Y"]) if "Y" in fields else ones * 1970
    month = _number(firsts, fields["m"]) if "m" in fields else ones
    day = _number(firsts, fields["d"]) if "d" in fields else ones
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    in_range = (year >= FIRST_YEAR) & (year <= LAST_YEAR)  # what int64 nanoseconds can hold
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    run_of_row = np.cumsum(run_starts) - 1
    days = _days_from_civil(year, month, day).astype(np.int64)
    return days[run_of_row], valid[run_of_row], in_range[run_of_row]


def _time_of_day_ns(columns: np.ndarray, fields: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Return nanoseconds since midnight and whether hour, minute and second are in range."""
    n_rows = columns.shape[1]
    seconds = np.zeros(n_rows, np.int32)
    valid = np.ones(n_rows, bool)
    for name, seconds_per_unit, limit in (("H", 3600, 24), ("M", 60, 60), ("S", 1, 60)):
        if name in fields:
            number = _number(columns, fields[name])
            valid &= number < limit
            seconds += number * seconds_per_unit
    nanoseconds = seconds.astype(np.int64) * _NS_PER_SECOND
    if "f" in fields:
        nanoseconds += _number(columns, fields["f"]) * 10 ** (9 - fields["f"][1])
    return nanoseconds, valid


def _char_matrix(text: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Return the strings as an (n, width) uint8 matrix if all have the same width and none is null."""
    array = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    is_text = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    if len(array) == 0 or array.null_count or not is_text:
        return None
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, offset_type)[array.offset : array.offset + len(array) + 1]
    widths = np.diff(offsets)
    width = int(widths[0])
    if width == 0 or not (widths == width).all():
        return None
    data = np.frombuffer(data_buffer, np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return data.reshape(len(array), width)


def _layout(time_format: str, width: int) -> tuple[dict[str, tuple[int, int]], list[tuple[int, int]]] | None:
    """Return each directive's (start, width) and each literal's (position, byte) for this width."""
    fields: dict[str, tuple[int, int]] = {}
    literals: list[tuple[int, int]] = []
    position = 0
    tokens = _TOKEN.findall(time_format)
    if "".join(f"%{d}" if d else c for d, c in tokens) != time_format:
        return None  # a directive this path does not know
    for index, (directive, literal) in enumerate(tokens):
        if literal:
            literals.append((position, ord(literal)))
            position += 1
            continue
        size = _DIRECTIVE_WIDTHS.get(directive, width - position if index == len(tokens) - 1 else -1)
        if size <= 0 or size > 9:
            return None
        fields[directive] = (position, size)
        position += size
    return (fields, literals) if position == width else None


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, vectorised)."""
    shifted_year = year - (month <= 2)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468
