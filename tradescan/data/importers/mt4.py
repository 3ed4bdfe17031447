"""MetaTrader 4 history export: ``2017.04.19,09:00,1.0712,1.0720,1.0705,1.0715,1234`` with no header."""

from __future__ import annotations

import re

from tradescan.data.importers.text import TextFile, build_parsed, read_table, split_fields
from tradescan.data.importers.times import describe_format, join_text, parse_date_and_clock
from tradescan.data.schema import unusable_times
from tradescan.data.validation import ParsedBars

NAME = "mt4"
LABEL = "MT4 history CSV"

_DATE = re.compile(r"\d{4}\.\d{2}\.\d{2}")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_COLUMNS = ("date_part", "time_part", "open", "high", "low", "close", "volume")


def sniff(first_lines: tuple[str, ...]) -> bool:
    """Return True for a headerless ``yyyy.mm.dd,HH:MM,o,h,l,c[,volume]`` line."""
    fields = split_fields(first_lines[0], ",")
    return len(fields) in (6, 7) and bool(_DATE.fullmatch(fields[0]) and _CLOCK.fullmatch(fields[1]))


def parse(text_file: TextFile) -> ParsedBars:
    """Read an MT4 history CSV into parsed (not yet validated) bars."""
    first = split_fields(text_file.first_lines[0], ",")
    names = _COLUMNS[: max(len(first), 6)]
    raw = read_table(
        text_file,
        separator=",",
        has_header=False,
        names=names,
        usecols=names,
        numeric=names[2:],
        format_label=LABEL,
    )
    clock_format = "%H:%M:%S" if len(first) > 1 and first[1].count(":") == 2 else "%H:%M"
    date_text, clock_text = raw.columns["date_part"], raw.columns["time_part"]
    times_ns = parse_date_and_clock(date_text, clock_text, "%Y.%m.%d", clock_format)
    time_text = join_text(date_text, clock_text) if unusable_times(times_ns).any() else None
    time_format = describe_format(f"%Y.%m.%d {clock_format}")
    return build_parsed(raw, times_ns, time_text, source=text_file.label, time_format=time_format)
