"""Where Trade_Scan finds its bundled files and the user's data and results folders.

The bundled folders (``configs/``, ``strategies/``, ``search_spaces/``) sit beside the package in the
repository; the data and results folders come from an argument, then an environment variable, then a
default relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGS_DIR = REPO_ROOT / "configs"
STRATEGIES_DIR = REPO_ROOT / "strategies"
SEARCH_SPACES_DIR = REPO_ROOT / "search_spaces"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data folder: ``explicit``, else ``$TRADESCAN_DATA_DIR``, else ``./data``."""
    return Path(explicit or os.environ.get("TRADESCAN_DATA_DIR") or "data")


def results_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the results folder: ``explicit``, else ``$TRADESCAN_RESULTS_DIR``, else ``./results``."""
    return Path(explicit or os.environ.get("TRADESCAN_RESULTS_DIR") or "results")
