"""The catalog of runs, ``catalog.json``: one summary line per run, derived from the manifests.

The catalog only repeats what each ``runs/<id>/manifest.json`` says, so it is never the only copy of
anything: it is updated after a run's commit (atomically, under a folder lock, as several sweeps may
finish at once) and rebuilt from the manifests when it is absent. A damaged catalog is reported with
that fix, never silently replaced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tradescan.atomic import atomic_write_bytes, folder_lock
from tradescan.errors import describe_validation_error
from tradescan.jsonsafe import json_safe
from tradescan.results.errors import ResultsFileError
from tradescan.results.files import cut, read_json_object, write_failed
from tradescan.results.manifest import Record, RunManifest, UtcTime

CATALOG_FILE = "catalog.json"
_LOCK_FILE = ".catalog.lock"
_WHAT = "the catalog of runs ({\"runs\": {run_id: summary}}) that tradescan writes"
_FIX = "it only summarises runs/*/manifest.json: remove it and tradescan rebuilds it"


class CatalogEntry(Record):
    """One run's line in the catalog."""

    name: str | None = None
    strategy: str | None = None
    timeframe: str | None = None
    symbols: tuple[str, ...] = ()
    status: str
    started: UtcTime | None = None
    finished: UtcTime | None = None
    hash: str | None = None
    frozen: UtcTime | None = None
    path: str
    error: str | None = None


def catalog_entry(manifest: RunManifest) -> CatalogEntry:
    """Return the catalog line of a run from its manifest."""
    directive = manifest.directive
    return CatalogEntry(
        name=directive.get("name"),
        strategy=directive.get("strategy"),
        timeframe=directive.get("timeframe"),
        symbols=tuple(manifest.symbols) or tuple(directive.get("symbols", ())),
        status=manifest.status,
        started=manifest.started,
        finished=manifest.finished,
        hash=manifest.hash,
        frozen=manifest.frozen,
        path=f"runs/{manifest.run_id}",
    )


def unreadable_entry(run_id: str, error: str) -> CatalogEntry:
    """Return the catalog line of a run whose manifest cannot be read (the error shown with it)."""
    return CatalogEntry(status="unreadable", path=f"runs/{run_id}", error=error)


def read_catalog(root: Path) -> dict[str, CatalogEntry] | None:
    """Return the catalog's entries by run id, or ``None`` when there is no catalog file."""
    path = root / CATALOG_FILE
    try:
        document = read_json_object(path, f"{_WHAT}; {_FIX}")
    except FileNotFoundError:
        return None
    runs = document.get("runs")
    if not isinstance(runs, dict) or set(document) - {"runs"}:
        raise ResultsFileError(f"{path}: expected {_WHAT} and nothing else; {_FIX}")
    entries = {}
    for run_id, entry in runs.items():
        try:
            entries[str(run_id)] = CatalogEntry.model_validate(entry)
        except ValidationError as exc:
            raise ResultsFileError(
                f"{path}: run {cut(str(run_id))!r}: {cut(describe_validation_error(exc), 300)}; {_FIX}"
            ) from None
    return entries


def write_catalog(root: Path, entries: dict[str, CatalogEntry]) -> None:
    """Write the catalog atomically."""
    document: dict[str, Any] = {"runs": {run_id: e.model_dump(mode="json") for run_id, e in entries.items()}}
    payload = (json.dumps(json_safe(document), indent=2) + "\n").encode("utf-8")
    path = root / CATALOG_FILE
    try:
        atomic_write_bytes(path, payload)
    except OSError as exc:
        raise write_failed(path, exc, kept="the previous catalog is unchanged") from None


def update_catalog(
    root: Path, run_id: str, entry: CatalogEntry, rebuild: Callable[[], Mapping[str, CatalogEntry]]
) -> None:
    """Set the catalog line of ``run_id`` (``rebuild()`` gives every entry when there is no catalog)."""
    try:
        with folder_lock(root, _LOCK_FILE):
            entries = read_catalog(root)
            if entries is None:
                entries = dict(rebuild())
            entries[run_id] = entry
            write_catalog(root, entries)
    except OSError as exc:  # the lock file itself (the reads and the write name their own files)
        raise write_failed(root / _LOCK_FILE, exc, kept="the catalog is unchanged") from None
