"""``tradescan data``: import, synthesise, list, show and resample the bars in the data folder.

Each subcommand is a thin wrapper over ``tradescan.data``; every user mistake surfaces as a
``TradeScanError`` which ``tradescan.cli.main`` prints as one line.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import pandas as pd

from tradescan.cli.common import add_data_dir, print_json
from tradescan.errors import TradeScanError
from tradescan.paths import data_dir as resolve_data_dir

if TYPE_CHECKING:
    from tradescan.data.sources import SourceKind

_FORMATS = "auto|csv|mt4|mt5|binance|dukascopy"
_TIMEFRAMES = "M1 M5 M15 M30 H1 H4 D1"
_DEFAULT_HEAD_ROWS = 10


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tradescan data`` and its subcommands."""
    parser = subparsers.add_parser(
        "data",
        help="import, synthesise, list, show and resample bar data",
        description="Manage the bar data folder: one Parquet file per symbol and timeframe, with a manifest.",
    )
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    _register_import(commands)
    _register_synth(commands)
    _register_list(commands)
    _register_show(commands)
    _register_resample(commands)


def _register_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import",
        help="import a CSV/MT4/MT5/Binance/Dukascopy file",
        description="Read a bar file (times in UTC, or in --tz ZONE), validate every row and store it as "
        "SYMBOL/TF in UTC. Nothing is written if any row is invalid, unless --drop-invalid is given. "
        "Re-importing the same file refreshes its dataset; any other dataset already stored as SYMBOL/TF "
        "(synthesised, resampled or imported from another file) is never replaced unless --force is given.",
    )
    parser.add_argument("path", help="the file to import")
    parser.add_argument("--symbol", required=True, help="symbol to store the bars under, e.g. EURUSD")
    parser.add_argument("--timeframe", required=True, help=f"bar timeframe: {_TIMEFRAMES}")
    parser.add_argument("--format", default="auto", dest="fmt", help=f"file format: {_FORMATS} (default auto)")
    parser.add_argument(
        "--drop-invalid", action="store_true", help="drop rows that break a rule and list them, instead of failing"
    )
    parser.add_argument(
        "--tz",
        default="UTC",
        help="IANA zone the file's clock times are in, e.g. EET, Europe/Athens or Etc/GMT-2 for MT4/MT5 "
        "server time (default UTC); a time in the hour skipped at a DST change is an error",
    )
    parser.add_argument(
        "--dst",
        default="infer",
        help="the hour repeated when summer time ends: infer (by bar order, default), earlier (summer time) "
        "or later (standard time)",
    )
    parser.add_argument("--force", action="store_true", help="replace a dataset that was not imported from this file")
    parser.add_argument("--json", action="store_true", help="print the import report as JSON")
    add_data_dir(parser)
    parser.set_defaults(handler=run_import)


def _register_synth(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "synth",
        help="write seeded synthetic bars",
        description="Generate seeded, regime-switching synthetic bars at each instrument's price scale "
        "and store them (same seed, same bytes). A dataset that was not synthesised (imported or resampled "
        "bars) is never replaced unless --force is given.",
    )
    parser.add_argument("--symbols", required=True, help="comma-separated known symbols, e.g. EURUSD,BTCUSDT")
    parser.add_argument("--timeframe", required=True, help=f"bar timeframe: {_TIMEFRAMES}")
    parser.add_argument("--bars", required=True, help="number of bars per symbol")
    parser.add_argument("--seed", required=True, help="random seed (an integer)")
    parser.add_argument("--start", default="2020-01-01", help="first bar time, UTC (default 2020-01-01)")
    parser.add_argument(
        "--force", action="store_true", help="replace datasets that were not synthesised (imported, resampled)"
    )
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_data_dir(parser)
    parser.set_defaults(handler=run_synth)


