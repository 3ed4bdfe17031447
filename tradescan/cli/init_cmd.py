"""``tradescan init [DIR]``: write an editable project folder (see ``tradescan.project``)."""

from __future__ import annotations

import argparse

from tradescan.cli.common import print_json
from tradescan.project import DEFAULT_STRATEGY


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``init`` subcommand."""
    parser = subparsers.add_parser(
        "init", help="write an editable project folder (directive, broker, strategy)",
        description="Write a project folder: configs/directives/<strategy>.yaml (the quickstart's settings, "
        "commented), configs/brokers/my_broker.yaml (a copy of the bundled default profile), a strategy "
        "from the template with its search space, a README and a .gitignore. Existing files are never "
        "overwritten; running it again changes nothing. Run tradescan from the folder: its files come "
        "first, the bundled ones fill in the rest.",
    )
    parser.add_argument("folder", nargs="?", default=".", help="project folder, made if absent (default: .)")
    parser.add_argument("--strategy", default=DEFAULT_STRATEGY,
                        help=f"name of the strategy to scaffold (default {DEFAULT_STRATEGY})")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    parser.set_defaults(handler=run_init_command)


def run_init_command(args: argparse.Namespace) -> int:
    """Write the project folder and print what was written and what to run next."""
    from tradescan.project import init_project

    result = init_project(args.folder, args.strategy)
    if args.json:
        print_json({"folder": str(result.folder), "strategy": result.strategy,
                    "directive": str(result.directive_file), "created": [str(p) for p in result.created],
                    "existing": [str(p) for p in result.existing], "next": result.next_commands()})
    else:
        print(result)
    return 0
