"""``tradescan sweep | preflight | runs | top | dashboard | freeze``: sweeps and the results store.

``top --format yaml`` prints, per finalist, the parameters together with every setting needed to
reproduce its backtest (strategy, symbol, timeframe, broker, dates, capital, time stop, stop mode),
so that ``tradescan backtest --params-file F`` gives the recorded metrics again.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from tradescan.cli.common import add_data_dir, add_results_dir, json_safe, print_json
from tradescan.errors import TradeScanError

EXIT_NOT_ALL_OK = 1
TOP_FORMATS = ("table", "yaml", "json", "csv")
# Metrics shown by ``top`` in table/csv form (JSON and YAML carry them all).
TABLE_METRICS = ("trades", "sharpe", "sortino", "profit_factor", "net_pnl", "max_drawdown_pct", "win_rate")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the sweep and results-store subcommands."""
    _register_sweep(subparsers)
    _register_preflight(subparsers)
    _register_runs(subparsers)
    _register_top(subparsers)
    _register_dashboard(subparsers)
    _register_freeze(subparsers)


# --- sweep -------------------------------------------------------------------------------------------


def _register_sweep(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep", help="run a directive's two-stage sweep on Ray",
        description="Preflight, stage 1 (Optuna trials on Ray actors) and stage 2 (top-k under A/B/C) for "
        "every symbol of a directive; re-running the same directive resumes it.",
    )
    parser.add_argument("directive", help="directive YAML file")
    parser.add_argument("--workers", type=_positive_int, default=None, help="evaluator actors (default: all CPUs)")
    parser.add_argument("--address", type=_ray_address, default=None,
                        help="join this Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    parser.add_argument("--storage", default=None, help="Optuna RDB URL (default sqlite:///<results>/optuna.db)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON (no progress bars)")
    add_data_dir(parser)
    add_results_dir(parser)
    parser.set_defaults(handler=run_sweep_command)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _ray_address(text: str) -> str:
    from tradescan.sweep.ray_runtime import split_address

    try:
        split_address(text)
    except TradeScanError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--address: ")) from None
    return text


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run the sweep and print one line per symbol (or JSON)."""
    from tradescan.sweep import run_sweep

    result = run_sweep(args.directive, workers=args.workers, address=args.address, storage=args.storage,
                       data_dir=args.data_dir, results_dir=args.results_dir, progress=not args.json)
    if args.json:
        print_json({"run_id": result.run_id, "status": result.status, "run_dir": str(result.run_dir),
                    "storage": result.manifest.get("storage"), "symbols": result.manifest["symbols"],
                    "stage_seconds": result.manifest.get("stage_seconds")})
    else:
        print(format_sweep_summary(result.manifest, str(result.run_dir)))
    return 0 if result.status == "complete" else EXIT_NOT_ALL_OK


def format_sweep_summary(manifest: dict[str, Any], run_dir: str) -> str:
    """Return a few lines: the run id, then status, trials and best value per symbol."""
    lines = [f"run {manifest['run_id']}: {manifest['status']}  ({run_dir})"]
    for symbol, entry in manifest["symbols"].items():
        trials = entry.get("trials", {})
        best = entry.get("best_value")
        detail = (f"{trials.get('total', 0)} trials ({trials.get('COMPLETE', 0)} complete, "
                  f"{trials.get('FAIL', 0)} failed, {trials.get('PRUNED', 0)} pruned), best "
                  f"{best:.4f}" if isinstance(best, float) else "")
        problem = entry.get("error") or "; ".join(entry.get("reasons", []))
        lines.append(f"  {symbol:<10} {entry['status']:<8} {detail}{problem}")
    return "\n".join(lines)


# --- preflight ---------------------------------------------------------------------------------------


def _register_preflight(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preflight", help="validate a directive and decide ALLOW/BLOCK per symbol",
        description="Check the directive as a whole, then each symbol: instrument, broker spread, data and "
        "warm-up, and the strategy's look-ahead check on that symbol's bars.",
    )
    parser.add_argument("directive", help="directive YAML file")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    add_data_dir(parser)
    parser.set_defaults(handler=run_preflight_command)


def run_preflight_command(args: argparse.Namespace) -> int:
    """Print the preflight verdicts; exit 1 when any symbol is blocked."""
    from tradescan.preflight import ALLOW, preflight, prepare

    report = preflight(prepare(args.directive, data_dir=args.data_dir))
    if args.json:
        print_json(report.as_dict())
    else:
        print(f"run {report.plan.run_id}  hash {report.plan.lineage.hash[:16]}…")
        for symbol, check in report.symbols.items():
            reasons = f"  {'; '.join(check.reasons)}" if check.reasons else ""
            print(f"  {symbol:<10} {check.status}{reasons}")
    return 0 if all(c.status == ALLOW for c in report.symbols.values()) else EXIT_NOT_ALL_OK


# --- runs --------------------------------------------------------------------------------------------


def _register_runs(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list the runs in the results store",
                                   description="List every run of the results store's catalog.")
    parser.add_argument("--json", action="store_true", help="print the catalog as JSON")
    add_results_dir(parser)
    parser.set_defaults(handler=run_runs_command)


def run_runs_command(args: argparse.Namespace) -> int:
    """Print the catalog."""
    from tradescan.store import ResultsStore

    runs = ResultsStore(args.results_dir).list_runs()
    if args.json:
        print_json([{"run_id": run_id, **entry} for run_id, entry in runs.items()])
        return 0
    if not runs:
        print("no runs yet; start one with 'tradescan sweep DIRECTIVE' or 'tradescan quickstart'")
        return 0
    print(f"{'run id':<40} {'status':<9} {'strategy':<32} symbols  started")
    for run_id, entry in sorted(runs.items(), key=lambda item: str(item[1].get("started"))):
        frozen = "  frozen" if entry.get("frozen") else ""
        print(f"{run_id:<40} {entry.get('status') or '-':<9} {entry.get('strategy') or '-':<32} "
              f"{','.join(entry.get('symbols') or [])}  {entry.get('started') or ''}{frozen}")
    return 0


# --- top ---------------------------------------------------------------------------------------------


def _register_top(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "top", help="print a run's best configurations (stage-2 finalists)",
        description="Print the stage-2 finalists of a run, best stage-1 value first. --format yaml output "
        "can be passed to 'tradescan backtest --params-file' to reproduce a finalist.",
    )
    parser.add_argument("run_id", help="run id (see 'tradescan runs')")
    parser.add_argument("--symbol", default=None, help="only this symbol")
    parser.add_argument("--k", type=_positive_int, default=10, help="finalists per symbol (default 10)")
    parser.add_argument("--scenario", default="B", help="scenario shown in table/csv (default B)")
    parser.add_argument("--format", choices=TOP_FORMATS, default="table", help="output format (default table)")
    add_results_dir(parser)
    parser.set_defaults(handler=run_top_command)


def run_top_command(args: argparse.Namespace) -> int:
    """Print the top finalists in the chosen format."""
    from tradescan.store import ResultsStore

    store = ResultsStore(args.results_dir)
    manifest = store.read_manifest(args.run_id)
    entries = top_entries(store, args.run_id, symbol=args.symbol, k=args.k)
    if args.format == "json":
        print_json([{k: e[k] for k in ("symbol", "rank", "params", "metrics")} for e in entries])
    elif args.format == "yaml":
        print(format_top_yaml(entries, manifest), end="")
    elif args.format == "csv":
        print(top_frame(entries, args.scenario).to_csv(index=False), end="")
    else:
        print(format_top_table(entries, args.scenario))
    return 0


def _json_params(text: Any) -> dict[str, Any]:
    return dict(json.loads(text)) if isinstance(text, str) else {}


def _clean_metrics(row: dict[str, Any], metric_names: list[str]) -> dict[str, Any]:
    return {name: row[name] for name in metric_names if name in row}


def top_entries(store: Any, run_id: str, *, symbol: str | None = None, k: int = 10) -> list[dict[str, Any]]:
    """Return per finalist ``{"symbol", "rank", "trial", "params", "metrics": {scenario: {...}}}``."""
    frame = store.read_parquet(run_id, "stage2.parquet")
    if frame.empty:
        return []
    if symbol is not None:
        if symbol not in set(frame["symbol"]):
            known = ", ".join(sorted(set(frame["symbol"])))
            raise TradeScanError(f"run {run_id} has no finalists for {symbol!r} (symbols: {known})")
        frame = frame[frame["symbol"] == symbol]
    fixed = {"symbol", "rank", "trial", "scenario", "stage1_value", "error", "params_json"}
    metric_names = [c for c in frame.columns if c not in fixed and not c.startswith("param_")]
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    for row in frame.sort_values(["symbol", "rank"], kind="stable").to_dict("records"):
        if row["rank"] > k:
            continue
        key = (row["symbol"], int(row["rank"]))
        entry = entries.setdefault(key, {"symbol": row["symbol"], "rank": int(row["rank"]), "trial": int(row["trial"]),
                                         "stage1_value": row["stage1_value"], "error": row.get("error"),
                                         "params": _json_params(row.get("params_json")), "metrics": {}})
        if not row.get("error"):
            entry["metrics"][row["scenario"]] = _clean_metrics(row, metric_names)
    return list(entries.values())


def top_frame(entries: list[dict[str, Any]], scenario: str) -> Any:
    """Return a flat table: symbol, rank, trial, the scenario's key metrics, then the parameters."""
    import pandas as pd

    rows = []
    for entry in entries:
        metrics = entry["metrics"].get(scenario, {})
        row = {"symbol": entry["symbol"], "rank": entry["rank"], "trial": entry["trial"], "scenario": scenario,
               "stage1_value": entry["stage1_value"]}
        row.update({name: metrics.get(name) for name in TABLE_METRICS})
        row.update(entry["params"])
        rows.append(row)
    return pd.DataFrame(rows)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_top_table(entries: list[dict[str, Any]], scenario: str) -> str:
    """Return an aligned text table of the finalists under ``scenario``."""
    if not entries:
        return "no finalists (did stage 2 run?)"
    frame = top_frame(entries, scenario)
    columns = list(frame.columns)
    cells = [[_short(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def reproduction_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the directive settings a single backtest needs to reproduce a finalist."""
    directive = manifest["directive"]
    return {
        "strategy": directive["strategy"],
        "timeframe": directive["timeframe"],
        "broker": directive.get("broker", "default"),
        "start": directive.get("start"),
        "end": directive.get("end"),
        "capital": directive.get("capital"),
        "max_hold_bars": directive.get("max_hold_bars"),
        "stops_from": directive.get("stops_from", "fill"),
        "scenarios": list(directive.get("stage2", {}).get("scenarios", ["A", "B", "C"])),
        "strategy_paths": list(manifest.get("strategy_dirs") or directive.get("strategy_paths") or []),
    }


def format_top_yaml(entries: list[dict[str, Any]], manifest: dict[str, Any]) -> str:
    """Return a YAML list: per finalist, the reproduction settings, ``params`` and recorded ``metrics``."""
    import yaml

    settings = reproduction_settings(manifest)
    documents = []
    for entry in entries:
        documents.append({"run_id": manifest["run_id"], "symbol": entry["symbol"], "rank": entry["rank"],
                          **settings, "params": entry["params"], "metrics": json_safe(entry["metrics"])})
    return str(yaml.safe_dump(documents, sort_keys=False, default_flow_style=False))


# --- dashboard ---------------------------------------------------------------------------------------


def _register_dashboard(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="open the Optuna dashboard on the study storage",
        description="Serve optuna-dashboard on the sweeps' study storage (optional extra: "
        "pip install -e .[dashboard]).",
    )
    parser.add_argument("--storage", default=None, help="Optuna RDB URL (default sqlite:///<results>/optuna.db)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_positive_int, default=8080, help="port (default 8080)")
    add_results_dir(parser)
    parser.set_defaults(handler=run_dashboard_command)


def run_dashboard_command(args: argparse.Namespace) -> int:
    """Serve optuna-dashboard until interrupted."""
    from tradescan.store import ResultsStore

    try:
        import optuna_dashboard
    except ImportError:
        raise TradeScanError(
            "the dashboard needs the optional package optuna-dashboard: pip install -e .[dashboard]"
        ) from None
    store = ResultsStore(args.results_dir)
    storage = args.storage or store.default_storage_url()
    if args.storage is None and not (store.root / "optuna.db").exists():
        raise TradeScanError(f"no study storage at {store.root / 'optuna.db'}; run a sweep first or pass --storage")
    print(f"optuna-dashboard on http://{args.host}:{args.port} (storage {storage}); Ctrl-C to stop", file=sys.stderr)
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0


# --- freeze ------------------------------------------------------------------------------------------


def _register_freeze(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("freeze", help="mark a run immutable",
                                   description="Freeze a run: nothing may overwrite or resume it afterwards.")
    parser.add_argument("run_id", help="run id (see 'tradescan runs')")
    add_results_dir(parser)
    parser.set_defaults(handler=run_freeze_command)


def run_freeze_command(args: argparse.Namespace) -> int:
    """Freeze the run and say so."""
    from tradescan.store import ResultsStore

    manifest = ResultsStore(args.results_dir).freeze(args.run_id)
    print(f"run {args.run_id} frozen at {manifest['frozen']}")
    return 0

