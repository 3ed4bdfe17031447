"""The results store: one folder per run, a catalog of runs, commits, locks and frozen runs (DESIGN §8).

Layout under the results folder::

    catalog.json                     {"runs": {run_id: summary}} (rebuilt from the manifests if absent)
    runs/<run_id>/manifest.json      the typed run manifest (``RunManifest``)
    runs/<run_id>/trials/<SYMBOL>.parquet   stage-1 trials, one file per symbol written once; likewise
                                     stage2/, trades/, equity/ (``tradescan.results.tables``);
                                     guards.parquet (one file); older runs: trials.parquet etc.
    runs/<run_id>/optuna.journal     the run's Optuna study storage (the default; the dashboard opens it)
    runs/<run_id>/sweep.lock         held while a sweep writes the run (``tradescan.results.lock``)
    runs/<run_id>/FROZEN             present once a person froze the run

Writes go through ``commit`` (``tradescan.results.commit``): the tables and the manifest of a step
are replaced as one set, and only by the holder of the run's lock. A frozen run refuses every write.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from tradescan.errors import UnknownNameError, describe_validation_error, did_you_mean
from tradescan.jsonsafe import json_safe
from tradescan.paths import results_dir
from tradescan.results import catalog as catalog_file
from tradescan.results.catalog import CatalogEntry
from tradescan.results.commit import Writer, new_token, overlay, recover
from tradescan.results.commit import commit as commit_files
from tradescan.results.errors import FrozenRunError, ResultsFileError, ResultsWriteError
from tradescan.results.files import cut, read_json_object, read_table, write_bytes, write_failed, write_table
from tradescan.results.lock import RunLock
from tradescan.results.manifest import SCHEMA_VERSION, RunManifest, TableRecord, utc_now
from tradescan.results.tables import MANIFEST_FILE, TABLE_BY_FILE, table_of_file, table_parts

FROZEN_MARKER = "FROZEN"
STORAGE_FILE = "optuna.journal"
MAX_RUN_ID_CHARS = 128
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_MANIFEST_WHAT = "the run manifest that tradescan sweep writes"
# A reader that meets a commit being published reads again after a short pause (publishing takes ms).
READ_ATTEMPTS = 50
READ_PAUSE_S = 0.02


class TableMismatch(Exception):
    """A table file was written by another commit than the one the manifest lists (internal)."""


def show_run_id(run_id: str) -> str:
    """Return ``run_id`` quoted for a message, cut when long."""
    return repr(run_id) if len(run_id) <= 60 else f"{run_id[:40]!r}… ({len(run_id)} characters)"


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` or raise naming the rule (letters, digits, ``_ . -``; at most 128 characters)."""
    if len(run_id) > MAX_RUN_ID_CHARS:
        raise ResultsFileError(f"invalid run id {show_run_id(run_id)}: at most {MAX_RUN_ID_CHARS} characters")
    if not RUN_ID_PATTERN.fullmatch(run_id):
        raise ResultsFileError(
            f"invalid run id {show_run_id(run_id)}: letters, digits, '_', '.' and '-' only, not starting with "
            f"'.', '_' or '-' (see 'tradescan runs')"
        )
    return run_id


def manifest_bytes(manifest: RunManifest) -> bytes:
    """Return the manifest's JSON text (indented, non-finite floats as strings)."""
    return (json.dumps(json_safe(manifest.model_dump(mode="json")), indent=2) + "\n").encode("utf-8")


