"""An Optuna journal file that a sweep appends to without an ``fsync`` per trial.

Optuna's ``JournalFileBackend`` flushes every record to disk with ``fsync``; measured inside a sweep on
this project's 2-core machine that was 2.4 ms per trial (9.6 s of a 4,000-trial sweep's 13.6 s of
writing), so the writer fell behind the actors. ``JournalFile`` implements Optuna's public
``BaseJournalBackend`` with the same file format and the same lock file, so ``JournalFileBackend``,
``JournalStorage`` and optuna-dashboard read and write it as usual, but it syncs to disk at most every
``SYNC_INTERVAL_S`` (and when closed). A killed process loses nothing it wrote (the kernel holds the
bytes); a power cut may lose the last interval of trials, which the next sweep simply runs again.

``BulkJournalStorage`` is Optuna's ``JournalStorage`` over a ``JournalFile`` with one addition for the
sweep's writer: ``add_finished_trials`` appends finished trials in one write (one lock, one ``write``),
each as the very record ``JournalStorage.create_new_trial(template_trial=...)`` writes, and does not
replay the journal after each trial as ``Study.add_trial`` does (the next read replays them, as it
replays any other writer's). Measured inside a sweep, ``Study.add_trial`` on the journal cost ~0.75 ms
of driver CPU per trial, a third of it the lock and a quarter the replay; the bulk append ~0.03 ms.
The record layout is the journal *file format* (op code 4, "create trial"), which every Optuna since
3.1 reads; ``tests/sweep/test_storage.py`` checks it against the record Optuna itself writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from optuna.distributions import BaseDistribution, distribution_to_json
from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend, JournalFileSymlinkLock
from optuna.trial import FrozenTrial

SYNC_INTERVAL_S = 0.5
LOCK_GRACE_S = 5  # a lock left by a killed writer is broken after this long (Optuna's default: 30 s)
CREATE_TRIAL = 4  # Optuna's JournalOperation.CREATE_TRIAL: the journal format's "create a trial" record


class JournalFile(BaseJournalBackend):
    """A journal file in Optuna's format, synced to disk every ``SYNC_INTERVAL_S`` rather than per record.

    Args:
        path: the journal file (created when absent).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader = JournalFileBackend(str(path), lock_obj=JournalFileSymlinkLock(str(path), LOCK_GRACE_S))
        self._lock = JournalFileSymlinkLock(str(path), LOCK_GRACE_S)  # the lock file every writer uses
        self._descriptor: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._synced_at = time.monotonic()

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        """Return the records from number ``log_number_from`` on (Optuna's own reader)."""
        return self._reader.read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append records as Optuna's file backend does (one JSON line each, under the file's lock).

        A write that fails part-way (a full disk) is cut off again, so the file never keeps half a
        record that a later record would turn into a corrupt line.
        """
        payload = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode("utf-8")
        descriptor = self._open_descriptor()
        self._lock.acquire()
        try:
            size_before = os.fstat(descriptor).st_size
            try:
                _write_all(descriptor, payload)
            except OSError:
                os.ftruncate(descriptor, size_before)
                raise
        finally:
            self._lock.release()
        if time.monotonic() - self._synced_at >= SYNC_INTERVAL_S:
            self.sync()

    def sync(self) -> None:
        """Flush everything appended so far to disk."""
        os.fsync(self._open_descriptor())
        self._synced_at = time.monotonic()

    def close(self) -> None:
        """Sync and close the file."""
        if self._descriptor is not None:
            self.sync()
            os.close(self._descriptor)
            self._descriptor = None

    def _open_descriptor(self) -> int:
        if self._descriptor is None:
            raise ValueError(f"the journal {self.path} was closed")
        return self._descriptor

    def __del__(self) -> None:
        descriptor = getattr(self, "_descriptor", None)
        if descriptor is not None:
            os.close(descriptor)  # what was written is in the kernel's hands already


def _write_all(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


class BulkJournalStorage(JournalStorage):
    """Optuna's ``JournalStorage`` on a ``JournalFile``, able to append many finished trials at once.

    Everything Optuna does with it (``create_study``, ``load_study``, ``Study.add_trial``, the dashboard)
    works as on any ``JournalStorage``; ``add_finished_trials`` is the sweep writer's fast path.

    Args:
        journal: the journal file.
    """

    def __init__(self, journal: JournalFile) -> None:
        super().__init__(journal)
        self.journal = journal
        self._worker_id = f"{uuid.uuid4()}-bulk"  # any id: replay only compares it with its own process's
        self._distributions: dict[int, tuple[BaseDistribution, str]] = {}

    def add_finished_trials(self, study_id: int, trials: Sequence[FrozenTrial]) -> None:
        """Append finished trials to study ``study_id`` in one write; numbers follow the study's trials.

        Each record is what ``create_new_trial(study_id, template_trial=trial)`` writes, so reading the
        journal back gives the trials ``Study.add_trial`` would have stored. Call it from one thread per
        study, in trial-number order (the journal numbers a study's trials in the order they appear).
        """
        if trials:
            times: dict[dt.datetime, str] = {}
            self.journal.append_logs([self._record(study_id, trial, times) for trial in trials])

    def _record(self, study_id: int, trial: FrozenTrial, times: dict[dt.datetime, str]) -> dict[str, Any]:
        values = trial.values
        several = values is not None and len(values) > 1
        record: dict[str, Any] = {
            "op_code": CREATE_TRIAL,
            "worker_id": self._worker_id,
            "study_id": study_id,
            "datetime_start": _utc_text(trial.datetime_start, times),
            "state": int(trial.state),
            "value": None if several else trial.value,
            "values": values if several else None,
        }
        if trial.datetime_complete is not None:
            record["datetime_complete"] = _utc_text(trial.datetime_complete, times)
        distributions = trial.distributions
        record["distributions"] = {name: self._distribution_json(d) for name, d in distributions.items()}
        record["params"] = {name: distributions[name].to_internal_repr(v) for name, v in trial.params.items()}
        record["user_attrs"] = trial.user_attrs
        record["system_attrs"] = trial.system_attrs
        record["intermediate_values"] = trial.intermediate_values
        return record

    def _distribution_json(self, distribution: BaseDistribution) -> str:
        # A sweep's trials share a handful of distribution objects: encode each once.
        known = self._distributions.get(id(distribution))
        if known is None or known[0] is not distribution:
            known = (distribution, distribution_to_json(distribution))
            self._distributions[id(distribution)] = known
        return known[1]


def _utc_text(moment: dt.datetime | None, cache: dict[dt.datetime, str]) -> str | None:
    """Return ``moment`` as Optuna's journal writes it (UTC, ISO 8601, microseconds); a chunk shares a few."""
    if moment is None:
        return None
    text = cache.get(moment)
    if text is None:
        text = cache[moment] = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return text
