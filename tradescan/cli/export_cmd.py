"""``tradescan export pine RUN_ID --symbol S --rank N [--out F]``: a finalist as a TradingView script."""

from __future__ import annotations

import argparse
from pathlib import Path

from tradescan.atomic import atomic_write_bytes
from tradescan.cli.common import add_results_dir
from tradescan.errors import TradeScanError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` command group (``export pine``)."""
    export = subparsers.add_parser(
        "export", help="export a finalist to another platform (pine)",
        description="Export a stored run's finalist to another platform.",
    )
    targets = export.add_subparsers(dest="target", metavar="TARGET", required=True)
    pine = targets.add_parser(
        "pine", help="write a Pine v6 TradingView strategy of a finalist",
        description="Write a Pine Script v6 strategy with the finalist's parameters preset as inputs, "
        "entries at the next open, stops and targets as the run's stops_from says, the time stop, "
        "multi-target plans, exit signals, trailing stops and the run's costs as closely as Pine allows "
        "(the header lists what it approximates).",
    )
    pine.add_argument("run_id", metavar="RUN_ID", help="run id (see `tradescan runs`)")
    pine.add_argument("--symbol", required=True, help="symbol of the run, e.g. EURUSD")
    pine.add_argument("--rank", required=True, type=int, help="finalist rank (1 = best)")
    pine.add_argument("--scenario", default=None, help="cost scenario to reproduce (default: the stage-1 scenario)")
    pine.add_argument("--out", default=None, help="file to write (default: print the script)")
    add_results_dir(pine)
    pine.set_defaults(handler=_export_pine)


def _export_pine(args: argparse.Namespace) -> int:
    from tradescan.export.run_export import export_run_pine

    if args.rank < 1:
        raise TradeScanError(f"--rank must be 1 or more, got {args.rank}")
    script = export_run_pine(
        args.run_id, args.symbol, args.rank, results_dir=args.results_dir, scenario=args.scenario
    )
    if args.out is None:
        print(script, end="")
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise TradeScanError(f"--out {out} is a folder; give a file name such as {out / 'strategy.pine'}")
    if not out.parent.is_dir():
        raise TradeScanError(f"--out {out}: the folder {out.parent} does not exist")
    atomic_write_bytes(out, script.encode("utf-8"))
    print(f"wrote {out} ({len(script.splitlines())} lines)")
    return 0
