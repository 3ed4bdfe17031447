"""``tradescan report RUN_ID``: a run's offline HTML report and its Excel workbooks.

The page goes to ``<results>/runs/<run_id>/report.html`` (or ``--out``); the trade reports
(``AK_Trade_Report_<run>_<symbol>.xlsx``) go beside it and ``Strategy_Master_Filter.xlsx`` is rebuilt
in the results folder (``--no-excel`` skips both). The sweep calls ``write_run_reports`` at its end.
A frozen run's folder is never written: ``report`` refuses, unless ``--out`` points elsewhere (the trade
reports then go beside that file).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tradescan.cli.common import add_results_dir, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="write a run's offline HTML report (+ Excel trade reports and master filter)",
        description="Write one self-contained HTML file (opens offline) with the run's stage-1 landscape, stage-2 "
        "table, finalists' equity, drawdown, monthly returns, R distribution, breakdowns and, when the guard stage "
        "ran, the guards; and the Excel trade reports per symbol and the master filter across runs.",
    )
    parser.add_argument("run_id", help="run id (see 'tradescan runs')")
    parser.add_argument("--out", default=None,
                        help="HTML file to write (default <results>/runs/<id>/report.html; for a frozen run, a "
                        "path outside its folder, and the trade reports go beside it)")
    parser.add_argument("--no-excel", action="store_true", help="skip the Excel workbooks")
    parser.add_argument("--json", action="store_true", help="print the written paths as JSON")
    add_results_dir(parser)
    parser.set_defaults(handler=run_report_command)


def write_run_reports(run_id: str, *, out: str | os.PathLike[str] | None = None, excel: bool = True,
                      results_dir: str | os.PathLike[str] | None = None) -> dict[str, list[Path]]:
    """Write the HTML report and (with ``excel``) the workbooks; return ``{"html": [...], "excel": [...]}``."""
    from tradescan.report import write_excel, write_report
    from tradescan.report.api import REPORT_FILE, refuse_frozen_target
    from tradescan.results.run import load_run
    from tradescan.results.store import FROZEN_MARKER

    run_dir = load_run(run_id, results_dir).path
    # A frozen run's folder is not written (DESIGN §8): with --out elsewhere the trade reports go beside
    # the page; every target is checked before anything is written.
    folder = Path(out).parent if out is not None and (run_dir / FROZEN_MARKER).exists() else None
    refuse_frozen_target(run_id, run_dir, Path(out) if out is not None else run_dir / REPORT_FILE)
    if excel:
        refuse_frozen_target(run_id, run_dir, folder if folder is not None else run_dir)
    written: dict[str, list[Path]] = {"html": [write_report(run_id, out=out, results_dir=results_dir)]}
    written["excel"] = write_excel(run_id, results_dir=results_dir, folder=folder) if excel else []
    return written


def run_report_command(args: argparse.Namespace) -> int:
    """Write the report files and print their paths."""
    written = write_run_reports(args.run_id, out=args.out, excel=not args.no_excel, results_dir=args.results_dir)
    if args.json:
        print_json({kind: [str(p) for p in paths] for kind, paths in written.items()})
    else:
        for path in [*written["html"], *written["excel"]]:
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
