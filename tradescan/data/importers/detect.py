"""Format detection for ``--format auto``: look at the first lines, most specific format first."""

from __future__ import annotations

from types import ModuleType

from tradescan.data.importers import binance, dukascopy, generic_csv, mt4, mt5
from tradescan.data.importers.text import TextFile
from tradescan.errors import DataError

# Generic CSV accepts any header, so it is tried last.
DETECTION_ORDER: tuple[ModuleType, ...] = (mt5, dukascopy, binance, mt4, generic_csv)


def detect_format(text_file: TextFile) -> str:
    """Return the name of the first format whose ``sniff`` accepts the file's first lines.

    Raises:
        DataError: no format recognises the file; the message quotes its first line.
    """
    for module in DETECTION_ORDER:
        if module.sniff(text_file.first_lines):
            return str(module.NAME)
    formats = ", ".join(f"{module.NAME} ({module.LABEL})" for module in DETECTION_ORDER)
    raise DataError(
        f"{text_file.label}: cannot tell the file format from its first line {text_file.first_lines[0][:80]!r}; "
        f"pass --format with one of: {formats}"
    )
