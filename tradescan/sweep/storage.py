"""Optuna study storage for sweeps: an RDB study per (run, symbol), written in batches off the hot path.

Measured here, Optuna's ``RDBStorage`` costs ~20 ms of Python per trial added one by one (an ORM round
trip per parameter), more than a backtest. So the sampler runs on an in-memory study seeded with the
RDB study's finished trials, and finished trials go to the RDB in batches: a background thread inserts
each batch in one transaction into Optuna's own tables (~0.1 ms per trial: SQLAlchemy Core for the trial
rows, one driver ``executemany`` per table for the parameters, values and attributes). If
that fast path is not possible (not an SQLAlchemy storage, or a schema it does not know) the writer
falls back to ``Study.add_trials``. Only finished trials are ever written, so a killed driver leaves no
stale RUNNING trials behind: re-running resumes from what was written.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import queue
import threading
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial

STUDY_NAME_SEPARATOR = "/"
# pg_advisory_lock key held while Optuna creates or checks its tables, so that drivers starting at
# once on an empty PostgreSQL database do not race on CREATE TYPE/TABLE (a UniqueViolation otherwise).
POSTGRES_SCHEMA_LOCK = 0x7472_6164_6573_636E  # "tradescn"
_STOP = object()


def study_name(run_id: str, symbol: str) -> str:
    """Return the study name of one symbol of one run (``<run_id>/<symbol>``)."""
    return f"{run_id}{STUDY_NAME_SEPARATOR}{symbol}"


def redact(url: str) -> str:
    """Return a storage URL with any password hidden (for the manifest and messages)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def rdb_url(url: str) -> str:
    """Return ``url`` with its PostgreSQL driver named, so that ``postgresql://…`` works with the extra.

    SQLAlchemy reads a bare ``postgresql://`` as psycopg2, but the ``postgres`` extra installs psycopg (3);
    a bare URL therefore gets psycopg when it is installed, else psycopg2. ``postgres://`` (Heroku's
    spelling, refused by SQLAlchemy 2) is read the same way. Any other URL is returned as it is.

    Raises:
        TradeScanError: a PostgreSQL URL without a driver, and neither psycopg nor psycopg2 is installed.
    """
    from tradescan.errors import TradeScanError

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


def open_rdb_study(url: str, name: str) -> optuna.Study:
    """Create or load the RDB study ``name`` (maximised) at ``url``."""
    from tradescan.errors import TradeScanError

    try:
        storage = new_rdb_storage(url)
        return optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    except (ImportError, ValueError, optuna.exceptions.StorageInternalError) as exc:
        raise TradeScanError(f"cannot open the Optuna storage {redact(url)}: {exc}".replace("\n", " ")) from None


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Return the study's finished trials (COMPLETE, FAIL, PRUNED) in trial-number order."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL, optuna.trial.TrialState.PRUNED)
    return sorted(study.get_trials(deepcopy=False, states=states), key=lambda t: t.number)


