"""``tradescan backtest``: one strategy, one symbol, one parameter set, under cost scenarios.

Parameters come from ``--params-file`` (a flat mapping, a mapping with a ``params:`` key, or a list
with one such entry — what ``tradescan top --format yaml`` prints) and then ``--param k=v`` flags,
whose values are read as YAML scalars (``20``, ``2.5``, ``true``). An entry printed by ``top`` also
carries the run's settings (strategy, symbol, timeframe, broker, dates, capital, time stop, stop
reference, strategy folders), so ``backtest --params-file`` alone reproduces the recorded metrics;
a flag given on the command line overrides the file's setting.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tradescan.cli.common import add_data_dir, json_safe, print_json
from tradescan.errors import ConfigError, TradeScanError
from tradescan.yaml_files import read_yaml

INTEGER_METRICS = {"trades", "max_win_streak", "max_loss_streak", "max_drawdown_bars"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` subcommand."""
    parser = subparsers.add_parser(
        "backtest",
        help="backtest one strategy on one symbol under cost scenarios",
        description="Backtest one strategy and parameter set on one stored dataset (DESIGN §4).",
    )
    parser.add_argument("--strategy", default=None, help="registered strategy name")
    parser.add_argument("--symbol", default=None, help="symbol of a stored dataset")
    parser.add_argument("--timeframe", default=None, help="timeframe of the dataset (M1 ... D1)")
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="parameter (repeatable)")
    parser.add_argument(
        "--params-file", default=None, help="YAML/JSON file of parameters, e.g. from `tradescan top --format yaml`"
    )
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

    document = load_params_document(args.params_file) if args.params_file else None
    settings = resolve_settings(args, document)
    params = params_from_document(document, str(args.params_file)) if document is not None else {}
    params.update(parse_param(pair) for pair in args.param)
    strategy = strategy_for_params_file(settings["strategy"], settings["strategy_paths"], label=str(args.params_file))
    frame = load(settings["symbol"], settings["timeframe"], settings["start"], settings["end"], data_dir=args.data_dir)
    if len(frame) < 2:
        raise TradeScanError(f"{settings['symbol']} {settings['timeframe']}: fewer than 2 bars between start and end")
    result = backtest(
        frame,
        strategy,
        params,
        symbol=settings["symbol"],
        scenarios=settings["scenarios"],
        broker=settings["broker"],
        capital=settings["capital"],
        max_hold_bars=settings["max_hold_bars"],
        stops_from=settings["stops_from"],
        timeframe=settings["timeframe"],
    )
    summary = _summary(result, settings["timeframe"], frame)
    if args.out:
        write_outputs(result, Path(args.out), summary)
    if args.json:
        print_json(summary)
    else:
        print(format_report(summary))
    return 0


_DEFAULT_SETTINGS: dict[str, Any] = {
    "broker": "default",
    "scenarios": ("A", "B", "C"),
    "max_hold_bars": 96,
    "stops_from": "fill",
    "start": None,
    "end": None,
    "capital": None,
    "strategy_paths": [],
}


def _as_is(value: Any) -> Any:
    return value


# Settings a flag may give, with the parser of the flag's text; a flag left out is None.
_FLAG_SETTINGS: dict[str, Any] = {
    "strategy": _as_is,
    "symbol": _as_is,
    "timeframe": _as_is,
    "broker": _as_is,
    "scenarios": lambda text: parse_scenarios(text),
    "max_hold_bars": lambda text: parse_max_hold(text),
    "stops_from": _as_is,
    "start": _as_is,
    "end": _as_is,
}


def resolve_settings(args: argparse.Namespace, document: Any) -> dict[str, Any]:
    """Merge the run settings: command-line flags, then the params file's entry, then defaults."""
    from_file = _settings_in_document(document)
    given = {key: value for key, value in vars(args).items() if key in _FLAG_SETTINGS and value is not None}
    from_flags = {key: _FLAG_SETTINGS[key](value) for key, value in given.items()}
    settings = {**_DEFAULT_SETTINGS, **from_file, **from_flags}
    missing = [name for name in ("strategy", "symbol", "timeframe") if not settings.get(name)]
    if missing:
        flags = ", ".join(f"--{name}" for name in missing)
        raise TradeScanError(f"backtest needs {flags} (on the command line or in --params-file)")
    if isinstance(settings["scenarios"], str):
        settings["scenarios"] = parse_scenarios(settings["scenarios"])
    return settings


def _settings_in_document(document: Any) -> dict[str, Any]:
    entry = document[0] if isinstance(document, list) and len(document) == 1 else document
    if not isinstance(entry, dict) or "params" not in entry:
        return {}  # a flat mapping holds parameters only
    keys = ("strategy", "symbol", "timeframe", *_DEFAULT_SETTINGS)
    return {key: entry[key] for key in keys if key in entry and (entry[key] is not None or key in ("start", "end"))}


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


def params_from_document(document: Any, source: str) -> dict[str, Any]:
    """Return the parameters in a loaded params file (flat, ``params:`` key, or one-entry list)."""
    if isinstance(document, list):
        if len(document) != 1:
            raise TradeScanError(
                f"{source}: holds {len(document)} entries; keep exactly one (e.g. `tradescan top ... --k 1`)"
            )
        document = document[0]
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise TradeScanError(f"{source}: expected a mapping of parameters, got {type(document).__name__}")
    if "params" in document:
        document = document["params"]
        if not isinstance(document, dict):
            raise TradeScanError(f"{source}: 'params' must be a mapping of name: value")
    return {str(name): value for name, value in document.items()}


def load_params_document(path_text: str) -> Any:
    """Read a YAML or JSON params file and return the loaded document."""
    try:
        return read_yaml(Path(path_text), what="params file")
    except ConfigError as exc:
        raise ConfigError(f"--params-file {exc}") from None


def load_params_file(path_text: str) -> dict[str, Any]:
    """Read a YAML or JSON params file and return its parameters."""
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
