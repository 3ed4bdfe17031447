"""Optuna study storage for sweeps, written through Optuna's public API, off the driver's hot path.

A storage is named by a *spec*: a file path is an Optuna journal file (``JournalStorage`` with a
``JournalFileBackend``, the default: ``runs/<run_id>/optuna.journal``); a URL with ``://`` is an RDB
(``sqlite:///…``, ``postgresql://…``). Studies are named ``<run_id>/<symbol>``.

Measured on this project's machine (2,000 finished trials of the S1 space, 8 parameters and 18
metrics each, written in batches of 64 by ``Study.add_trials``): the journal file takes 0.76 ms per
trial (0.56 ms of it CPU, ~1,300 trials/s); SQLite through ``RDBStorage`` 17 ms per trial (~58
trials/s), because every trial is its own ORM transaction. So the journal is the default, and an RDB
URL is accepted with a loud ``SlowStorageWarning`` saying how slow its writes are. There is no
hidden fallback from one to the other. The sampler never waits on the storage: finished trials are
queued to ``TrialWriter``'s thread, which writes them in trial order; ``close`` waits for the queue and
raises the first write error (a full disk is named as such). The journal is appended by
``tradescan.sweep.journal.JournalFile``: Optuna's file format, synced to disk every 0.5 s instead of
per record (``JournalFileBackend``'s per-record ``fsync`` cost 2.4 ms per trial inside a sweep), and
written ``JOURNAL_APPEND_TRIALS`` trials per append by ``BulkJournalStorage.add_finished_trials``
(``Study.add_trial`` locks, writes and replays the file per trial: ~0.75 ms of driver CPU, which on a
2-core machine is CPU taken from the actors). An RDB is written one trial at a time with
``Study.add_trial``, yielding the GIL between trials so that the driver's thread keeps the actors fed.
Only finished trials are written, so a killed driver leaves no stale RUNNING trials: re-running
resumes from what was written.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from tradescan.errors import TradeScanError
from tradescan.results.errors import TradeScanNotice
from tradescan.results.files import cut, describe_os_error, is_disk_full

STUDY_NAME_SEPARATOR = "/"
# Trials per journal append: one lock and one write each; a failed append (a full disk) loses only its own.
JOURNAL_APPEND_TRIALS = 32
# pg_advisory_lock key held while Optuna creates or checks its tables, so that drivers starting at
# once on an empty PostgreSQL database do not race on CREATE TYPE/TABLE (a UniqueViolation otherwise).
POSTGRES_SCHEMA_LOCK = 0x7472_6164_6573_636E  # "tradescn"
UNPARSEABLE_URL = "<unparseable storage URL>"
_STOP = object()

StorageKind = Literal["journal", "rdb"]


class StorageWriteError(TradeScanError):
    """Finished trials could not be written to the study storage (those written before are kept)."""


class SlowStorageWarning(TradeScanNotice):
    """The chosen storage writes trials much slower than a sweep makes them."""


def study_name(run_id: str, symbol: str) -> str:
    """Return the study name of one symbol of one run (``<run_id>/<symbol>``)."""
    return f"{run_id}{STUDY_NAME_SEPARATOR}{symbol}"


def storage_kind(spec: str) -> StorageKind:
    """Return ``"rdb"`` for a URL (``scheme://…``) and ``"journal"`` for a file path."""
    return "rdb" if "://" in spec else "journal"


def redact(spec: str) -> str:
    """Return a storage spec safe to print: an RDB URL with its password hidden.

    Fails closed: a URL that cannot be parsed is shown as ``<unparseable storage URL>``, never as typed.
    """
    if storage_kind(spec) == "journal":
        return spec
    try:
        from sqlalchemy.engine import make_url

        return str(make_url(spec).render_as_string(hide_password=True))
    except Exception:  # any parser failure: the text may hold a password we could not find
        return UNPARSEABLE_URL


def open_storage(spec: str) -> BaseStorage:
    """Open the storage ``spec`` names (a journal file path or an RDB URL); a bad one is a one-line error."""
    if storage_kind(spec) == "rdb":
        return _open_rdb(spec)
    return _open_journal(Path(spec))


def rdb_url(url: str) -> str:
    """Return ``url`` with its PostgreSQL driver named, so that ``postgresql://…`` works with the extra.

    SQLAlchemy reads a bare ``postgresql://`` as psycopg2, but the ``postgres`` extra installs psycopg (3);
    a bare URL therefore gets psycopg when it is installed, else psycopg2. ``postgres://`` (Heroku's
    spelling, refused by SQLAlchemy 2) is read the same way. Any other URL is returned as it is.

    Raises:
        TradeScanError: a PostgreSQL URL without a driver, and neither psycopg nor psycopg2 is installed.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("postgresql", "postgres"):
        return url
    for module, dialect in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"{dialect}://{rest}"
    raise TradeScanError(
        f"--storage {redact(url)}: PostgreSQL needs a driver and none is installed; "
        "pip install 'tradescan[postgres]' (psycopg)"
    )


def new_rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """Return Optuna's ``RDBStorage`` for ``url`` (driver named by ``rdb_url``).

    On PostgreSQL the storage is built while holding an advisory lock: Optuna creates its tables on
    first use, and two drivers doing that at once on an empty database collide. Other databases are
    opened as they are (SQLite serialises writers itself).
    """
    url = rdb_url(url)
    if not url.startswith("postgresql"):
        return optuna.storages.RDBStorage(url)
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_SCHEMA_LOCK})
            try:
                return optuna.storages.RDBStorage(url)
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_SCHEMA_LOCK})
    finally:
        engine.dispose()


def _open_rdb(url: str) -> BaseStorage:
    try:
        return new_rdb_storage(url)
    except (ImportError, ValueError, optuna.exceptions.StorageInternalError) as exc:
        raise TradeScanError(f"cannot open the Optuna storage {redact(url)}: {_short(exc)}") from None
    except Exception as exc:  # SQLAlchemy's errors (bad dialect, no server) have no common Optuna type
        if type(exc).__module__.startswith("sqlalchemy"):
            raise TradeScanError(f"cannot open the Optuna storage {redact(url)}: {_short(exc)}") from None
        raise


def _open_journal(path: Path) -> BaseStorage:
    from tradescan.sweep.journal import BulkJournalStorage, JournalFile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return BulkJournalStorage(JournalFile(path))
    except OSError as exc:
        raise TradeScanError(f"cannot open the Optuna journal {path}: {describe_os_error(exc)}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TradeScanError(
            f"{path}: not a readable Optuna journal ({_short(exc)}); expected the study log a sweep writes"
        ) from None


def _short(exc: BaseException) -> str:
    return cut(str(exc).replace("\n", " ") or type(exc).__name__, 200)


def open_study(spec: str, name: str) -> optuna.Study:
    """Create or load the study ``name`` (maximised) in the storage ``spec``."""
    storage = open_storage(spec)
    if storage_kind(spec) == "rdb":
        warnings.warn(SlowStorageWarning(
            f"storage {redact(spec)} is an RDB: Optuna writes it one trial per transaction (~58 trials/s "
            f"measured on SQLite), slower than a sweep makes trials; the sweep runs ahead and waits for the "
            f"writes at the end of each symbol. Leave --storage out for the fast journal file"
        ), stacklevel=2)
    try:
        return optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    except (OSError, optuna.exceptions.StorageInternalError) as exc:
        raise write_error(exc, f"study {name} in {redact(spec)}") from None


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Return the study's finished trials (COMPLETE, FAIL, PRUNED) in trial-number order."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED)
    return sorted(study.get_trials(deepcopy=False, states=states), key=lambda t: t.number)


def write_error(exc: BaseException, where: str) -> StorageWriteError:
    """Return the error of a failed trial write: a full disk says so, anything else its own text."""
    if is_disk_full(exc):
        return StorageWriteError(
            f"disk full while writing trials to {where}: free some space and run the sweep again "
            f"(the trials written so far are kept and it resumes from them)"
        )
    reason = describe_os_error(exc) if isinstance(exc, OSError) else _short(exc)
    return StorageWriteError(f"cannot write trials to {where}: {reason}")


class TrialWriter:
    """A background thread that appends finished trials to a study with ``Study.add_trials``.

    ``put`` never blocks on the storage; ``close`` writes everything queued and raises the first write
    error, so a failed write is never silent. Trials are written in the order they were put, which is
    trial-number order, so the storage numbers them as the sweep did.
    """

    def __init__(self, study: optuna.Study, where: str | None = None) -> None:
        from tradescan.sweep.journal import BulkJournalStorage

        self.study = study
        self.where = where or f"study {study.study_name}"
        storage = study._storage  # Optuna's Study has no public accessor for its storage
        self._bulk = storage if isinstance(storage, BulkJournalStorage) else None
        self._study_id = storage.get_study_id_from_name(study.study_name) if self._bulk else -1
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: StorageWriteError | None = None
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="tradescan-trial-writer", daemon=True)
        self._thread.start()

    def put(self, trials: Sequence[FrozenTrial]) -> None:
        """Queue finished trials (in trial-number order) for writing."""
        if self._error is not None:
            raise self._error
        if trials:
            self._queue.put(list(trials))

    def close(self) -> int:
        """Write everything queued, stop the thread and return how many trials were written."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.written

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                self._write(item)

    def _write(self, batch: list[FrozenTrial]) -> None:
        try:
            if self._bulk is not None:
                for start in range(0, len(batch), JOURNAL_APPEND_TRIALS):
                    part = batch[start : start + JOURNAL_APPEND_TRIALS]
                    self._bulk.add_finished_trials(self._study_id, part)
                    self.written += len(part)
                return
            for trial in batch:
                self.study.add_trial(trial)
                self.written += 1
                time.sleep(0)  # let the driver's thread take the GIL between trials: it feeds the actors
        except Exception as exc:  # surfaced by put/close on the driver's thread
            self._error = write_error(exc, self.where)
