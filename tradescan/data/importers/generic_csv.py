"""Generic CSV with a header row: column names matched case-insensitively against common aliases.

Accepted time columns: one of Time/Date/Timestamp/Datetime/Gmt time/Open time (text in a known format,
or epoch seconds/ms/us), a Date column plus a Time column, or an unnamed first column (the index
``DataFrame.to_csv`` writes). ``volume`` is optional (0.0 when absent).
The separator (``,`` ``;`` tab ``|``) is taken from the header line.
"""

from __future__ import annotations

from tradescan.data.importers.text import (
    TextFile,
    build_parsed,
    guess_separator,
    normalize_header,
    read_table,
    split_fields,
)
from tradescan.data.importers.times import join_text, parse_time_column
from tradescan.data.schema import VALUE_COLUMNS
from tradescan.data.validation import ParsedBars
from tradescan.errors import DataError

NAME = "csv"
LABEL = "generic CSV"

# Normalised header spellings per column, preferred first.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "datetime", "date time", "gmt time", "open time", "opentime", "date"),
    "open": ("open", "o", "open price", "opening price"),
    "high": ("high", "h", "high price"),
    "low": ("low", "l", "low price"),
    "close": ("close", "c", "close price", "closing price", "last"),
    "volume": ("volume", "vol", "tick volume", "tickvol", "tick vol", "real volume", "volume base"),
}


def sniff(first_lines: tuple[str, ...]) -> bool:
    """Return True if the first line is a header (has a letter in it); details are checked on read."""
    return any(character.isalpha() for character in first_lines[0])


def column_names(header: list[str], source: str) -> dict[int, str]:
    """Map header positions to standard names (``date_part``/``time_part`` for split date and time)."""
    normalized = [normalize_header(name) for name in header]
    positions: dict[int, str] = {}
    if "date" in normalized and "time" in normalized:
        positions[normalized.index("date")] = "date_part"
        positions[normalized.index("time")] = "time_part"
    for standard, aliases in ALIASES.items():
        if standard == "time" and positions:
            continue
        found = next((normalized.index(alias) for alias in aliases if alias in normalized), None)
        if found is not None and found not in positions:
            positions[found] = standard
    if "time" not in positions.values() and "date_part" not in positions.values() and normalized[0] == "":
        positions[0] = "time"  # an unnamed first column is a time index written by DataFrame.to_csv()
    missing = [name for name in ("time", "open", "high", "low", "close") if name not in positions.values()]
    if "date_part" in positions.values():
        missing.remove("time")
    if missing:
        shown = repr(header) if len(repr(header)) <= 200 else repr(header)[:200] + "..."
        raise DataError(
            f"{source}: no column for {', '.join(missing)} in header {shown}; expected names such as "
            "time/date/timestamp, open, high, low, close and optionally volume"
        )
    return positions


def parse(text_file: TextFile) -> ParsedBars:
    """Read a generic CSV file into parsed (not yet validated) bars."""
    separator = guess_separator(text_file.first_lines[0])
    header = split_fields(text_file.first_lines[0], separator)
    positions = column_names(header, text_file.label)
    names = [positions.get(index, f"unused_{index}") for index in range(len(header))]
    numeric = [name for name in VALUE_COLUMNS if name in positions.values()]
    raw = read_table(
        text_file,
        separator=separator,
        has_header=True,
        names=names,
        usecols=list(positions.values()),
        numeric=numeric,
        format_label=LABEL,
    )
    if "date_part" in raw.columns:
        time_text = join_text(raw.columns["date_part"], raw.columns["time_part"])
        label = "date + time"
    else:
        time_text = raw.columns["time"]
        label = header[names.index("time")]
    times_ns, time_format = parse_time_column(time_text, column_name=label, source=text_file.label)
    return build_parsed(raw, times_ns, time_text, source=text_file.label, time_format=time_format)
