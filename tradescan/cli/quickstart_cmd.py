"""``tradescan quickstart``: the README's main command — synthetic data, a sweep, the top configs.

On a fresh checkout there is no market data, so the quickstart directive's symbols are synthesized
(seeded, so every checkout gets the same bars and the same run id) when the data folder lacks them;
then ``configs/directives/quickstart.yaml`` runs end to end and the best configurations per symbol are
printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tradescan.cli.common import add_data_dir, add_results_dir, notices_on_stderr, positive_int, print_json
from tradescan.cli.sweep_cmd import format_sweep_summary, format_top_table
from tradescan.directive import Directive, load_directive

# A relative reference (the lookup rule of tradescan.paths): ./configs/directives/quickstart.yaml when the
# user has one, else the bundled file.
QUICKSTART_DIRECTIVE = "configs/directives/quickstart.yaml"
QUICKSTART_BARS = 30_000
QUICKSTART_SEED = 42
QUICKSTART_TOP_K = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``quickstart`` subcommand."""
    parser = subparsers.add_parser(
        "quickstart", help="synthesize data if absent and run configs/directives/quickstart.yaml",
        description="Synthesize the quickstart symbols' data when absent (fixed seed), run the quickstart "
        "directive's sweep end to end and print the top configurations per symbol.",
    )
    parser.add_argument("--workers", type=positive_int, default=None, help="evaluator actors (default: all CPUs)")
    parser.add_argument("--directive", default=QUICKSTART_DIRECTIVE,
                        help=f"directive (default: {QUICKSTART_DIRECTIVE}, the working directory's, else bundled)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON (no progress bars)")
    add_data_dir(parser)
    add_results_dir(parser)
    parser.set_defaults(handler=run_quickstart_command)


def ensure_data(directive: Directive, data_dir: str | Path | None, *, quiet: bool = False) -> list[str]:
    """Synthesize and store each directive symbol that has no data yet; return the symbols written.

    Data that is there is never replaced, whatever it is: a user's own EURUSD is used as it is. A
    dataset that cannot be trusted (an unreadable manifest, a file whose bytes no longer match their
    recorded hash) stops the quickstart with a one-line error naming the file, instead of being
    "repaired" with synthetic bars.

    Raises:
        DataError: the manifest is unreadable or a present dataset does not match it.
    """
    from tradescan import data

    written = []
    for symbol in directive.symbols:
        if data.dataset_path(symbol, directive.timeframe, data_dir).exists():
            data.dataset_hash(symbol, directive.timeframe, data_dir=data_dir)  # refuses a tampered dataset
            continue
        frame = data.synthesize(symbol, directive.timeframe, QUICKSTART_BARS, seed=QUICKSTART_SEED)
        source = data.synthetic_source(QUICKSTART_BARS, QUICKSTART_SEED)
        data.write_dataset(frame, symbol, directive.timeframe, data_dir=data_dir, source=source, may_replace=())
        written.append(symbol)
        if not quiet:
            print(f"synthesized {QUICKSTART_BARS:,} {directive.timeframe} bars of {symbol} (seed {QUICKSTART_SEED})")
    return written


def run_quickstart_command(args: argparse.Namespace) -> int:
    """Make data if needed, run the sweep, print the top configurations and what to do next."""
    from tradescan.results import load_run, top_finalists
    from tradescan.sweep import run_sweep

    directive = load_directive(args.directive)
    ensure_data(directive, args.data_dir, quiet=args.json)
    with notices_on_stderr():
        result = run_sweep(args.directive, workers=args.workers, data_dir=args.data_dir,
                           results_dir=args.results_dir, progress=not args.json)
    run = load_run(result.run_id, args.results_dir)
    finalists = top_finalists(run, k=QUICKSTART_TOP_K)
    if args.json:
        print_json({"run_id": result.run_id, "status": result.status,
                    "symbols": result.manifest.model_dump(mode="json")["symbols"],
                    "top": [finalist.as_json() for finalist in finalists]})
    else:
        print(format_sweep_summary(result.manifest, str(result.run_dir)))
        print(f"\ntop {QUICKSTART_TOP_K} per symbol:")
        print(format_top_table(finalists, run.manifest, "B"))
        print(next_steps(result.run_id, finalists[0].symbol if finalists else None))
    return 0 if result.status == "complete" else 1


def next_steps(run_id: str, symbol: str | None) -> str:
    """Return the closing lines: how to look closer, reproduce, browse and validate the run."""
    pick = f" --symbol {symbol} --rank 1" if symbol else ""
    lines = [
        "",
        "next:",
        f"  the best finalist, every scenario:   tradescan top {run_id}{pick}",
        f"  reproduce it as one backtest:        tradescan top {run_id}{pick} --format yaml > best.yaml",
        "                                       tradescan backtest --params-file best.yaml",
        f"  browse every trial:                  tradescan dashboard {run_id}",
        f"  validate (DSR, PBO, walk-forward):   tradescan validate {run_id}",
    ]
    return "\n".join(lines)
