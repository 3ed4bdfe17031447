"""Binance kline CSV (data.binance.vision): 12 columns, usually no header.

Columns: open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base
volume, taker buy quote volume, ignore. The open time is epoch milliseconds, or microseconds for spot
data from 2025 on; the unit is decided per file by the size of the first time.
"""

from __future__ import annotations

from tradescan.data.importers.text import TextFile, build_parsed, normalize_header, read_table, split_fields
from tradescan.data.importers.times import epoch_to_ns, epoch_unit
from tradescan.data.validation import ParsedBars

NAME = "binance"
LABEL = "Binance kline CSV"

_COLUMNS = (
    "time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip


def _has_header(first_line: str) -> bool:
    return not split_fields(first_line, ",")[0].isdigit()


def sniff(first_lines: tuple[str, ...]) -> bool:
    """Return True for 12 comma-separated fields starting with an integer time (or an ``open_time`` header)."""
    fields = split_fields(first_lines[0], ",")
    if len(fields) != len(_COLUMNS):
        return False
    if _has_header(first_lines[0]):
        names = [normalize_header(name) for name in fields]
        return names[0] == "open time" and "close time" in names
    return fields[0].isdigit()


def parse(text_file: TextFile) -> ParsedBars:
    """Read a Binance kline CSV into parsed (not yet validated) bars."""
    raw = read_table(
        text_file,
        separator=",",
        has_header=_has_header(text_file.first_lines[0]),
        names=_COLUMNS,
        usecols=_COLUMNS[:6],
        numeric=_COLUMNS[:6],
        format_label=LABEL,
    )
    open_times = raw.columns["time"].to_numpy("float64")
    unit = epoch_unit(open_times, source=text_file.label)
    times_ns = epoch_to_ns(open_times, unit)
    return build_parsed(raw, times_ns, raw.columns["time"], source=text_file.label, time_format=f"epoch {unit}")
