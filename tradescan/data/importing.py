"""``import_file``: read a data file in any supported format, validate it, store it.

The steps run in an order that keeps a failed import harmless: the names are checked (the symbol must
be a known instrument), the whole file is parsed and validated in memory, and only then is anything
written — the dataset and its manifest entry as one commit. The manifest records the file's absolute
path, its format and the zone its times were in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradescan.data.importers import read_bars
from tradescan.data.manifest import DEFAULT_TZ
from tradescan.data.sources import ImportSource
from tradescan.data.store import DatasetInfo, known_symbol, store_valid_bars
from tradescan.data.timeframes import timeframe_minutes, timeframe_ns, validate_timeframe
from tradescan.data.validation import DroppedRow, check_bars, time_ns
from tradescan.errors import DataError
from tradescan.instruments import validate_symbol


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the format read, the dataset written and every line dropped (and why)."""

    path: Path
    format: str
    rows_read: int
    dataset: DatasetInfo
    dropped: tuple[DroppedRow, ...] = ()

    @property
    def rows(self) -> int:
        """Bars stored."""
        return self.dataset.rows

    @property
    def dropped_lines(self) -> tuple[int, ...]:
        """Line numbers (as an editor shows them) of the rows left out by ``drop_invalid``."""
        return tuple(row.line for row in self.dropped)


def import_file(
    path: str | Path,
    symbol: str,
    timeframe: str,
    fmt: str = "auto",
    drop_invalid: bool = False,
    data_dir: str | Path | None = None,
) -> ImportReport:
    """Import a bar file into the data folder as the dataset (symbol, timeframe).

    Args:
        path: the file; times in it are taken to be UTC.
        symbol: an instrument the registry knows (``configs/instruments.yaml`` + ``TRADESCAN_INSTRUMENTS``).
        timeframe: one of ``TIMEFRAMES``; bars closer together than one timeframe are an error, and
            so is a file whose bars are never as close as one timeframe (a wrong ``timeframe``).
        fmt: ``auto`` (detect) or one of ``csv``, ``mt4``, ``mt5``, ``binance``, ``dukascopy``.
        drop_invalid: leave out rows that break a validation rule and report them, instead of
            refusing the file.
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).

    Returns:
        An ``ImportReport``; ``report.dropped`` lists each dropped line and the rule it broke.

    Raises:
        DataError: the file cannot be read or parsed, a row breaks a rule and ``drop_invalid`` is
            false, the manifest is broken, or the write failed (disk full, permissions). Nothing is
            changed then: an existing dataset and the manifest stay as they were.
        UnknownNameError: the symbol is not a known instrument (the message says how to add it).
    """
    symbol, timeframe = known_symbol(validate_symbol(symbol)), validate_timeframe(timeframe)
    parsed, format_name = read_bars(path, fmt)
    bars, dropped = check_bars(parsed, drop_invalid=drop_invalid, timeframe_ns=timeframe_ns(timeframe))
    _check_timeframe_matches(bars, timeframe, parsed.source)
    source = ImportSource(path=str(Path(path).resolve()), format=format_name)
    dataset = store_valid_bars(bars, symbol, timeframe, data_dir, source=source, tz=DEFAULT_TZ)
    return ImportReport(
        path=Path(path), format=format_name, rows_read=len(parsed.frame), dataset=dataset, dropped=dropped
    )


def _check_timeframe_matches(bars: pd.DataFrame, timeframe: str, source: str) -> None:
    """Refuse a file whose bars are never as close as one timeframe: H1 bars imported as M1, say.

    Bars closer than the timeframe are caught row by row in validation; bars that are always
    further apart can only be seen over the whole file.
    """
    gaps_ns = np.diff(time_ns(bars["time"]))
    if len(gaps_ns) and int(gaps_ns.min()) > timeframe_ns(timeframe):
        smallest_minutes = int(gaps_ns.min()) / 60e9
        raise DataError(
            f"{source}: consecutive bars are at least {smallest_minutes:g} min apart, but {timeframe} bars are "
            f"{timeframe_minutes(timeframe)} min long; is --timeframe right?"
        )
