"""optuna-dashboard over a sweep's study storage, with frozen runs served read-only.

optuna-dashboard lets anyone who can reach it delete or rename a study, tell a trial or write notes.
``FrozenRunGuard`` sits in front of its WSGI app: reads (GET, HEAD, OPTIONS) always pass; a request
that would change a study of a frozen run (study name ``<run_id>/<symbol>``, run frozen in the results
store) gets ``403`` with the reason. A write the guard cannot tie to a study is refused too while the
storage holds any frozen run's study (fail closed). Studies of runs that are not frozen stay editable.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from optuna.storages import BaseStorage

from tradescan.errors import TradeScanError
from tradescan.results.errors import ResultsFileError
from tradescan.results.files import describe_os_error
from tradescan.results.store import ResultsStore

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STUDY_PATH = re.compile(r"^/api/studies/(\d+)(?:/|$)")
_TRIAL_PATH = re.compile(r"^/api/trials/(\d+)(?:/|$)")
_MAX_BODY_BYTES = 1 << 20

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def run_of_study(study_name: str) -> str | None:
    """Return the run id of a sweep's study name (``<run_id>/<symbol>``), ``None`` for other studies."""
    run_id, separator, _ = study_name.rpartition("/")
    return run_id if separator else None


class FrozenRunGuard:
    """WSGI middleware: refuses (403) every request that would change a frozen run's study."""

    def __init__(self, app: WsgiApp, storage: BaseStorage, store: ResultsStore) -> None:
        self.app = app
        self.storage = storage
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET").upper() in READ_METHODS:
            return self.app(environ, start_response)
        frozen = self._frozen_studies()
        if frozen:
            refusal = self._refusal(environ, frozen)
            if refusal is not None:
                return _forbidden(start_response, refusal)
        return self.app(environ, start_response)

    def _frozen_studies(self) -> dict[int, str]:
        frozen = {}
        for study in self.storage.get_all_studies():
            run_id = run_of_study(study.study_name)
            if run_id is not None and self._is_frozen(run_id):
                frozen[self.storage.get_study_id_from_name(study.study_name)] = run_id
        return frozen

    def _is_frozen(self, run_id: str) -> bool:
        try:
            return self.store.is_frozen(run_id)
        except ResultsFileError:
            return False  # not a valid run id: no run folder can hold it

    def _refusal(self, environ: dict[str, Any], frozen: dict[int, str]) -> str | None:
        path = environ.get("PATH_INFO", "")
        study = _STUDY_PATH.match(path)
        if study:
            return _frozen_reason(frozen.get(int(study.group(1))))
        trial = _TRIAL_PATH.match(path)
        if trial:
            return _frozen_reason(self._run_of_trial(int(trial.group(1)), frozen))
        if path.rstrip("/") == "/api/studies":
            return _frozen_reason(self._run_of_new_study(environ))
        runs = ", ".join(sorted(set(frozen.values())))
        return f"this request is not known to leave frozen runs alone, and this storage holds frozen run(s) {runs}"

    def _run_of_trial(self, trial_id: int, frozen: dict[int, str]) -> str | None:
        try:
            number = self.storage.get_trial(trial_id).number
        except KeyError:
            return None  # no such trial: the dashboard answers 404
        for study_id, run_id in frozen.items():
            try:
                if self.storage.get_trial_id_from_study_id_trial_number(study_id, number) == trial_id:
                    return run_id
            except KeyError:
                continue  # that study has fewer trials
        return None

    def _run_of_new_study(self, environ: dict[str, Any]) -> str | None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, _MAX_BODY_BYTES)) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again
        try:
            name = json.loads(body or b"{}").get("study_name")
        except (ValueError, AttributeError):
            return None  # the dashboard itself answers a malformed request
        run_id = run_of_study(name) if isinstance(name, str) else None
        return run_id if run_id is not None and self._is_frozen(run_id) else None


def _frozen_reason(run_id: str | None) -> str | None:
    if run_id is None:
        return None
    return f"run {run_id} is frozen: the dashboard serves its studies read-only"


def _forbidden(start_response: StartResponse, reason: str) -> list[bytes]:
    body = json.dumps({"reason": reason}).encode("utf-8")
    start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # one line per request would bury the banner; the dashboard shows what happens


def dashboard_server(storage: BaseStorage, store: ResultsStore, host: str, port: int) -> WSGIServer:
    """Return a WSGI server (not yet serving) of optuna-dashboard on ``storage``, frozen runs read-only.

    Raises:
        TradeScanError: optuna-dashboard is not installed, or ``host:port`` cannot be listened on.
    """
    try:
        import optuna_dashboard
    except ImportError:
        raise TradeScanError(
            "the dashboard needs the optional package optuna-dashboard: pip install -e .[dashboard]"
        ) from None
    app = FrozenRunGuard(optuna_dashboard.wsgi(storage), storage, store)
    try:
        return make_server(host, port, app, handler_class=_QuietHandler)
    except OSError as exc:
        raise TradeScanError(f"cannot listen on {host}:{port}: {describe_os_error(exc)}") from None
