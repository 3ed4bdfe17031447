"""Where Trade_Scan finds its bundled files and the user's data and results folders.

The bundled folders (``configs/``, ``strategies/``, ``search_spaces/``) ship inside the package
(``tradescan/bundled/``), so a wheel installed anywhere has them; a user's own folders of the same names
in the working directory layer over them. The data and results folders come from an argument, then an
environment variable, then a default relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
CONFIGS_DIR = BUNDLED_DIR / "configs"
STRATEGIES_DIR = BUNDLED_DIR / "strategies"
SEARCH_SPACES_DIR = BUNDLED_DIR / "search_spaces"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data folder: ``explicit``, else ``$TRADESCAN_DATA_DIR``, else ``./data``."""
    return Path(explicit or os.environ.get("TRADESCAN_DATA_DIR") or "data")


def results_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the results folder: ``explicit``, else ``$TRADESCAN_RESULTS_DIR``, else ``./results``."""
    return Path(explicit or os.environ.get("TRADESCAN_RESULTS_DIR") or "results")
