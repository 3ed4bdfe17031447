"""The results store: one folder per run, a catalog of runs, atomic writes, frozen runs (DESIGN §8, §11).

Layout under the results folder::

    optuna.db                      the Optuna study storage (default; the dashboard opens it)
    catalog.json                   {"runs": {run_id: {name, strategy, status, started, ...}}}
    runs/<run_id>/manifest.json    resolved directive, hashes, versions, times, per-symbol status
    runs/<run_id>/trials.parquet   stage-1 trials of every symbol
    runs/<run_id>/stage2.parquet   finalists x scenarios
    runs/<run_id>/finalists_trades.parquet, finalists_equity.parquet
    runs/<run_id>/FROZEN           present once a person froze the run

Every file is written to a temporary file in the same folder and renamed over the target, so a reader
(or a crash) never sees half a file. A frozen run refuses every write with a message saying so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan.atomic import atomic_write_bytes, atomic_write_with, folder_lock
from tradescan.errors import TradeScanError, UnknownNameError, did_you_mean
from tradescan.paths import results_dir

MANIFEST = "manifest.json"
CATALOG = "catalog.json"
FROZEN_MARKER = "FROZEN"
TRIALS_FILE = "trials.parquet"
STAGE2_FILE = "stage2.parquet"
FINALIST_TRADES_FILE = "finalists_trades.parquet"
FINALIST_EQUITY_FILE = "finalists_equity.parquet"


class FrozenRunError(TradeScanError):
    """An operation would change a run that a person froze."""


def utc_now() -> str:
    """Return the current UTC time as an ISO string with seconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _json_bytes(value: Any) -> bytes:
    from tradescan.cli.common import json_safe

    return (json.dumps(json_safe(value), indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")


class ResultsStore:
    """Read and write runs under one results folder.

    Args:
        root: the results folder (``None`` = ``--results-dir`` / ``$TRADESCAN_RESULTS_DIR`` / ``./results``).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = results_dir(root).resolve()

    # --- paths ------------------------------------------------------------------------------------

    def run_dir(self, run_id: str) -> Path:
        """Return the folder of ``run_id`` (not created)."""
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise TradeScanError(f"invalid run id {run_id!r}")
        return self.root / "runs" / run_id

    def default_storage_url(self) -> str:
        """Return the SQLite URL of the Optuna storage in this results folder."""
        return f"sqlite:///{self.root / 'optuna.db'}"

    # --- frozen runs ------------------------------------------------------------------------------

    def is_frozen(self, run_id: str) -> bool:
        """Return whether a person froze ``run_id``."""
        return (self.run_dir(run_id) / FROZEN_MARKER).exists()

    def ensure_writable(self, run_id: str) -> None:
        """Raise ``FrozenRunError`` if ``run_id`` is frozen."""
        if self.is_frozen(run_id):
            raise FrozenRunError(
                f"run {run_id} is frozen (immutable): it cannot be overwritten or resumed; "
                f"copy the directive under a new name to run it again"
            )

    def freeze(self, run_id: str) -> dict[str, Any]:
        """Mark ``run_id`` immutable and return its updated manifest."""
        manifest = self.read_manifest(run_id)
        if self.is_frozen(run_id):
            raise FrozenRunError(f"run {run_id} is already frozen")
        manifest["frozen"] = utc_now()
        atomic_write_bytes(self.run_dir(run_id) / MANIFEST, _json_bytes(manifest))
        atomic_write_bytes(self.run_dir(run_id) / FROZEN_MARKER, f"frozen {manifest['frozen']}\n".encode())
        self.update_catalog(run_id, {"frozen": manifest["frozen"]}, allow_frozen=True)
        return manifest

    # --- run files --------------------------------------------------------------------------------

    def write_json(self, run_id: str, name: str, value: Any) -> Path:
        """Write ``value`` as JSON into the run folder (refused when frozen)."""
        self.ensure_writable(run_id)
        path = self.run_dir(run_id) / name
        atomic_write_bytes(path, _json_bytes(value))
        return path

    def write_parquet(self, run_id: str, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as Parquet into the run folder (refused when frozen)."""
        self.ensure_writable(run_id)
        path = self.run_dir(run_id) / name
        atomic_write_with(path, lambda temp: frame.to_parquet(temp, index=False))
        return path

    def read_parquet(self, run_id: str, name: str) -> pd.DataFrame:
        """Read a Parquet file of a run, or raise naming the run and the file."""
        path = self.run_dir(run_id) / name
        if not path.exists():
            self._require_run(run_id)
            raise TradeScanError(f"run {run_id} has no {name} (did its sweep finish?)")
        return pd.read_parquet(path)

    def write_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        """Write the run's manifest and mirror its summary into the catalog."""
        self.write_json(run_id, MANIFEST, manifest)
        self.update_catalog(run_id, _catalog_entry(manifest))

    def read_manifest(self, run_id: str) -> dict[str, Any]:
        """Return the run's manifest, or raise listing the known runs."""
        self._require_run(run_id)
        return dict(json.loads((self.run_dir(run_id) / MANIFEST).read_text(encoding="utf-8")))

    def _require_run(self, run_id: str) -> None:
        if not (self.run_dir(run_id) / MANIFEST).exists():
            raise UnknownNameError(did_you_mean(run_id, self.list_runs(), what=f"run in {self.root}"))

    # --- catalog ----------------------------------------------------------------------------------

    def read_catalog(self) -> dict[str, Any]:
        """Return ``{"runs": {run_id: summary}}`` (empty when no run was stored yet)."""
        path = self.root / CATALOG
        if not path.exists():
            return {"runs": {}}
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def update_catalog(self, run_id: str, fields: dict[str, Any], *, allow_frozen: bool = False) -> None:
        """Merge ``fields`` into the catalog entry of ``run_id``."""
        if not allow_frozen:
            self.ensure_writable(run_id)
        # Several sweeps may finish at once (one per directive); the catalog is read-modify-write.
        with folder_lock(self.root, ".catalog.lock"):
            catalog = self.read_catalog()
            catalog.setdefault("runs", {}).setdefault(run_id, {}).update(fields)
            atomic_write_bytes(self.root / CATALOG, _json_bytes(catalog))

    def list_runs(self) -> dict[str, dict[str, Any]]:
        """Return every catalogued run's summary, by run id."""
        return dict(self.read_catalog().get("runs", {}))


def _catalog_entry(manifest: dict[str, Any]) -> dict[str, Any]:
    directive = manifest.get("directive", {})
    symbols = manifest.get("symbols", {})
    return {
        "name": directive.get("name"),
        "strategy": directive.get("strategy"),
        "timeframe": directive.get("timeframe"),
        "symbols": list(symbols) or directive.get("symbols", []),
        "status": manifest.get("status"),
        "started": manifest.get("started"),
        "finished": manifest.get("finished"),
        "hash": manifest.get("hash"),
        "frozen": manifest.get("frozen"),
        "path": str(Path("runs") / manifest.get("run_id", "")),
    }
