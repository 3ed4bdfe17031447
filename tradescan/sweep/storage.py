"""Optuna study storage for sweeps: an RDB study per (run, symbol), written in batches off the hot path.

Measured here, Optuna's ``RDBStorage`` costs ~20 ms of Python per trial added one by one (an ORM round
trip per parameter), more than a backtest. So the sampler runs on an in-memory study seeded with the
RDB study's finished trials, and finished trials go to the RDB in batches: a background thread inserts
each batch in one transaction with SQLAlchemy Core into Optuna's own tables (~0.4 ms per trial). If
that fast path is not possible (not an SQLAlchemy storage, or a schema it does not know) the writer
falls back to ``Study.add_trials``. Only finished trials are ever written, so a killed driver leaves no
stale RUNNING trials behind: re-running resumes from what was written.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial

STUDY_NAME_SEPARATOR = "/"
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


def open_rdb_study(url: str, name: str) -> optuna.Study:
    """Create or load the RDB study ``name`` (maximised) at ``url``."""
    from tradescan.errors import TradeScanError

    try:
        storage = optuna.storages.RDBStorage(url)
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


def _bulk_insert(storage: Any, study_id: int, trials: Sequence[FrozenTrial]) -> None:
    """Insert finished trials into Optuna's tables in one transaction (numbers taken from the trials)."""
    import sqlalchemy as sa
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models

    trial_table = models.TrialModel.__table__
    rows = [
        {"number": t.number, "study_id": study_id, "state": t.state.name,
         "datetime_start": _utc_naive(t.datetime_start), "datetime_complete": _utc_naive(t.datetime_complete)}
        for t in trials
    ]
    with storage.engine.begin() as connection:
        statement = sa.insert(trial_table).returning(trial_table.c.trial_id, sort_by_parameter_order=True)
        trial_ids = connection.execute(statement, rows).scalars().all()
        params, values, attrs = [], [], []
        for trial_id, trial in zip(trial_ids, trials, strict=True):
            for name, value in trial.params.items():
                distribution = trial.distributions[name]
                params.append({"trial_id": trial_id, "param_name": name,
                               "param_value": distribution.to_internal_repr(value),
                               "distribution_json": distribution_to_json(distribution)})
            if trial.value is not None:
                stored, value_type = models.TrialValueModel.value_to_stored_repr(trial.value)
                values.append({"trial_id": trial_id, "objective": 0, "value": stored, "value_type": value_type.name})
            attrs += [{"trial_id": trial_id, "key": key, "value_json": json.dumps(attr)}
                      for key, attr in trial.user_attrs.items()]
        for model, batch in ((models.TrialParamModel, params), (models.TrialValueModel, values),
                             (models.TrialUserAttributeModel, attrs)):
            if batch:
                connection.execute(sa.insert(model.__table__), batch)


class TrialWriter:
    """A background thread that appends finished trials to an RDB study in batches.

    ``put`` never blocks on the database; ``close`` flushes everything and re-raises the first write
    error, so a failed write is never silent.
    """

    def __init__(self, study: optuna.Study) -> None:
        self.study = study
        self._storage = _rdb_storage(study)
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
                    _bulk_insert(self._storage, self.study._study_id, batch)
                except Exception:
                    # Rolled back as one transaction; a storage the fast path does not know goes slow.
                    self._storage = None
                    self.study.add_trials(batch)
            else:
                self.study.add_trials(batch)
            self.written += len(batch)
        except BaseException as exc:  # surfaced by put/close on the driver's thread
            self._error = exc