def _utc_naive(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment is not None else None


def _rdb_storage(study: optuna.Study) -> Any:
    storage = study._storage
    backend = getattr(storage, "_backend", storage)  # _CachedStorage wraps the RDBStorage
    return backend if isinstance(backend, optuna.storages.RDBStorage) else None


class _JsonCache:
    """``distribution_to_json`` once per distribution object (the same few objects recur every trial)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, str]] = {}

    def __call__(self, distribution: Any) -> str:
        cached = self._by_id.get(id(distribution))
        if cached is None:
            from optuna.distributions import distribution_to_json

            # The object is kept in the cache, so its id cannot be reused by another one.
            cached = (distribution, distribution_to_json(distribution))
            self._by_id[id(distribution)] = cached
        return cached[1]


def _placeholders(paramstyle: str, columns: Sequence[str]) -> tuple[str, bool]:
    """Return the VALUES placeholders of the driver's paramstyle and whether rows are mappings."""
    if paramstyle == "qmark":
        return ", ".join("?" for _ in columns), False
    if paramstyle == "format":
        return ", ".join("%s" for _ in columns), False
    if paramstyle == "numeric":
        return ", ".join(f":{i}" for i in range(1, len(columns) + 1)), False
    if paramstyle == "named":
        return ", ".join(f":{c}" for c in columns), True
    return ", ".join(f"%({c})s" for c in columns), True  # pyformat


def _insert_rows(connection: Any, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain rows (ints, floats, strings) with one driver ``executemany``.

    SQLAlchemy Core builds and type-processes a parameter dict per row (~10 us each, ~11 rows per trial);
    these columns need no processing, so the rows go to the DB-API cursor as they are.
    """
    quote = connection.dialect.identifier_preparer.quote
    marks, as_mappings = _placeholders(connection.dialect.paramstyle, columns)
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES ({marks})"
    parameters: list[Any] = [dict(zip(columns, row, strict=True)) for row in rows] if as_mappings else rows
    connection.exec_driver_sql(sql, parameters)


def _bulk_insert(storage: Any, study_id: int, trials: Sequence[FrozenTrial], to_json: _JsonCache | None = None) -> None:
    """Insert finished trials into Optuna's tables in one transaction (numbers taken from the trials)."""
    import sqlalchemy as sa
    from optuna.storages._rdb import models

    to_json = to_json or _JsonCache()
    trial_table = models.TrialModel.__table__
    rows = [
        {"number": t.number, "study_id": study_id, "state": t.state.name,
         "datetime_start": _utc_naive(t.datetime_start), "datetime_complete": _utc_naive(t.datetime_complete)}
        for t in trials
    ]
    with storage.engine.begin() as connection:
        statement = sa.insert(trial_table).returning(trial_table.c.trial_id, sort_by_parameter_order=True)
        trial_ids = connection.execute(statement, rows).scalars().all()
        params: list[tuple[Any, ...]] = []
        values: list[tuple[Any, ...]] = []
        attrs: list[tuple[Any, ...]] = []
        for trial_id, trial in zip(trial_ids, trials, strict=True):
            for name, value in trial.params.items():
                distribution = trial.distributions[name]
                params.append((trial_id, name, distribution.to_internal_repr(value), to_json(distribution)))
            if trial.value is not None:
                stored, value_type = models.TrialValueModel.value_to_stored_repr(trial.value)
                values.append((trial_id, 0, stored, value_type.name))
            attrs += [(trial_id, key, json.dumps(attr)) for key, attr in trial.user_attrs.items()]
        for model, columns, batch in (
            (models.TrialParamModel, ("trial_id", "param_name", "param_value", "distribution_json"), params),
            (models.TrialValueModel, ("trial_id", "objective", "value", "value_type"), values),
            (models.TrialUserAttributeModel, ("trial_id", "key", "value_json"), attrs),
        ):
            if batch:
                _insert_rows(connection, model.__table__, columns, batch)


class TrialWriter:
    """A background thread that appends finished trials to an RDB study in batches.

    ``put`` never blocks on the database; ``close`` flushes everything and re-raises the first write
    error, so a failed write is never silent.
    """

    def __init__(self, study: optuna.Study) -> None:
        self.study = study
        self._storage = _rdb_storage(study)
        self._to_json = _JsonCache()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: BaseException | None = None
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
            batch = list(item)
            while not self._queue.empty():  # merge what piled up into one transaction
                nxt = self._queue.get()
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                batch += nxt
            if self._error is None:
                self._write(batch)

    def _write(self, batch: list[FrozenTrial]) -> None:
        try:
            if self._storage is not None:
                try:
                    _bulk_insert(self._storage, self.study._study_id, batch, self._to_json)
                except Exception:
                    # Rolled back as one transaction; a storage the fast path does not know goes slow.
                    self._storage = None
                    self.study.add_trials(batch)
            else:
                self.study.add_trials(batch)
            self.written += len(batch)
        except BaseException as exc:  # surfaced by put/close on the driver's thread
            self._error = exc
