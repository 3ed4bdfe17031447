"""Strategy commands: ``strategies`` (list), ``check-strategy`` (look-ahead check), ``new-strategy``."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

import pandas as pd
from pydantic import BaseModel

from tradescan.cli.common import add_data_dir, print_json
from tradescan.errors import TradeScanError
from tradescan.lookahead import DEFAULT_POINTS

EXIT_OK = 0
EXIT_FAILED_CHECK = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``strategies``, ``check-strategy`` and ``new-strategy`` subcommands."""
    listing = subparsers.add_parser(
        "strategies", help="list discovered strategies and their parameters",
        description="List every discovered strategy (bundled, ./strategies, $TRADESCAN_STRATEGY_PATH).",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list_strategies)

    check = subparsers.add_parser(
        "check-strategy", help="run the look-ahead check of a strategy on stored bars",
        description="Run the look-ahead check: change every bar after a cut point t, recompute the "
        "signals and compare them up to t. Exit 0 when causal, 1 with the first violation.",
    )
    check.add_argument("name", help="strategy name (see `tradescan strategies`)")
    check.add_argument("--symbol", required=True, help="stored symbol, e.g. EURUSD")
    check.add_argument("--timeframe", required=True, help="stored timeframe, e.g. H1")
    check.add_argument("--points", type=int, default=DEFAULT_POINTS,
                       help=f"cut points to check (default {DEFAULT_POINTS})")
    add_data_dir(check)
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=_check_strategy)

    new = subparsers.add_parser(
        "new-strategy", help="scaffold a strategy module and its search space",
        description="Write <dir>/<name>.py and search_spaces/<name>.yaml from templates; existing files "
        "are never overwritten.",
    )
    new.add_argument("name", help="strategy name, e.g. MY_IDEA")
    new.add_argument("--dir", default="strategies", help="folder of the strategy module (default ./strategies)")
    new.add_argument(
        "--search-space-dir", default=None,
        help="folder of the search-space file (default: search_spaces beside --dir)",
    )
    new.set_defaults(handler=_new_strategy)


# --- strategies ------------------------------------------------------------------------------------


def describe_params(params_model: type[BaseModel]) -> list[dict[str, Any]]:
    """Return name, type, default, bounds and description of every field of a ``Params`` model."""
    rows = []
    for name, info in params_model.model_fields.items():
        bounds = {
            key: getattr(meta, key)
            for meta in info.metadata
            for key in ("ge", "gt", "le", "lt")
            if getattr(meta, key, None) is not None
        }
        annotation = info.annotation
        type_name = annotation.__name__ if isinstance(annotation, type) else str(annotation)
        rows.append(
            {"name": name, "type": type_name, "default": info.get_default(call_default_factory=True),
             "bounds": bounds, "description": info.description or ""}
        )
    return rows


def _list_strategies(args: argparse.Namespace) -> int:
    from tradescan.registry import discover

    found = discover()
    listing: list[dict[str, Any]] = [
        {"name": name, "module": cls.__module__, "file": _source_file(cls), "params": describe_params(cls.Params)}
        for name, cls in sorted(found.items())
    ]
    if args.json:
        print_json(listing)
        return EXIT_OK
    for entry in listing:
        print(f"{entry['name']}  ({entry['file']})")
        for param in entry["params"]:
            bounds = ", ".join(f"{key} {value}" for key, value in param["bounds"].items())
            print(f"    {param['name']}: {param['type']} = {param['default']!r}" + (f"  [{bounds}]" if bounds else ""))
    return EXIT_OK


def _source_file(cls: type) -> str:
    try:
        return inspect.getsourcefile(cls) or "?"
    except TypeError:
        return "?"


# --- check-strategy ----------------------------------------------------------------------------------


def _load_bars(symbol: str, timeframe: str, data_dir: str | None) -> pd.DataFrame:
    from tradescan import data

    return data.load(symbol, timeframe, data_dir=data_dir)


def _check_strategy(args: argparse.Namespace) -> int:
    from tradescan.lookahead import check_lookahead
    from tradescan.registry import get_strategy

    if args.points < 1:
        raise TradeScanError(f"--points must be >= 1, got {args.points}")
    strategy = get_strategy(args.name)  # an unknown name fails before any data is read
    frame = _load_bars(args.symbol, args.timeframe, args.data_dir)
    report = check_lookahead(strategy, frame, symbol=args.symbol, n_points=args.points)
    if args.json:
        violation = report.first_violation
        print_json(
            {
                "strategy": report.strategy,
                "symbol": args.symbol,
                "timeframe": args.timeframe,
                "ok": report.ok,
                "n_bars": report.n_bars,
                "checked_points": list(report.checked_points),
                "failed_points": report.failed_points,
                "first_violation": None if violation is None else {
                    "kind": violation.kind,
                    "bar": violation.bar,
                    "time": str(violation.time),
                    "array": violation.array,
                    "original": violation.original,
                    "perturbed": violation.perturbed,
                    "cut": violation.cut,
                },
            }
        )
    else:
        print(report)
    return EXIT_OK if report.ok else EXIT_FAILED_CHECK


# --- new-strategy ------------------------------------------------------------------------------------


def _new_strategy(args: argparse.Namespace) -> int:
    from tradescan.scaffold import new_strategy

    print(new_strategy(args.name, args.dir, args.search_space_dir))
    return EXIT_OK
