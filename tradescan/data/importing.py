"""``import_file``: read a data file in any supported format, validate it, store it.

The steps run in an order that keeps a failed import harmless: the names are checked (the symbol must
be a known instrument), the whole file is parsed and validated in memory, and only then is anything
written — the dataset and its manifest entry as one commit. The manifest records the file's absolute
path, its format and the zone its times were in; that path is the import's identity: re-importing the
same file refreshes its dataset, anything else already stored is kept unless ``force`` (DESIGN §2).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from tradescan.data.importers import read_bars
from tradescan.data.importers.times import (
    ISO8601,
    UTC_ZONE,
    DstRule,
    check_dst_rule,
    describe_format,
    local_to_utc,
    resolve_zone,
)
from tradescan.data.sources import ImportSource, SourceKind
from tradescan.data.store import DatasetInfo, known_symbol, store_valid_bars
from tradescan.data.timeframes import timeframe_minutes, timeframe_ns, validate_timeframe
from tradescan.data.validation import DroppedRow, ParsedBars, check_bars, time_ns
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
    tz: str = UTC_ZONE

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
    tz: str = UTC_ZONE,
    dst: str = "infer",
    force: bool = False,
) -> ImportReport:
    """Import a bar file into the data folder as the dataset (symbol, timeframe).

    Args:
        path: the file; its clock times are in ``tz`` (times with an offset and epoch numbers are
            UTC already).
        symbol: an instrument the registry knows (``configs/instruments.yaml`` + ``TRADESCAN_INSTRUMENTS``).
        timeframe: one of ``TIMEFRAMES``; bars closer together than one timeframe are an error, and
            so is a file whose bars are never as close as one timeframe (a wrong ``timeframe``).
        fmt: ``auto`` (detect) or one of ``csv``, ``mt4``, ``mt5``, ``binance``, ``dukascopy``.
        drop_invalid: leave out rows that break a validation rule and report them, instead of
            refusing the file.
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).
        tz: the IANA zone the file's clock times were written in (MT4/MT5: the broker's server time,
            e.g. ``EET`` or ``Europe/Athens``); the bars are stored in UTC and the zone is recorded.
        dst: how to place a time in the hour repeated when summer time ends: ``infer`` (by bar
            order), ``earlier`` (summer time) or ``later`` (standard time). A time in the skipped
            hour is always an error. The rule is in ``tradescan.data.importers.times``.
        force: replace the dataset whatever holds it. Without it an existing dataset is replaced only
            by re-importing the file it was imported from (the absolute path the manifest records);
            synthetic, resampled or other files' bars are kept (DESIGN §2).

    Returns:
        An ``ImportReport``; ``report.dropped`` lists each dropped line and the rule it broke.

    Raises:
        DataError: the file cannot be read or parsed, a row breaks a rule and ``drop_invalid`` is
            false, a time cannot be converted from ``tz`` (the DST hours), the manifest is broken, or
            the write failed (disk full, permissions); ``DatasetExistsError`` (a ``DataError``):
            the dataset holds other bars and ``force`` is false. Nothing is changed then: an existing
            dataset and the manifest stay as they were.
        UnknownNameError: the symbol is not a known instrument (the message says how to add it), or
            ``tz`` is not a time zone (the message suggests the closest names).
    """
    symbol, timeframe = known_symbol(validate_symbol(symbol)), validate_timeframe(timeframe)
    zone, dst_rule = resolve_zone(tz), check_dst_rule(dst)
    parsed, format_name = read_bars(path, fmt)
    parsed = _clock_times_to_utc(parsed, zone, dst_rule)
    bars, dropped = _checked_bars(parsed, drop_invalid, timeframe, zone)
    _check_timeframe_matches(bars, timeframe, parsed.source)
    source = ImportSource(path=str(Path(path).resolve()), format=format_name)
    may_replace: tuple[SourceKind, ...] | None = None if force else ()  # () still lets the same file refresh
    dataset = store_valid_bars(bars, symbol, timeframe, data_dir, source=source, tz=zone.key, may_replace=may_replace)
    return ImportReport(
        path=Path(path),
        format=format_name,
        rows_read=len(parsed.frame),
        dataset=dataset,
        dropped=dropped,
        tz=zone.key,
    )


def _clock_times_to_utc(parsed: ParsedBars, zone: zoneinfo.ZoneInfo, dst: DstRule) -> ParsedBars:
    """Convert the parsed clock times from ``zone`` to UTC (nothing to do for UTC itself).

    Raises:
        DataError: the times are epoch numbers or carry their own offset, which ``tz`` must not shift.
    """
    if zone.key == UTC_ZONE:
        return parsed
    if parsed.time_format.startswith("epoch") or parsed.time_format == describe_format(ISO8601):
        raise DataError(
            f"{parsed.source}: the times are read as {parsed.time_format}, which is UTC already; --tz {zone.key} "
            "applies to clock times without an offset (MT4/MT5 server time)"
        )
    local_ns = time_ns(parsed.frame["time"])
    utc_ns = local_to_utc(local_ns, zone, dst, source=parsed.source, line_numbers=parsed.line_numbers)
    times = pd.Series(utc_ns.view("datetime64[ns]"), index=parsed.frame.index).dt.tz_localize("UTC")
    return replace(parsed, frame=parsed.frame.assign(time=times))


def _checked_bars(
    parsed: ParsedBars, drop_invalid: bool, timeframe: str, zone: zoneinfo.ZoneInfo
) -> tuple[pd.DataFrame, tuple[DroppedRow, ...]]:
    """Validate the bars; a message about converted times says they are shown in UTC."""
    try:
        return check_bars(parsed, drop_invalid=drop_invalid, timeframe_ns=timeframe_ns(timeframe))
    except DataError as exc:
        if zone.key == UTC_ZONE:
            raise
        raise DataError(f"{exc} (times shown in UTC, converted from {zone.key})") from None


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
