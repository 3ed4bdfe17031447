"""Importers, one module per file format, and ``read_bars`` which picks one (or detects it).

Each format module exposes ``NAME``, ``LABEL``, ``sniff(first_lines) -> bool`` and
``parse(text_file) -> ParsedBars``; parsing never validates — that is ``tradescan.data.validation``'s
job, so every format gets the same rules and messages.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from tradescan.data.importers import binance, dukascopy, generic_csv, mt4, mt5
from tradescan.data.importers.detect import detect_format
from tradescan.data.importers.text import open_text
from tradescan.data.validation import ParsedBars
from tradescan.errors import DataError

FORMATS: dict[str, ModuleType] = {module.NAME: module for module in (generic_csv, mt4, mt5, binance, dukascopy)}
FORMAT_CHOICES: tuple[str, ...] = ("auto", *FORMATS)

__all__ = ["FORMATS", "FORMAT_CHOICES", "detect_format", "read_bars"]


def read_bars(path: str | Path, fmt: str = "auto") -> tuple[ParsedBars, str]:
    """Read a data file in format ``fmt`` (or the detected one); return the parsed bars and the format.

    Raises:
        DataError: unknown format name, unreadable file, or a file not in the given format.
    """
    if fmt not in FORMAT_CHOICES:
        raise DataError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_CHOICES)}")
    text_file = open_text(path)
    name = detect_format(text_file) if fmt == "auto" else fmt
    return FORMATS[name].parse(text_file), name