class ResultsStore:
    """Read and write runs under one results folder.

    Args:
        root: the results folder (``None`` = ``--results-dir`` / ``$TRADESCAN_RESULTS_DIR`` / ``./results``).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = results_dir(root).resolve()
        self._locks: dict[str, RunLock] = {}

    # --- paths ------------------------------------------------------------------------------------

    def run_dir(self, run_id: str) -> Path:
        """Return the folder of ``run_id`` (not created); raise for an invalid run id."""
        return self.root / "runs" / validate_run_id(run_id)

    def storage_path(self, run_id: str) -> Path:
        """Return the run's default Optuna storage file (a journal, ``runs/<id>/optuna.journal``)."""
        return self.run_dir(run_id) / STORAGE_FILE

    # --- locks and frozen runs --------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, run_id: str) -> Iterator[RunLock]:
        """Hold the run's lock (refused while another live process holds it); finish stale commits."""
        held = RunLock(self.run_dir(run_id), run_id)
        with held:
            self._locks[run_id] = held
            try:
                self._recover(run_id)
                yield held
            finally:
                del self._locks[run_id]

    def _recover(self, run_id: str) -> None:
        try:
            recover(self.run_dir(run_id))
        except OSError as exc:
            raise write_failed(self.run_dir(run_id), exc, kept="nothing was changed") from None

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

    def freeze(self, run_id: str) -> RunManifest:
        """Mark ``run_id`` immutable (refused while a sweep writes it) and return its manifest."""
        if not self.run_dir(run_id).is_dir():
            self.read_manifest(run_id)  # an unknown run is named; its folder is not made for the lock
        with self._locked(run_id):
            manifest = self.read_manifest(run_id)
            if self.is_frozen(run_id):
                raise FrozenRunError(f"run {run_id} is already frozen (since {manifest.frozen})")
            marker = self.run_dir(run_id) / FROZEN_MARKER
            frozen = manifest.model_copy(update={"frozen": utc_now()})
            try:
                write_bytes(marker, f"frozen {frozen.frozen}\n".encode())
            except OSError as exc:
                raise write_failed(marker, exc, kept="the run is not frozen") from None
            try:
                return self._commit(run_id, frozen, {})
            except BaseException:
                marker.unlink()  # the manifest still says "not frozen": so must the marker
                raise

    # --- writing ----------------------------------------------------------------------------------

    def commit(
        self, run_id: str, manifest: RunManifest, tables: Mapping[str, pd.DataFrame] | None = None
    ) -> RunManifest:
        """Replace the run's ``tables`` (file name -> frame) and manifest as one set; return what was written.

        The other tables stay as they are (the manifest keeps their entries). Takes the run's lock for the
        duration unless this store already holds it (``lock``).

        Raises:
            FrozenRunError: the run is frozen.
            RunLockedError: another process writes the run.
            ResultsWriteError: a file could not be written; the previous files are intact.
        """
        self.ensure_writable(run_id)
        with self._locked(run_id):
            return self._commit(run_id, manifest, dict(tables or {}))

    def _commit(self, run_id: str, manifest: RunManifest, tables: dict[str, pd.DataFrame]) -> RunManifest:
        if manifest.run_id != run_id:
            raise ResultsWriteError(f"refusing to write the manifest of run {manifest.run_id} into run {run_id}")
        unknown = sorted(name for name in tables if table_of_file(name) is None)
        if unknown:
            raise ResultsWriteError(
                f"unknown table file(s) {unknown}; known: {sorted(TABLE_BY_FILE)} or <table>/<SYMBOL>.parquet"
            )
        token = new_token()
        records = {**manifest.tables, **{name: TableRecord(commit=token, rows=len(f)) for name, f in tables.items()}}
        committed = manifest.model_copy(update={"commit": token, "tables": records})
        writers: dict[str, Writer] = {
            name: partial(_write_frame, frame, token=token) for name, frame in tables.items()
        }
        commit_files(self.run_dir(run_id), writers, manifest_bytes(committed), token)
        catalog_file.update_catalog(self.root, run_id, catalog_file.catalog_entry(committed), self._rebuilt_catalog)
        return committed

    @contextlib.contextmanager
    def _locked(self, run_id: str) -> Iterator[None]:
        if run_id in self._locks:
            yield
            return
        with self.lock(run_id):
            yield

    def write_manifest(self, run_id: str, manifest: RunManifest) -> RunManifest:
        """Commit a new manifest alone (the tables stay)."""
        return self.commit(run_id, manifest)

    def write_parquet(self, run_id: str, name: str, frame: pd.DataFrame) -> Path:
        """Commit one table file of an existing run (its manifest records the new table)."""
        self.commit(run_id, self.read_manifest(run_id), {name: frame})
        return self.run_dir(run_id) / name

    # --- reading ----------------------------------------------------------------------------------

    def has_manifest(self, run_id: str) -> bool:
        """Return whether ``run_id`` has a manifest (committed, or decided and being published)."""
        return overlay(self.run_dir(run_id), MANIFEST_FILE).exists()

    def read_manifest(self, run_id: str) -> RunManifest:
        """Return the run's manifest, or raise naming the unknown run or what is wrong with the file."""
        run_dir = self.run_dir(run_id)
        for _ in range(READ_ATTEMPTS):
            path = overlay(run_dir, MANIFEST_FILE)
            try:
                document = read_json_object(path, _MANIFEST_WHAT)
            except FileNotFoundError:
                if not (run_dir / MANIFEST_FILE).exists() and path == run_dir / MANIFEST_FILE:
                    raise self._unknown_run(run_id) from None
                time.sleep(READ_PAUSE_S)  # a commit moved it as we looked
                continue
            return _parse_manifest(document, run_dir / MANIFEST_FILE, run_id)
        raise ResultsFileError(f"{run_dir / MANIFEST_FILE}: keeps moving; is a commit stuck? (see 'tradescan runs')")

    def read_table(self, run_id: str, name: str, manifest: RunManifest) -> pd.DataFrame | None:
        """Return a table as ``manifest`` lists it, ``None`` when the run has no such table.

        ``name`` is a table's file (``trials.parquet``): its per-symbol parts listed in the manifest are
        read and concatenated in the run's symbol order (a run of the older one-file layout reads that file).

        Raises:
            TableMismatch: a file on disk belongs to another commit than ``manifest``'s.
            ResultsFileError: a file is damaged or unreadable.
        """
        table = TABLE_BY_FILE.get(name)
        parts = table_parts(table, list(manifest.tables), list(manifest.symbols)) if table else []
        if len(parts) <= 1:
            return self._read_file(run_id, parts[0] if parts else name, manifest)
        frames = []
        for part in parts:
            frame = self._read_file(run_id, part, manifest)
            if frame is None:
                raise TableMismatch(part)
            frames.append(frame)
        present = [frame for frame in frames if not frame.empty]
        return pd.concat(present, ignore_index=True) if present else frames[0]

    def _read_file(self, run_id: str, name: str, manifest: RunManifest) -> pd.DataFrame | None:
        table = table_of_file(name)
        what = f"the {table.name if table else name} table of run {run_id}"
        path = overlay(self.run_dir(run_id), name)
        expected = manifest.tables.get(name)
        try:
            frame, token = read_table(path, what)
        except FileNotFoundError:
            if expected is None:
                return None
            raise TableMismatch(name) from None
        if token is not None and (expected is None or token != expected.commit):
            raise TableMismatch(name)
        return frame

    def read_parquet(self, run_id: str, name: str) -> pd.DataFrame:
        """Return one table of a run, consistent with the manifest it was committed with."""
        for _ in range(READ_ATTEMPTS):
            manifest = self.read_manifest(run_id)
            try:
                frame = self.read_table(run_id, name, manifest)
            except TableMismatch:
                time.sleep(READ_PAUSE_S)  # a commit is being published: read both again
                continue
            if frame is None:
                raise ResultsFileError(f"run {run_id} has no {name} (did its sweep finish?)")
            return frame
        raise ResultsFileError(
            f"{self.run_dir(run_id) / name}: written by another commit than manifest.json lists "
            f"({manifest.commit}); was a file copied in by hand? Re-run the sweep to rewrite the run's tables"
        )

    def _unknown_run(self, run_id: str) -> UnknownNameError | ResultsFileError:
        if self.run_dir(run_id).is_dir():
            return ResultsFileError(
                f"{self.run_dir(run_id)} has no {MANIFEST_FILE}: its first sweep has not recorded anything yet "
                f"or the file was removed"
            )
        return UnknownNameError(did_you_mean(run_id, self._run_folders(), what=f"run in {self.root}"))

    def _run_folders(self) -> list[str]:
        folder = self.root / "runs"
        try:
            return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        except OSError:
            return []

    # --- catalog ----------------------------------------------------------------------------------

    def list_runs(self) -> dict[str, CatalogEntry]:
        """Return every run's catalog line by run id (rebuilt from the manifests when there is no catalog)."""
        entries = catalog_file.read_catalog(self.root)
        return dict(self._rebuilt_catalog()) if entries is None else entries

    def _rebuilt_catalog(self) -> dict[str, CatalogEntry]:
        entries = {}
        for run_id in self._run_folders():
            if not self.has_manifest(run_id):
                continue  # a sweep that stopped before recording anything (or is starting now)
            try:
                entries[run_id] = catalog_file.catalog_entry(self.read_manifest(run_id))
            except ResultsFileError as exc:  # listed with its error, not left out
                entries[run_id] = catalog_file.unreadable_entry(run_id, str(exc))
        return entries


def _write_frame(frame: pd.DataFrame, path: Path, *, token: str) -> None:
    write_table(frame, path, token)


def _parse_manifest(document: dict[str, object], path: Path, run_id: str) -> RunManifest:
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsFileError(
            f"{path}: schema_version={version!r}, expected {SCHEMA_VERSION}: written by another version of "
            f"tradescan; re-run the sweep with this one"
        )
    try:
        manifest = RunManifest.model_validate(document)
    except ValidationError as exc:
        problems = cut(describe_validation_error(exc), 400)
        raise ResultsFileError(f"{path}: {problems} (expected {_MANIFEST_WHAT})") from None
    if manifest.run_id != run_id:
        raise ResultsFileError(f"{path}: run_id={manifest.run_id!r}, expected {run_id!r} (the folder's name)")
    return manifest
