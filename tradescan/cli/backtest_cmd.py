"""``tradescan backtest``: one strategy, one symbol, one parameter set, under cost scenarios.

Parameters come from ``--params-file`` and then ``--param k=v`` flags, whose values are read as YAML
scalars (``20``, ``2.5``, ``true``). A params file is a flat mapping of parameters, one entry (a mapping
with a ``params:`` key), or a list of entries as ``tradescan top --format yaml`` writes them. In a list
of several entries ``--symbol S --rank N`` picks one (a list that stays ambiguous is a one-line error
listing the symbols and ranks it holds); a single entry needs no flag.

An entry carries the run's settings — ``strategy``, ``symbol``, ``timeframe``, ``start``, ``end``,
``strategy_paths`` and the ``BacktestConfig`` fields (``broker`` as a name or as the full profile the
run used, ``capital``, ``scenarios``, ``max_hold_bars``, ``stops_from``, ``regime``, ``intrabar``) — so
``backtest --params-file best.yaml`` alone reproduces the recorded metrics. A flag given on the command
line overrides the entry's setting; what neither gives is ``BacktestConfig``'s default.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tradescan.cli.common import add_data_dir, json_safe, print_json
from tradescan.engine.config import BacktestConfig, config_fields
from tradescan.errors import ConfigError, TradeScanError
from tradescan.yaml_files import read_yaml

INTEGER_METRICS = {"trades", "max_win_streak", "max_loss_streak", "max_drawdown_bars"}
# Settings of an entry that are not BacktestConfig fields (where the bars come from, which code).
RUN_FIELDS = ("strategy", "symbol", "timeframe", "start", "end", "strategy_paths")
# Keys a `top` entry carries to describe itself; read by people, ignored here (never taken for typos).
DESCRIPTIVE_FIELDS = ("run_id", "rank", "trial", "metrics", "scenario", "metric", "value", "stage1_value")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` subcommand."""
    parser = subparsers.add_parser(
        "backtest",
        help="backtest one strategy on one symbol under cost scenarios",
        description="Backtest one strategy and parameter set on one stored dataset (DESIGN §4).",
    )
    parser.add_argument("--strategy", default=None, help="registered strategy name")
    parser.add_argument("--symbol", default=None, help="symbol of a stored dataset (picks a params-file entry too)")
    parser.add_argument("--timeframe", default=None, help="timeframe of the dataset (M1 ... D1)")
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="parameter (repeatable)")
    parser.add_argument(
        "--params-file", default=None, help="YAML/JSON file of parameters, e.g. from `tradescan top --format yaml`"
    )
    parser.add_argument("--rank", type=_rank, default=None, help="which finalist of a params file (with --symbol)")
    parser.add_argument("--scenarios", default=None, help="comma-separated cost scenarios (default A,B,C)")
    parser.add_argument("--broker", default=None, help="broker profile name or YAML path (default: default)")
    parser.add_argument("--max-hold-bars", default=None, help="time stop in bars, or 'none' (default 96)")
    parser.add_argument("--stops-from", default=None, choices=("fill", "signal_close"), help="default: fill")
    parser.add_argument("--start", default=None, help="first bar time to include (e.g. 2020-01-01)")
    parser.add_argument("--end", default=None, help="last bar time to include")
    add_data_dir(parser)
    parser.add_argument("--out", default=None, help="folder for trades.parquet, equity.parquet, metrics.json")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the bars, run the backtest, print it and optionally write it."""
    from tradescan.data import load
    from tradescan.engine import backtest
    from tradescan.registry import strategy_for_params_file

    source = str(args.params_file) if args.params_file else None
    entry = select_entry(load_params_document(source), source, args.symbol, args.rank) if source else {}
    settings = run_settings(args, entry)
    config = resolve_config(args, entry, source)
    params = dict(entry.get("params") or {})
    params.update(parse_param(pair) for pair in args.param)
    strategy = strategy_for_params_file(settings["strategy"], settings["strategy_paths"], label=str(args.params_file))
    frame = load(settings["symbol"], settings["timeframe"], settings["start"], settings["end"], data_dir=args.data_dir)
    if len(frame) < 2:
        raise TradeScanError(f"{settings['symbol']} {settings['timeframe']}: fewer than 2 bars between start and end")
    symbol, timeframe = settings["symbol"], settings["timeframe"]
    result = backtest(frame, strategy, params, symbol=symbol, config=config, timeframe=timeframe)
    summary = _summary(result, settings["timeframe"], frame)
    if args.out:
        write_outputs(result, Path(args.out), summary)
    if args.json:
        print_json(summary)
    else:
        print(format_report(summary))
    return 0


def _rank(text: str) -> int:
    try:
        rank = int(text)
    except ValueError:
        rank = 0
    if rank < 1:
        raise argparse.ArgumentTypeError(f"--rank must be a whole number >= 1, got {text!r}")
    return rank


# ---- settings: flags over the params-file entry over the defaults --------------------------------


def run_settings(args: argparse.Namespace, entry: dict[str, Any]) -> dict[str, Any]:
    """Return where the bars and the code come from: flags, then the entry; strategy/symbol/timeframe required."""
    settings: dict[str, Any] = {"start": None, "end": None, "strategy_paths": []}
    settings.update({key: entry[key] for key in RUN_FIELDS if entry.get(key) is not None})
    settings.update({key: getattr(args, key) for key in RUN_FIELDS if getattr(args, key, None) is not None})
    missing = [name for name in ("strategy", "symbol", "timeframe") if not settings.get(name)]
    if missing:
        flags = ", ".join(f"--{name}" for name in missing)
        raise TradeScanError(f"backtest needs {flags} (on the command line or in --params-file)")
    return settings


def resolve_config(args: argparse.Namespace, entry: dict[str, Any], source: str | None) -> BacktestConfig:
    """Return the ``BacktestConfig``: the entry's fields (errors name the file), then the flags'."""
    from_file = {key: entry[key] for key in config_fields() if key in entry}
    base = None
    if from_file and source is not None:
        label, folder = f"--params-file {source}", Path(source).resolve().parent
        base = BacktestConfig.resolve(from_file, label=label, base_dir=folder)
    flags: dict[str, Any] = {}
    if args.broker is not None:
        flags["broker"] = args.broker
    if args.scenarios is not None:
        flags["scenarios"] = parse_scenarios(args.scenarios)
    if args.max_hold_bars is not None:
        flags["max_hold_bars"] = parse_max_hold(args.max_hold_bars)
    if args.stops_from is not None:
        flags["stops_from"] = args.stops_from
    return BacktestConfig.resolve(base, label="backtest", **flags)


# ---- argument parsing ---------------------------------------------------------------------------


def parse_scenarios(text: str) -> tuple[str, ...]:
    """Return the scenario names of ``A,B,C``."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise TradeScanError(f"--scenarios needs at least one name, e.g. A,B,C; got {text!r}")
    return names


