"""Where Trade_Scan finds its files: one lookup rule for everything it ships, and the user's folders.

The lookup rule. Every file Trade_Scan ships (broker profiles, the instrument registry, directives,
universes, search spaces, strategies) lives inside the package, under ``tradescan/bundled/``, at the
relative path a user's own copy has in a project folder: ``configs/brokers/default.yaml``,
``configs/instruments.yaml``, ``configs/directives/quickstart.yaml``, ``search_spaces/<module>.yaml``,
``strategies/<module>.py``. A relative reference is looked up in these folders, first file found wins:

1. the working directory (the user's project folder, e.g. one made by ``tradescan init``);
2. the folder of the file holding the reference, when there is one (a directive's own folder);
3. the bundled folder.

So a user's file hides the bundled file of the same relative path, and a directive given on the command
line that is not a file (``tradescan sweep configs/directives/quickstart.yaml`` run from any folder)
is the bundled one. Two kinds of files are merged instead of hidden, because they are registries of
names: strategies (every folder's modules are discovered; one name in two files is an error) and
instruments (``./configs/instruments.yaml`` then ``$TRADESCAN_INSTRUMENTS`` merged over the bundled
file, field by field). The data and results folders come from an argument, then an environment
variable, then a default relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
CONFIGS_DIR = BUNDLED_DIR / "configs"
STRATEGIES_DIR = BUNDLED_DIR / "strategies"
SEARCH_SPACES_DIR = BUNDLED_DIR / "search_spaces"


def lookup_roots(base_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return the folders a relative reference is looked up in, first match wins (the rule above)."""
    roots: list[Path] = []
    for root in (Path.cwd(), base_dir, BUNDLED_DIR):
        if root is not None and Path(root).resolve() not in roots:
            roots.append(Path(root).resolve())
    return roots


def find_file(reference: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the first existing file for ``reference`` by the lookup rule, or ``None``.

    An absolute reference is itself or nothing; a relative one is tried under each of
    ``lookup_roots(base_dir)``. The result is resolved (absolute, no symlinks).
    """
    candidate = Path(reference)
    if candidate.is_absolute():
        return candidate.resolve() if candidate.is_file() else None
    for root in lookup_roots(base_dir):
        if (root / candidate).is_file():
            return (root / candidate).resolve()
    return None


def lookup_dirs(relative_folder: str, base_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Return the existing ``<root>/<relative_folder>`` folders, highest priority first.

    Used to list files by name (``lookup_dirs("configs/brokers")``): a name found in an earlier folder
    hides the same name in a later one.
    """
    return [root / relative_folder for root in lookup_roots(base_dir) if (root / relative_folder).is_dir()]


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the data folder: ``explicit``, else ``$TRADESCAN_DATA_DIR``, else ``./data``."""
    return Path(explicit or os.environ.get("TRADESCAN_DATA_DIR") or "data")


def results_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the results folder: ``explicit``, else ``$TRADESCAN_RESULTS_DIR``, else ``./results``."""
    return Path(explicit or os.environ.get("TRADESCAN_RESULTS_DIR") or "results")
