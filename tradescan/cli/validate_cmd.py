"""``tradescan validate RUN_ID``: the guard stage on a stored run's finalists (DESIGN §7, §11)."""

from __future__ import annotations

import argparse
import math
from typing import Any

from tradescan.cli.common import add_data_dir, add_ray_options, add_results_dir, notices_on_stderr, print_json
from tradescan.guards import PRESETS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate", help="run the guards on a stored run's finalists (verdicts: prod-ready or not)",
        description="Walk-forward, permutation test, sensitivity, bootstrap PF, DSR, PBO, ... for every stage-2 "
        "finalist of a run, on Ray actors; writes guards.parquet, guard_series.parquet, walk_forward.parquet and "
        "the verdicts into the run. Resumable: a symbol already validated under the same settings is skipped.",
    )
    parser.add_argument("run_id", help="run id (see 'tradescan runs')")
    parser.add_argument("--preset", choices=PRESETS, default=None,
                        help="guard preset (default: the directive's guards.preset, else validate)")
    parser.add_argument("--symbol", default=None, help="only this symbol")
    add_ray_options(parser)
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON (DESIGN §11's shape)")
    add_data_dir(parser)
    add_results_dir(parser)
    parser.set_defaults(handler=run_validate_command)



def run_validate_command(args: argparse.Namespace) -> int:
    """Validate the run and print each finalist's verdict (or the JSON document)."""
    from tradescan.sweep.progress import make_progress
    from tradescan.sweep.validate import validate_run

    with notices_on_stderr(), make_progress(not args.json) as progress:
        result = validate_run(args.run_id, preset=args.preset, symbol=args.symbol, workers=args.workers,
                              address=args.address, data_dir=args.data_dir, results_dir=args.results_dir,
                              progress=progress)
    document = result.as_json()
    if args.json:
        print_json(document)
        return 0
    print(format_validate(document, result.skipped))
    return 0


def _show(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"


def format_validate(document: dict[str, Any], skipped: tuple[str, ...] = ()) -> str:
    """Return one line per symbol (DSR, PBO, WFE) and per finalist (verdict, failed guards)."""
    lines = [f"run {document['run_id']}, preset {document['preset']}"]
    for symbol, entry in document["symbols"].items():
        note = " (stored; same settings)" if symbol in skipped else ""
        lines.append(f"{symbol}: DSR {_show(entry['dsr'])}  PBO {_show(entry['pbo'])}  WFE {_show(entry['wfe'])}{note}")
        for finalist in entry["finalists"]:
            verdict = "prod-ready" if finalist["prod_ready"] else "failed: " + ", ".join(finalist["failed"])
            lines.append(f"  #{finalist['rank']}: {verdict}")
    return "\n".join(lines)
