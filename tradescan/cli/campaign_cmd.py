"""``tradescan campaign | tracker``: screen → validate → prod-ready over a universe, and where each asset stands.

The work is ``tradescan.campaign``'s; this module parses the flags and prints. ``tracker`` prints one
rich table per campaign, at most 100 columns wide.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import pandas as pd
from rich import box

from tradescan.cli.common import (
    add_data_dir,
    add_ray_options,
    add_results_dir,
    notices_on_stderr,
    print_json,
    render_table,
)

CAMPAIGN_HELP = ("campaign YAML file; a relative path that is not a file here names the bundled one "
                 "(e.g. configs/campaigns/example.yaml)")
SHOWN_COLUMNS = ("asset", "tier", "screen", "wfe", "sharpe_oos", "validate", "guards", "prod_ready")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``campaign`` and ``tracker`` subcommands."""
    parser = subparsers.add_parser(
        "campaign", help="run a campaign: screen -> validate -> prod-ready over a universe",
        description="Run each phase of a campaign file as an ordinary sweep (its own run id), judge each "
        "symbol by the phase's pass rule and update results/tracker.parquet; re-running resumes. Exits 0 once "
        "every phase ran: symbols that failed or errored (no data, ...) are recorded in the tracker.",
    )
    parser.add_argument("campaign", help=CAMPAIGN_HELP)
    add_ray_options(parser)
    parser.add_argument("--no-report", action="store_true", help="do not write each phase run's HTML report")
    parser.add_argument("--json", action="store_true", help="print the final state as JSON (no progress bars)")
    add_data_dir(parser)
    add_results_dir(parser)
    parser.set_defaults(handler=run_campaign_command)

    tracker = subparsers.add_parser(
        "tracker", help="print where each campaign's symbols stand",
        description="Print results/tracker.parquet: per campaign and symbol the screen and validate "
        "verdicts, WFE, OOS Sharpe, guards passed/total and whether it is prod-ready.",
    )
    tracker.add_argument("--campaign", default=None, help="only this campaign id")
    tracker.add_argument("--json", action="store_true", help="print the rows as JSON")
    add_results_dir(tracker)
    tracker.set_defaults(handler=run_tracker_command)


def run_campaign_command(args: argparse.Namespace) -> int:
    """Run or resume the campaign, then print its tracker rows."""
    from tradescan.campaign import read_tracker, run_campaign

    def echo(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout)

    with notices_on_stderr():
        result = run_campaign(args.campaign, workers=args.workers, address=args.address, data_dir=args.data_dir,
                              results_dir=args.results_dir, report=not args.no_report,
                              progress=not args.json, echo=echo)
    rows = read_tracker(args.results_dir, result.state.campaign_id)
    if args.json:
        print_json({"campaign": result.state.campaign_id, "folder": str(result.folder),
                    "state": result.state.model_dump(mode="json"), "tracker": _records(rows)})
    else:
        print(format_tracker(rows))
    return 0


def run_tracker_command(args: argparse.Namespace) -> int:
    """Print the tracker (or one campaign of it)."""
    from tradescan.campaign import read_tracker
    from tradescan.errors import UnknownNameError

    rows = read_tracker(args.results_dir, args.campaign)
    if args.campaign is not None and rows.empty:
        known = sorted(set(read_tracker(args.results_dir)["campaign"]))
        raise UnknownNameError(f"--campaign: no campaign {args.campaign!r} in the tracker "
                               f"(known: {', '.join(known) or 'none yet'})")
    if args.json:
        print_json(_records(rows))
    elif rows.empty:
        print("no campaign yet: run `tradescan campaign configs/campaigns/example.yaml`")
    else:
        print(format_tracker(rows))
    return 0


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): _plain(value) for key, value in row.items()} for row in rows.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def format_tracker(rows: pd.DataFrame) -> str:
    """Return one table per campaign (titled with its id), each at most 100 columns wide."""
    from rich.table import Table

    parts = []
    for campaign, group in rows.groupby("campaign", sort=False):
        table = Table(title=f"campaign {campaign}", title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False)
        for name in SHOWN_COLUMNS:
            table.add_column(name, justify="right" if name in ("wfe", "sharpe_oos", "guards") else "left",
                             no_wrap=True)
        for row in group.itertuples(index=False):
            table.add_row(*(_cell(getattr(row, name)) for name in SHOWN_COLUMNS))
        parts.append(render_table(table))
    return "\n\n".join(parts)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
