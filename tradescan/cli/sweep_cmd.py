"""``tradescan sweep | preflight | runs | top | dashboard | freeze``: sweeps and the results store.

Tables are ``rich`` tables at most 100 columns wide that name their metric and scenario (``sharpe
A/B/C``, ``stage 1 sharpe B``). ``top --format yaml`` writes one entry per symbol and rank with the
parameters and every setting needed to reproduce its backtest (``tradescan.results.reproduce``), so
that ``tradescan backtest --params-file F`` (with ``--symbol``/``--rank`` when F holds several) gives the
recorded metrics again. The queries themselves live in ``tradescan.results``.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import yaml
from rich import box

from tradescan.cli.common import (
    TABLE_WIDTH,
    add_data_dir,
    add_ray_options,
    add_results_dir,
    notices_on_stderr,
    positive_int,
    print_json,
    render_table,
)
from tradescan.errors import TradeScanError

if TYPE_CHECKING:
    from pathlib import Path

    from tradescan.results import FinalistSummary, RunManifest

EXIT_NOT_ALL_OK = 1
DIRECTIVE_HELP = ("directive YAML file; a relative path that is not a file here names the bundled one "
                  "(e.g. configs/directives/quickstart.yaml)")
MAX_PORT = 65535
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
    parser.add_argument("directive", help=DIRECTIVE_HELP)
    add_ray_options(parser)
    parser.add_argument("--storage", default=None, help="Optuna storage: a journal file or an RDB URL, much slower "
                        "to write (default <results>/runs/<run_id>/optuna.journal)")
    parser.add_argument("--max-parallel-symbols", type=positive_int, default=None,
                        help="symbols swept at once on the shared actors, each TPE one sampling in a process of "
                             "its own (default: min(symbols, 4); same results)")
    parser.add_argument("--full-equity", action="store_true",
                        help="store the finalists' equity at every bar (default: each UTC day's last value)")
    parser.add_argument("--all-trades", action="store_true",
                        help="store every finalist's trades (default: the best 10 of each symbol, every scenario)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON (no progress bars)")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report and Excel workbooks")
    parser.add_argument("--skip-guards", action="store_true",
                        help="leave out the guard stage the directive's guards: section asks for")
    add_data_dir(parser)
    add_results_dir(parser)
    parser.set_defaults(handler=run_sweep_command)




def run_sweep_command(args: argparse.Namespace) -> int:
    """Run the sweep and print a table of its symbols (or JSON)."""
    from tradescan.sweep import run_sweep

    with notices_on_stderr():
        result = run_sweep(args.directive, workers=args.workers, address=args.address, storage=args.storage,
                           data_dir=args.data_dir, results_dir=args.results_dir, progress=not args.json,
                           skip_guards=args.skip_guards, max_parallel_symbols=args.max_parallel_symbols,
                           full_equity=args.full_equity, all_trades=args.all_trades)
    manifest = result.manifest
    reports = [] if args.no_report else _write_reports(result.run_id, args.results_dir)
    if args.json:
        dumped = manifest.model_dump(mode="json")
        print_json({"run_id": result.run_id, "status": result.status, "run_dir": str(result.run_dir),
                    "storage": manifest.storage, "symbols": dumped["symbols"],
                    "stage_seconds": dumped["stage_seconds"], "reports": reports})
    else:
        print(format_sweep_summary(manifest, str(result.run_dir)))
        for path in reports:
            print(f"report: {path}")
    return 0 if result.status == "complete" else EXIT_NOT_ALL_OK


def _write_reports(run_id: str, results_dir: str | None) -> list[str]:
    from tradescan.cli.report_cmd import write_run_reports

    written = write_run_reports(run_id, results_dir=results_dir)
    return [str(path) for path in [*written["html"], *written["excel"]]]


def objective_label(manifest: RunManifest) -> str:
    """Return what stage 1 maximised, e.g. ``sharpe B`` (the objective on its scenario)."""
    return f"{manifest.objective.name} {manifest.objective.scenario}"


def format_sweep_summary(manifest: RunManifest, run_dir: str) -> str:
    """Return the run's status line and a table: per symbol its status, trials and best stage-1 value."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("symbol", "status", "trials", "ok/fail/pruned", f"best {objective_label(manifest)}", "trial"):
        table.add_column(name, justify="left" if name in ("symbol", "status") else "right", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    for symbol, entry in manifest.symbols.items():
        trials, stage1 = entry.trials, entry.stage1
        note = entry.error or "; ".join(entry.reasons)
        table.add_row(
            symbol, entry.status,
            str(trials.total) if trials else "-",
            f"{trials.complete}/{trials.fail}/{trials.pruned}" if trials else "-",
            _number(stage1.best_value) if stage1 and stage1.best_value is not None else "-",
            str(stage1.best_trial) if stage1 and stage1.best_trial is not None else "-",
            note,
        )
    penalty = f"; fewer than {manifest.objective.min_trades} trades penalised" if manifest.objective.min_trades else ""
    title = (f"run {manifest.run_id}: {manifest.status}  ({run_dir})\n"
             f"stage 1 maximised {manifest.objective.name} on scenario {manifest.objective.scenario}{penalty}")
    return f"{title}\n{render_table(table)}"


# --- preflight ---------------------------------------------------------------------------------------


def _register_preflight(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preflight", help="validate a directive and decide ALLOW/BLOCK per symbol",
        description="Check the directive as a whole, then each symbol: instrument, broker spread, data and "
        "warm-up, and the strategy's look-ahead check on that symbol's bars.",
    )
    parser.add_argument("directive", help=DIRECTIVE_HELP)
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
    from tradescan.results import ResultsStore

    runs = ResultsStore(args.results_dir).list_runs()
    if args.json:
        print_json([{"run_id": run_id, **entry.model_dump(mode="json")} for run_id, entry in runs.items()])
        return 0
    if not runs:
        print("no runs yet; start one with 'tradescan sweep DIRECTIVE' or 'tradescan quickstart'")
        return 0
    print(format_runs_table(runs))
    return 0


def format_runs_table(runs: dict[str, Any]) -> str:
    """Return the catalog as a table, oldest run first (an unreadable run shows its error)."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # a run id is never broken across lines: it is what ``top`` and ``validate`` are given
    table.add_column("run id", no_wrap=True, min_width=max((len(run_id) for run_id in runs), default=6))
    table.add_column("status", no_wrap=True)
    table.add_column("strategy", no_wrap=True)
    table.add_column("tf", no_wrap=True)
    table.add_column("symbols", overflow="fold", ratio=2)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("frozen", no_wrap=True)
    for run_id, entry in sorted(runs.items(), key=lambda item: (str(item[1].started), item[0])):
        started = entry.started.strftime("%Y-%m-%d %H:%M") if entry.started else "-"
        strategy = entry.strategy or ("(unreadable)" if entry.error else "-")
        table.add_row(run_id, entry.status, strategy, entry.timeframe or "-", ",".join(entry.symbols) or "-",
                      started, "yes" if entry.frozen else "")
    unreadable = [f"  {run_id}: {entry.error}" for run_id, entry in sorted(runs.items()) if entry.error]
    return "\n".join([render_table(table), *(["", "unreadable runs:", *unreadable] if unreadable else [])])


# --- top ---------------------------------------------------------------------------------------------


def _register_top(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "top", help="print a run's best configurations (stage-2 finalists)",
        description="Print the stage-2 finalists of a run, best stage-1 value first. --format yaml writes one "
        "entry per symbol and rank with everything 'tradescan backtest --params-file' needs to reproduce it.",
    )
    parser.add_argument("run_id", help="run id (see 'tradescan runs')")
    parser.add_argument("--symbol", default=None, help="only this symbol")
    parser.add_argument("--k", type=positive_int, default=10, help="finalists per symbol (default 10)")
    parser.add_argument("--rank", type=positive_int, default=None, help="only the finalist of this rank")
    parser.add_argument("--scenario", default="B", help="scenario of the single-scenario columns (default B)")
    parser.add_argument("--format", choices=TOP_FORMATS, default="table", help="output format (default table)")
    parser.add_argument("--prod-ready", action="store_true",
                        help="only finalists whose guards all passed (see 'tradescan validate')")
    add_results_dir(parser)
    parser.set_defaults(handler=run_top_command)


def run_top_command(args: argparse.Namespace) -> int:
    """Print the top finalists in the chosen format."""
    from tradescan.results import load_run, top_finalists
    from tradescan.results.verdicts import finalist_verdicts, verdict_label

    run = load_run(args.run_id, args.results_dir)
    running = running_notice(run.run_id, run.path, run.manifest)
    if running is not None:
        print(running, file=sys.stderr)
    finalists = top_finalists(run, symbol=args.symbol, k=args.k, rank=args.rank)
    scenarios = sorted({name for f in finalists for name in f.metrics})
    if scenarios and args.scenario not in scenarios:
        raise TradeScanError(f"--scenario {args.scenario!r}: run {run.run_id}'s finalists ran under "
                             f"{', '.join(scenarios)}; pick one of those")
    verdicts = finalist_verdicts(run.manifest)
    if args.prod_ready:
        if not run.manifest.guards:
            raise TradeScanError(f"run {run.run_id} has no guard verdicts; run 'tradescan validate {run.run_id}'")
        every = len(finalists)
        finalists = [f for f in finalists if verdicts.get((f.symbol, f.rank), {}).get("prod_ready")]
        if not finalists and args.format == "table":
            print(f"no prod-ready finalists: none of the {every} shown without --prod-ready passed every critical "
                  f"guard (their verdicts: tradescan top {run.run_id})")
            return 0
    labels = {(f.symbol, f.rank): verdict_label(verdicts.get((f.symbol, f.rank))) for f in finalists}
    if args.format == "json":
        guarded = bool(run.manifest.guards)  # a run without a guard stage keeps its plain entries
        print_json([{**finalist.as_json(), **({"verdict": verdicts.get((finalist.symbol, finalist.rank))}
                                             if guarded else {})} for finalist in finalists])
    elif args.format == "yaml":
        print(format_top_yaml(finalists, run.manifest), end="")
    elif args.format == "csv":
        frame = top_frame(finalists, args.scenario)
        if not frame.empty:
            frame.insert(5, "verdict", [labels[(f.symbol, f.rank)] for f in finalists])
            frame["trades_stored"] = [f.trades_stored for f in finalists]
        print(frame.to_csv(index=False), end="")
    else:
        print(format_top_table(finalists, run.manifest, args.scenario, labels if run.manifest.guards else None,
                               running=running is not None))
    return 0


def running_notice(run_id: str, run_dir: Path, manifest: RunManifest) -> str | None:
    """Return a line saying a sweep still writes the run (its lock is held; not taken here), else ``None``."""
    from tradescan.results.lock import running_holder

    holder = running_holder(run_dir)
    if holder is None:
        return None
    states = ", ".join(f"{symbol} {entry.status}" for symbol, entry in sorted(manifest.symbols.items()))
    return (f"run {run_id} is still being written by {holder.describe()}; "
            f"what it has stored so far is shown ({states or 'no symbol stored yet'})")


def top_frame(finalists: list[FinalistSummary], scenario: str) -> Any:
    """Return a flat table: symbol, rank, trial, the scenario's key metrics, then the parameters."""
    import pandas as pd

    rows = []
    for finalist in finalists:
        metrics = finalist.metrics.get(scenario, {})
        row: dict[str, Any] = {"symbol": finalist.symbol, "rank": finalist.rank, "trial": finalist.trial,
                               "scenario": scenario, "stage1_value": finalist.stage1_value}
        row.update({name: metrics.get(name) for name in TABLE_METRICS})
        row.update(finalist.params)
        rows.append(row)
    return pd.DataFrame(rows)


def _number(value: Any) -> str:
    """Return a metric for a table: ints with separators, floats with 0-3 decimals by size."""
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _across(finalist: FinalistSummary, metric: str, scenarios: list[str]) -> str:
    return "/".join(_number(finalist.metrics.get(s, {}).get(metric)) for s in scenarios)


def format_top_table(
    finalists: list[FinalistSummary], manifest: RunManifest, scenario: str,
    verdicts: dict[tuple[str, int], str] | None = None, *, running: bool = False,
) -> str:
    """Return the finalists as a table (stage-1 value, Sharpe under every scenario, key metrics), then
    each finalist's parameters on lines of their own."""
    from rich.table import Table

    if not finalists:
        return "no finalists yet (the sweep is still running)" if running else "no finalists (did stage 2 run?)"
    scenarios = sorted({s for f in finalists for s in f.metrics}) or [scenario]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("symbol", "#", "trial", f"stage 1\n{objective_label(manifest)}", f"sharpe\n{'/'.join(scenarios)}",
                 f"trades\n{scenario}", f"PF\n{scenario}", f"max DD %\n{scenario}", f"net PnL\n{scenario}"):
        table.add_column(name, justify="left" if name == "symbol" else "right", no_wrap=True)
    if verdicts is not None:
        table.add_column("verdict", no_wrap=True)  # short; the failed guards are listed below the table
    notes = [f"stage 2 failed: {f.error}" if f.error else ("" if f.trades_stored else "trades not stored")
             for f in finalists]
    if any(notes):  # a column only when some finalist has a note: the table must fit TABLE_WIDTH
        table.add_column("note", overflow="fold", ratio=1)
    for finalist, note in zip(finalists, notes, strict=True):
        metrics = finalist.metrics.get(scenario, {})
        verdict = [_short_verdict(verdicts.get((finalist.symbol, finalist.rank), "-"))] if verdicts is not None else []
        table.add_row(
            finalist.symbol, str(finalist.rank), str(finalist.trial), _number(finalist.stage1_value),
            _across(finalist, "sharpe", scenarios), _number(metrics.get("trades")),
            _number(metrics.get("profit_factor")), _number(metrics.get("max_drawdown_pct")),
            _number(metrics.get("net_pnl")), *verdict, *([note] if any(notes) else []),
        )
    title = (f"finalists of run {manifest.run_id}, ranked by stage-1 {objective_label(manifest)}; "
             f"other columns from stage 2")
    footer = _trades_footer(finalists, manifest)
    verdict_lines = ["", "verdicts:", *_verdict_lines(finalists, verdicts)] if verdicts is not None else []
    return "\n".join([title, render_table(table), *footer, *verdict_lines, "", "parameters:",
                      *_params_lines(finalists)])


def _short_verdict(label: str) -> str:
    """``ready`` (prod-ready), ``-`` (no verdict), or ``fail N`` for ``failed: a, b, ...`` (the names are
    listed below the table)."""
    if not label.startswith("failed: "):
        return "ready" if label == "prod-ready" else label
    return f"fail {len(label.removeprefix('failed: ').split(', '))}"


def _verdict_lines(finalists: list[FinalistSummary], verdicts: dict[tuple[str, int], str]) -> list[str]:
    return _finalist_lines(finalists, lambda f: verdicts.get((f.symbol, f.rank), "-"))


def _trades_footer(finalists: list[FinalistSummary], manifest: RunManifest) -> list[str]:
    """Return the line saying that some finalists' trades were not stored, and how to get them."""
    from tradescan.results.stored_trades import policy_text

    if all(f.trades_stored or f.error for f in finalists):
        return []
    return textwrap.wrap(f"trades not stored: the run keeps {policy_text(manifest)} (metrics and daily equity "
                         f"of every finalist); sweep with --all-trades to keep every finalist's, or re-create one "
                         f"with 'top --rank N --format yaml' and 'tradescan backtest --params-file'", TABLE_WIDTH)


def _params_lines(finalists: list[FinalistSummary]) -> list[str]:
    return _finalist_lines(finalists, lambda f: " ".join(f"{name}={_param(value)}" for name, value in f.params.items()))


def _finalist_lines(finalists: list[FinalistSummary], text_of: Callable[[FinalistSummary], str]) -> list[str]:
    """One wrapped paragraph per finalist: ``  SYMBOL #rank  text``."""
    lines = []
    for finalist in finalists:
        lines += textwrap.wrap(text_of(finalist), TABLE_WIDTH, initial_indent=f"  {finalist.symbol} #{finalist.rank}  ",
                               subsequent_indent=" " * (len(finalist.symbol) + len(str(finalist.rank)) + 6))
    return lines


class _PlainDumper(yaml.SafeDumper):
    """A YAML dumper that writes repeated values out instead of anchors (``&id001``) and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def format_top_yaml(finalists: list[FinalistSummary], manifest: RunManifest) -> str:
    """Return a YAML list, one entry per finalist, each a complete ``backtest --params-file`` entry."""
    from tradescan.results.reproduce import params_file_entry

    entries = [params_file_entry(manifest, finalist) for finalist in finalists]
    return str(yaml.dump(entries, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, allow_unicode=True))


# --- dashboard ---------------------------------------------------------------------------------------


def _register_dashboard(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="open optuna-dashboard on a run's study storage (frozen runs read-only)",
        description="Serve optuna-dashboard on a run's Optuna storage (default: the latest run's journal file). "
        "Studies of frozen runs are read-only: deleting, renaming or telling them is refused (HTTP 403). "
        "Optional extra: pip install -e .[dashboard].",
    )
    parser.add_argument("run_id", nargs="?", default=None, help="run whose studies to show (default: the latest)")
    parser.add_argument("--storage", default=None, help="an Optuna storage instead: journal file path or RDB URL")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    add_results_dir(parser)
    parser.set_defaults(handler=run_dashboard_command)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, got {text!r}") from None
    if not 1 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {value}")
    return value


def dashboard_storage(store: Any, run_id: str | None, storage: str | None) -> tuple[str, str]:
    """Return the storage spec to serve and a label saying whose it is."""
    from tradescan.sweep.storage import redact

    if storage is not None:
        return storage, f"storage {redact(storage)}"
    if run_id is None:
        with_storage = [(entry.started is not None, str(entry.started), rid) for rid, entry in store.list_runs().items()
                        if store.storage_path(rid).exists()]
        if not with_storage:
            raise TradeScanError(f"no run with a study storage in {store.root}; run a sweep first or pass --storage")
        run_id = max(with_storage)[2]
        label = f"run {run_id} (the latest; name another with 'tradescan dashboard RUN_ID')"
    else:
        store.read_manifest(run_id)  # an unknown run gets its "did you mean"
        label = f"run {run_id}"
    path = store.storage_path(run_id)
    if not path.exists():
        raise TradeScanError(f"run {run_id} has no study storage at {path} (was it swept with --storage?)")
    return str(path), label


def run_dashboard_command(args: argparse.Namespace) -> int:
    """Serve optuna-dashboard until interrupted."""
    from tradescan.results import ResultsStore
    from tradescan.results.dashboard import dashboard_server
    from tradescan.sweep.storage import open_storage

    store = ResultsStore(args.results_dir)
    spec, label = dashboard_storage(store, args.run_id, args.storage)
    server = dashboard_server(open_storage(spec), store, args.host, args.port)
    print(f"optuna-dashboard on http://{args.host}:{server.server_port} for {label}; frozen runs are read-only; "
          f"Ctrl-C to stop", file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
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
    from tradescan.results import ResultsStore

    manifest = ResultsStore(args.results_dir).freeze(args.run_id)
    print(f"run {args.run_id} frozen at {manifest.frozen}")
    return 0

