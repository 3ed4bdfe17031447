"""MetaTrader 5 export: ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>``, tab-separated.

Daily exports may have no ``<TIME>`` column. The volume is ``<VOL>`` (real, exchange volume) when the
file has any non-zero value in it, else ``<TICKVOL>``: FX brokers report real volume as 0, and a column
of zeros would hide the activity that tick volume does measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradescan.data.importers.text import (
    RawTable,
    TextFile,
    build_parsed,
    normalize_header,
    read_table,
    split_fields,
)
from tradescan.data.importers.times import describe_format, join_text, parse_date_and_clock, parse_time_text
from tradescan.data.schema import unusable_times
from tradescan.data.validation import ParsedBars
from tradescan.errors import DataError

NAME = "mt5"
LABEL = "MT5 export"

_STANDARD = {
    "date": "date_part",
    "time": "time_part",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "tickvol": "tickvol",
    "vol": "vol",
}


def sniff(first_lines: tuple[str, ...]) -> bool:
    """Return True for a header of ``<DATE>``-style names."""
    header = first_lines[0].upper()
    return "<DATE>" in header and "<OPEN>" in header


def _time_format(text_file: TextFile, separator: str, has_clock: bool) -> str:
    first_row = split_fields(text_file.first_lines[1], separator) if len(text_file.first_lines) > 1 else []
    if not has_clock:
        return "%Y.%m.%d"
    clock = first_row[1] if len(first_row) > 1 else ""
    return "%Y.%m.%d %H:%M" if clock.count(":") == 1 else "%Y.%m.%d %H:%M:%S"


def parse(text_file: TextFile) -> ParsedBars:
    """Read an MT5 export into parsed (not yet validated) bars."""
    separator = "\t" if "\t" in text_file.first_lines[0] else ","
    header = [normalize_header(name) for name in split_fields(text_file.first_lines[0], separator)]
    names = [_STANDARD.get(name, f"unused_{index}") for index, name in enumerate(header)]
    missing = [f"<{key.upper()}>" for key in ("date", "open", "high", "low", "close") if _STANDARD[key] not in names]
    if missing:
        raise DataError(f"{text_file.label}: MT5 export without column(s) {', '.join(missing)}")
    used = [name for name in names if not name.startswith("unused_")]
    raw = read_table(
        text_file,
        separator=separator,
        has_header=True,
        names=names,
        usecols=used,
        numeric=[name for name in used if not name.endswith("_part")],
        format_label=LABEL,
    )
    _choose_volume(raw)
    times_ns, time_text, time_format = _times(raw, _time_format(text_file, separator, "time_part" in raw.columns))
    return build_parsed(raw, times_ns, time_text, source=text_file.label, time_format=describe_format(time_format))


def _times(raw: RawTable, time_format: str) -> tuple[np.ndarray, pd.Series | None, str]:
    """Return the bar times, the raw text to quote for unparseable ones, and the format used."""
    date_text = raw.columns["date_part"]
    if "time_part" not in raw.columns:
        return parse_time_text(date_text, time_format), date_text, time_format
    date_format, clock_format = time_format.split(" ", 1)
    times_ns = parse_date_and_clock(date_text, raw.columns["time_part"], date_format, clock_format)
    time_text = join_text(date_text, raw.columns["time_part"]) if unusable_times(times_ns).any() else None
    return times_ns, time_text, time_format


def _choose_volume(raw: RawTable) -> None:
    """Set ``raw.columns['volume']`` from <VOL> or <TICKVOL> (see the module docstring)."""
    real = raw.columns.get("vol")
    chosen = "vol" if real is not None and bool((real.fillna(0) != 0).any()) else "tickvol"
    if chosen not in raw.columns:
        chosen = "vol"
    if chosen in raw.columns:
        raw.columns["volume"] = raw.columns[chosen].to_numpy(np.float64)
        if chosen in raw.unparsed:
            raw.unparsed["volume"] = raw.unparsed.pop(chosen)
