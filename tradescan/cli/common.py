"""Arguments and output helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tradescan.jsonsafe import json_safe

__all__ = ["add_data_dir", "add_results_dir", "json_safe", "print_json"]


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
