"""The ``tradescan`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; this module only wires
them together and turns user-facing errors into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from tradescan.errors import TradeScanError

# Modules that each register one or more subcommands.
_COMMAND_MODULES = (
    "tradescan.cli.quickstart_cmd",
    "tradescan.cli.data_cmd",
    "tradescan.cli.backtest_cmd",
    "tradescan.cli.strategy_cmd",
    "tradescan.cli.sweep_cmd",
    "tradescan.cli.validate_cmd",
    "tradescan.cli.init_cmd",
    "tradescan.cli.report_cmd",
    "tradescan.cli.export_cmd",
    "tradescan.cli.campaign_cmd",
)

EXIT_USAGE = 2
EXIT_FAILED_CHECK = 1


class _OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other CLI error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand registered."""
    parser = _OneLineErrorParser(
        prog="tradescan",
        description="Trade_Scan: a read-only research grid for trading strategies.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except TradeScanError as exc:
        print(f"tradescan: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tradescan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tradescan top ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