def parse_max_hold(text: str) -> int | None:
    """Return the time stop in bars; ``none`` means no time stop."""
    if text.strip().lower() in ("none", "null", "off"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise TradeScanError(f"--max-hold-bars must be a whole number >= 1 or 'none', got {text!r}") from None
    if value < 1:
        raise TradeScanError(f"--max-hold-bars must be >= 1 or 'none', got {value}")
    return value


def parse_param(text: str) -> tuple[str, Any]:
    """Return ``(name, value)`` from ``name=value``; the value is read as a YAML scalar."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise TradeScanError(f"--param must look like name=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict | list):
        raise TradeScanError(f"--param {name.strip()}: expected a single value, got {raw!r}")
    return name.strip(), value


# ---- params files ---------------------------------------------------------------------------------


def params_entries(document: Any, source: str) -> list[dict[str, Any]]:
    """Return a params file's entries, each a mapping with a ``params`` mapping.

    A flat mapping is one entry of parameters only; a mapping with ``params:`` is one entry; a list
    holds one entry per finalist (``top --format yaml``); an empty file is one entry of no parameters.
    """
    if document is None:
        return [{"params": {}}]
    raw_entries = document if isinstance(document, list) else [document]
    entries = []
    for number, raw in enumerate(raw_entries, start=1):
        where = f"{source}: entry {number}" if isinstance(document, list) else source
        if not isinstance(raw, dict):
            raise TradeScanError(f"{where}: expected a mapping of parameters, got {type(raw).__name__}")
        entry = dict(raw) if "params" in raw else {"params": raw}
        if not isinstance(entry["params"], dict):
            raise TradeScanError(f"{where}: 'params' must be a mapping of name: value")
        _refuse_misspelt_settings(entry, where)
        entries.append({**entry, "params": {str(name): value for name, value in entry["params"].items()}})
    if not entries:
        raise TradeScanError(f"{source}: holds no entries")
    return entries


def _refuse_misspelt_settings(entry: dict[str, Any], where: str) -> None:
    # Other keys (run_id, rank, metrics, ...) only describe the entry; one that is nearly a setting is a typo.
    known = (*RUN_FIELDS, *config_fields(), "params")
    for key in entry:
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.8)
        if key not in known and key not in DESCRIPTIVE_FIELDS and close:
            raise TradeScanError(f"{where}: unknown setting {key!r}; did you mean {close[0]!r}?")


def _describe_entries(entries: Sequence[dict[str, Any]]) -> str:
    ranks: dict[str, list[str]] = {}
    for number, entry in enumerate(entries, start=1):
        rank = _entry_rank(entry)
        ranks.setdefault(str(entry.get("symbol", "no symbol")), []).append(str(rank) if rank else f"#{number}")
    return "; ".join(f"{symbol} rank {', '.join(numbers)}" for symbol, numbers in ranks.items())


def _entry_rank(entry: dict[str, Any]) -> int | None:
    rank = entry.get("rank")
    return int(rank) if isinstance(rank, int | float) and not isinstance(rank, bool) and math.isfinite(rank) else None


def select_entry(document: Any, source: str, symbol: str | None = None, rank: int | None = None) -> dict[str, Any]:
    """Return the one entry of a params file that ``--symbol``/``--rank`` pick (or its only entry).

    Raises:
        TradeScanError: no entry matches, or several do (the message lists the symbols and ranks held).
    """
    entries = params_entries(document, source)
    if len(entries) == 1:
        if rank is not None and _entry_rank(entries[0]) not in (None, rank):
            raise TradeScanError(f"{source}: holds only rank {_entry_rank(entries[0])}, not --rank {rank}")
        return entries[0]
    chosen = [e for e in entries if (symbol is None or e.get("symbol") == symbol)
              and (rank is None or _entry_rank(e) == rank)]
    if len(chosen) == 1:
        return chosen[0]
    held = _describe_entries(entries)
    if not chosen:
        asked = " ".join(f for f in (f"--symbol {symbol}" if symbol else "", f"--rank {rank}" if rank else "") if f)
        raise TradeScanError(f"{source}: no entry for {asked}; it holds {held}")
    raise TradeScanError(f"{source}: holds {len(entries)} entries ({held}); pick one with --symbol S --rank N")


def params_from_document(
    document: Any, source: str, symbol: str | None = None, rank: int | None = None
) -> dict[str, Any]:
    """Return the parameters of the entry of a loaded params file that ``symbol``/``rank`` pick."""
    return dict(select_entry(document, source, symbol, rank)["params"])


def load_params_document(path_text: str) -> Any:
    """Read a YAML or JSON params file and return the loaded document."""
    try:
        return read_yaml(Path(path_text), what="params file")
    except ConfigError as exc:
        raise ConfigError(f"--params-file {exc}") from None


def load_params_file(path_text: str) -> dict[str, Any]:
    """Read a YAML or JSON params file with one entry and return its parameters."""
    return params_from_document(load_params_document(path_text), path_text)


def collect_params(params_file: str | None, pairs: Sequence[str]) -> dict[str, Any]:
    """Return the file's parameters updated by ``--param`` flags (flags win)."""
    params = load_params_file(params_file) if params_file else {}
    params.update(parse_param(pair) for pair in pairs)
    return params


# ---- output -------------------------------------------------------------------------------------


def _summary(result: Any, timeframe: str, frame: Any) -> dict[str, Any]:
    return {
        "strategy": result.strategy,
        "symbol": result.symbol,
        "timeframe": timeframe,
        "bars": len(frame),
        "start": str(frame["time"].iloc[0]),
        "end": str(frame["time"].iloc[-1]),
        "params": result.params,
        "settings": result.settings,
        "metrics": result.metrics,
    }


def _format_value(name: str, value: float) -> str:
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if name in INTEGER_METRICS:
        return f"{value:,.0f}"
    return f"{value:,.4f}"


def format_report(summary: dict[str, Any]) -> str:
    """Return a readable header and an aligned metrics table (metrics × scenarios)."""
    metrics: dict[str, dict[str, float]] = summary["metrics"]
    scenarios = list(metrics)
    names = list(next(iter(metrics.values())))
    header = [
        f"{summary['strategy']}  {summary['symbol']} {summary['timeframe']}  "
        f"{summary['start']} -> {summary['end']}  ({summary['bars']} bars)",
        f"broker {summary['settings']['broker']}  stops_from {summary['settings']['stops_from']}  "
        f"max_hold_bars {summary['settings']['max_hold_bars']}",
        "params " + ", ".join(f"{key}={value}" for key, value in summary["params"].items()),
        "",
    ]
    cells = [[_format_value(name, metrics[s][name]) for s in scenarios] for name in names]
    name_width = max(len("metric"), *(len(name) for name in names))
    widths = [max(len(s), *(len(row[i]) for row in cells)) for i, s in enumerate(scenarios)]
    lines = ["metric".ljust(name_width) + "  " + "  ".join(s.rjust(w) for s, w in zip(scenarios, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    for name, row in zip(names, cells, strict=True):
        lines.append(name.ljust(name_width) + "  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(header + lines)


def write_outputs(result: Any, folder: Path, summary: dict[str, Any]) -> None:
    """Write ``trades.parquet``, ``equity.parquet`` and ``metrics.json`` into ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        result.trades.to_parquet(folder / "trades.parquet", index=False)
        result.equity.to_parquet(folder / "equity.parquet")
        text = json.dumps(json_safe(summary), indent=2, default=str)
        (folder / "metrics.json").write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise TradeScanError(f"--out {folder}: cannot write results: {exc}") from None
