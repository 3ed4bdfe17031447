"""Arguments and output helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from tradescan.errors import TradeScanError
from tradescan.jsonsafe import json_safe

__all__ = [
    "TABLE_WIDTH", "add_data_dir", "add_results_dir", "json_safe", "notices_on_stderr", "print_json", "render_table",
]


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-dir`` (default ``$TRADESCAN_DATA_DIR`` or ``./data``)."""
    parser.add_argument(
        "--data-dir", default=None, help="data folder (default: $TRADESCAN_DATA_DIR or ./data)"
    )


def add_results_dir(parser: argparse.ArgumentParser) -> None:
    """Add ``--results-dir`` (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``)."""
    parser.add_argument(
        "--results-dir", default=None, help="results folder (default: $TRADESCAN_RESULTS_DIR or ./results)"
    )


def print_json(value: Any) -> None:
    """Print ``value`` as indented, JSON-safe JSON."""
    print(json.dumps(json_safe(value), indent=2, sort_keys=False, default=str))


TABLE_WIDTH = 100  # every table fits a 100-column terminal (long cells wrap)


def render_table(table: Any) -> str:
    """Return a ``rich`` table as plain text at most ``TABLE_WIDTH`` columns wide (no colours)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=TABLE_WIDTH, color_system=None, force_terminal=False, soft_wrap=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


@contextlib.contextmanager
def notices_on_stderr() -> Iterator[None]:
    """Print each ``TradeScanNotice`` warning as one ``tradescan: note:`` line on stderr, as it is issued."""
    from tradescan.results.errors import TradeScanNotice

    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, TradeScanNotice):
            print(f"tradescan: note: {message}".replace("\n", " "), file=sys.stderr)
        else:
            previous(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", TradeScanNotice)
            yield
    finally:
        warnings.showwarning = previous


def positive_int(text: str) -> int:
    """Parse a whole number >= 1 (argparse type); the message names the rule and the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def ray_address(text: str) -> str:
    """Check a Ray address's form (argparse type): ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``."""
    from tradescan.sweep.ray_runtime import split_address

    try:
        split_address(text)
    except TradeScanError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--address: ")) from None
    return text


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers`` and ``--address``, the same for every command that runs on Ray."""
    parser.add_argument("--workers", type=positive_int, default=None, help="evaluator actors (default: all CPUs)")
    parser.add_argument("--address", type=ray_address, default=None,
                        help="join this Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