def _register_list(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("list", help="list stored datasets", description="List the stored datasets.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_data_dir(parser)
    parser.set_defaults(handler=run_list)


def _register_show(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "show", help="summarise one dataset and print its first bars", description="Show one stored dataset."
    )
    parser.add_argument("symbol", help="stored symbol")
    parser.add_argument("timeframe", help=f"stored timeframe: {_TIMEFRAMES}")
    parser.add_argument("--head", default=str(_DEFAULT_HEAD_ROWS), help="how many bars to print (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_data_dir(parser)
    parser.set_defaults(handler=run_show)


def _register_resample(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "resample",
        help="build a coarser timeframe from stored bars",
        description="Resample stored bars to a coarser timeframe (left-closed, labelled by open time; a bar "
        "is kept when it has at least half of its source bars) and store the result. An imported target "
        "dataset is never replaced unless --force is given.",
    )
    parser.add_argument("--symbol", required=True, help="stored symbol")
    parser.add_argument("--from", required=True, dest="from_timeframe", help="stored source timeframe")
    parser.add_argument("--to", required=True, dest="to_timeframe", help="target timeframe: M5 M15 M30 H1 H4 D1")
    parser.add_argument("--force", action="store_true", help="replace a target dataset that was imported")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_data_dir(parser)
    parser.set_defaults(handler=run_resample)


def _whole_number(text: str, flag: str, *, minimum: int) -> int:
    """Parse a CLI integer ourselves so that a bad value is a one-line error, not an argparse usage dump."""
    try:
        value = int(text)
    except ValueError:
        raise TradeScanError(f"{flag} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise TradeScanError(f"{flag} must be >= {minimum}, got {value}")
    return value


def _time_text(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M")


def _dataset_json(info: Any) -> dict[str, Any]:
    return {
        "symbol": info.symbol,
        "timeframe": info.timeframe,
        "rows": info.rows,
        "start": info.start.isoformat(),
        "end": info.end.isoformat(),
        "sha256": info.sha256,
        "path": str(info.path),
        "tz": info.tz,
        "source": info.source.model_dump(),
    }


_FORCE_HINT = "--force replaces it"
_SOURCE_WIDTH = 60


def _refused(exc: Exception) -> TradeScanError:
    return TradeScanError(f"{exc}; {_FORCE_HINT}")


def _dataset_line(info: Any) -> str:
    return (
        f"{info.symbol} {info.timeframe}: {info.rows:,} bars, {_time_text(info.start)} .. {_time_text(info.end)} "
        f"-> {info.path} (sha256 {info.sha256[:12]})"
    )


def run_import(args: argparse.Namespace) -> int:
    """Import one file; print the dataset written and every dropped line; refuse other data unless --force."""
    from tradescan.data import DatasetExistsError, import_file

    try:
        report = import_file(
            args.path,
            args.symbol,
            args.timeframe,
            fmt=args.fmt,
            drop_invalid=args.drop_invalid,
            data_dir=args.data_dir,
            tz=args.tz,
            dst=args.dst,
            force=args.force,
        )
    except DatasetExistsError as exc:
        raise _refused(exc) from None
    if args.json:
        dropped = [{"line": row.line, "reason": row.reason} for row in report.dropped]
        print_json({**_dataset_json(report.dataset), "format": report.format, "tz": report.tz, "dropped": dropped})
        return 0
    converted = f", {report.tz} -> UTC" if report.tz != "UTC" else ""
    print(f"imported {args.path} ({report.format}{converted}): {_dataset_line(report.dataset)}")
    if report.dropped:
        print(f"dropped {len(report.dropped)} invalid line(s) of {report.rows_read:,}:")
        for row in report.dropped:
            print(f"  {row}")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    """Generate and store synthetic bars for each symbol; refuse to replace other data unless --force."""
    from tradescan.data import DatasetExistsError, check_may_replace, synthesize, synthetic_source, write_dataset

    symbols = [symbol.strip() for symbol in args.symbols.split(",") if symbol.strip()]
    if not symbols:
        raise TradeScanError("--symbols needs at least one symbol, e.g. --symbols EURUSD,GBPUSD")
    n_bars = _whole_number(args.bars, "--bars", minimum=1)
    seed = _whole_number(args.seed, "--seed", minimum=0)
    frames = {symbol: synthesize(symbol, args.timeframe, n_bars, seed, start=args.start) for symbol in symbols}
    source = synthetic_source(n_bars, seed, args.start)
    may_replace: tuple[SourceKind, ...] | None = None if args.force else ("synthetic",)
    try:
        for symbol in symbols:  # refuse before the first write, not after half of them
            check_may_replace(symbol, args.timeframe, args.data_dir, source, may_replace)
        written = [
            write_dataset(frame, symbol, args.timeframe, args.data_dir, source=source, may_replace=may_replace)
            for symbol, frame in frames.items()
        ]
    except DatasetExistsError as exc:
        raise _refused(exc) from None
    if args.json:
        print_json([_dataset_json(info) for info in written])
    else:
        for info in written:
            print(f"synthesised {_dataset_line(info)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the stored datasets, with their time zone and source, as an aligned table (or JSON)."""
    from tradescan.data import list_datasets

    datasets = list_datasets(args.data_dir)
    if args.json:
        records = datasets.assign(start=datasets["start"].map(pd.Timestamp.isoformat))
        records = records.assign(end=datasets["end"].map(pd.Timestamp.isoformat))
        print_json(records.to_dict(orient="records"))
        return 0
    if datasets.empty:
        folder = resolve_data_dir(args.data_dir)
        print(f"no datasets in {folder}; add some with 'tradescan data import' or 'tradescan data synth'")
        return 0
    table = datasets.assign(
        start=datasets["start"].map(_time_text),
        end=datasets["end"].map(_time_text),
        sha256=datasets["sha256"].str.slice(0, 12),
        source=datasets["source"].map(_short_source),
    )
    width = int(table["source"].str.len().max())  # left-aligned, as text reads best
    table = table.assign(source=table["source"].str.ljust(width)).rename(columns={"source": "source".ljust(width)})
    print("\n".join(line.rstrip() for line in table.to_string(index=False).splitlines()))
    return 0


def _short_source(text: str) -> str:
    """Keep the end of a long source (the file name) so that the table stays readable."""
    return text if len(text) <= _SOURCE_WIDTH else "..." + text[-(_SOURCE_WIDTH - 3) :]


def run_show(args: argparse.Namespace) -> int:
    """Print one dataset's summary and first bars."""
    from tradescan.data import dataset_hash, load

    head_rows = _whole_number(args.head, "--head", minimum=0)
    bars = load(args.symbol, args.timeframe, data_dir=args.data_dir)
    sha256 = dataset_hash(args.symbol, args.timeframe, args.data_dir)
    start, end = bars["time"].iloc[0], bars["time"].iloc[-1]
    head = bars.head(head_rows)
    if args.json:
        records = head.assign(time=head["time"].map(pd.Timestamp.isoformat)).to_dict(orient="records")
        summary = {"symbol": args.symbol, "timeframe": args.timeframe.upper(), "rows": len(bars)}
        print_json({**summary, "start": start.isoformat(), "end": end.isoformat(), "sha256": sha256, "head": records})
        return 0
    print(f"{args.symbol} {args.timeframe.upper()}: {len(bars):,} bars, {_time_text(start)} .. {_time_text(end)}")
    print(f"sha256 {sha256}")
    print(f"source {_source_of(args.symbol, args.timeframe, args.data_dir)}")
    if head_rows:
        print(head.assign(time=head["time"].dt.strftime("%Y-%m-%d %H:%M")).to_string(index=False))
    return 0


def _source_of(symbol: str, timeframe: str, data_dir: str | None) -> str:
    from tradescan.data import list_datasets

    listing = list_datasets(data_dir)
    row = listing[(listing["symbol"] == symbol) & (listing["timeframe"] == timeframe.upper())]
    return str(row["source"].iloc[0]) if len(row) else "not in the manifest"


def run_resample(args: argparse.Namespace) -> int:
    """Resample a stored dataset to a coarser timeframe and store the result."""
    from tradescan.data import (
        DatasetExistsError,
        ResampleSource,
        dataset_hash,
        load,
        resample,
        validate_timeframe,
        write_dataset,
    )

    source, target = validate_timeframe(args.from_timeframe), validate_timeframe(args.to_timeframe)
    bars = load(args.symbol, source, data_dir=args.data_dir)
    origin = ResampleSource(from_timeframe=source, from_sha256=dataset_hash(args.symbol, source, args.data_dir))
    coarser = resample(bars, target, from_timeframe=source)
    if coarser.empty:
        raise TradeScanError(f"no complete {target} bar can be built from the {len(bars)} {args.symbol} {source} bars")
    may_replace: tuple[SourceKind, ...] | None = None if args.force else ("resample", "synthetic")
    try:
        info = write_dataset(coarser, args.symbol, target, args.data_dir, source=origin, may_replace=may_replace)
    except DatasetExistsError as exc:
        raise _refused(exc) from None
    if args.json:
        print_json({**_dataset_json(info), "from": source, "source_rows": len(bars)})
    else:
        print(f"resampled {len(bars):,} {source} bars into {_dataset_line(info)}")
    return 0
