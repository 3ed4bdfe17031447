"""Arguments and output helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


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


def json_safe(value: Any) -> Any:
    """Return ``value`` with non-finite floats turned into strings ("inf", "-inf", "nan") for JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalar
        return json_safe(value.item())
    return value


def print_json(value: Any) -> None:
    """Print ``value`` as indented, JSON-safe JSON."""
    print(json.dumps(json_safe(value), indent=2, sort_keys=False, default=str))
