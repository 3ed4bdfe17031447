"""Dukascopy CSV export: ``Gmt time,Open,High,Low,Close,Volume`` with ``dd.mm.yyyy HH:MM:SS.fff`` times."""

from __future__ import annotations

import re

from tradescan.data.importers.text import (
    TextFile,
    build_parsed,
    guess_separator,
    normalize_header,
    read_table,
    split_fields,
)
from tradescan.data.importers.times import describe_format, parse_time_text
from tradescan.data.validation import ParsedBars
from tradescan.errors import DataError

NAME = "dukascopy"
LABEL = "Dukascopy CSV"

_WITH_FRACTION = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}\.\d+")
_STANDARD = {"gmt time": "time", "open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"}


def sniff(first_lines: tuple[str, ...]) -> bool:
    """Return True when the first header field is ``Gmt time``."""
    separator = guess_separator(first_lines[0])
    return normalize_header(split_fields(first_lines[0], separator)[0]) == "gmt time"


def parse(text_file: TextFile) -> ParsedBars:
    """Read a Dukascopy CSV into parsed (not yet validated) bars."""
    separator = guess_separator(text_file.first_lines[0])
    header = [normalize_header(name) for name in split_fields(text_file.first_lines[0], separator)]
    names = [_STANDARD.get(name, f"unused_{index}") for index, name in enumerate(header)]
    missing = [name for name in ("time", "open", "high", "low", "close") if name not in names]
    if missing:
        raise DataError(f"{text_file.label}: Dukascopy CSV without column(s) {', '.join(missing)}")
    used = [name for name in names if not name.startswith("unused_")]
    raw = read_table(
        text_file,
        separator=separator,
        has_header=True,
        names=names,
        usecols=used,
        numeric=[name for name in used if name != "time"],
        format_label=LABEL,
    )
    first_row = split_fields(text_file.first_lines[1], separator) if len(text_file.first_lines) > 1 else [""]
    time_format = "%d.%m.%Y %H:%M:%S.%f" if _WITH_FRACTION.fullmatch(first_row[0]) else "%d.%m.%Y %H:%M:%S"
    times_ns = parse_time_text(raw.columns["time"], time_format)
    return build_parsed(
        raw, times_ns, raw.columns["time"], source=text_file.label, time_format=describe_format(time_format)
    )
