"""The data folder's manifest: content hash, row count and time span of every stored dataset.

``manifest.json`` is what lineage reads (the SHA-256 of each Parquet file), so it is written
atomically and under a folder lock, and its entries are keyed ``SYMBOL/TF`` in sorted order so that
the file itself is stable.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tradescan.atomic import atomic_write_bytes, folder_lock
from tradescan.errors import DataError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_LOCK_NAME = ".manifest.lock"


def dataset_key(symbol: str, timeframe: str) -> str:
    """Return the manifest key of a dataset (``EURUSD/H1``)."""
    return f"{symbol}/{timeframe}"


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Return the manifest's entries by key ({} when the folder has no manifest yet).

    Raises:
        DataError: the manifest exists but is not a manifest (hand-edited or truncated).
    """
    path = folder / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable manifest ({exc}); delete it and re-import the data") from None
    datasets = document.get("datasets") if isinstance(document, dict) else None
    if not isinstance(datasets, dict):
        raise DataError(f"{path}: not a Trade_Scan manifest (no 'datasets' mapping)")
    return datasets


def manifest_lock(folder: Path) -> AbstractContextManager[None]:
    """Return the lock to hold while writing a dataset and its manifest entry."""
    return folder_lock(folder, _LOCK_NAME)


def record_dataset(folder: Path, key: str, entry: dict[str, Any]) -> None:
    """Add or replace one manifest entry atomically; the caller holds ``manifest_lock(folder)``."""
    datasets = read_manifest(folder)
    datasets[key] = entry
    document = {"version": MANIFEST_VERSION, "datasets": dict(sorted(datasets.items()))}
    payload = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    atomic_write_bytes(folder / MANIFEST_NAME, payload)
