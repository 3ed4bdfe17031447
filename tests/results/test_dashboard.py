"""A live optuna-dashboard on 127.0.0.1: a frozen run's studies are read-only, other runs' stay editable."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from results_helpers import committed_run

from tradescan.results import ResultsStore
from tradescan.results.dashboard import dashboard_server
from tradescan.sweep.storage import open_storage, open_study

pytest.importorskip("optuna_dashboard")


def _request(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, json.loads(text) if text else None


def _study_with_a_trial(spec: str, name: str) -> None:
    study = open_study(spec, name)
    study.add_trial(optuna.trial.create_trial(params={"x": 1.0}, distributions={
        "x": optuna.distributions.FloatDistribution(0, 2)}, value=0.5))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """R-1 (frozen) and R-2 (not) with a study each in one journal, served on 127.0.0.1 in a thread."""
    store, _ = committed_run(tmp_path, "R-1")
    committed_run(tmp_path, "R-2")
    spec = str(tmp_path / "shared.journal")
    for name in ("R-1/EURUSD", "R-2/EURUSD"):
        _study_with_a_trial(spec, name)
    store.freeze("R-1")
    storage = open_storage(spec)
    server = dashboard_server(storage, store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ids = {name: storage.get_study_id_from_name(name) for name in ("R-1/EURUSD", "R-2/EURUSD")}
    yield {"base": f"http://127.0.0.1:{server.server_port}", "ids": ids, "spec": spec, "storage": storage}
    server.shutdown()
    server.server_close()


def _names(spec: str) -> set[str]:
    return {s.study_name for s in open_storage(spec).get_all_studies()}


def test_reads_pass_for_every_run(served: dict[str, Any]) -> None:
    status, body = _request(served["base"], "GET", "/api/studies")
    assert status == 200 and {s["study_name"] for s in body["study_summaries"]} == {"R-1/EURUSD", "R-2/EURUSD"}
    status, body = _request(served["base"], "GET", f"/api/studies/{served['ids']['R-1/EURUSD']}")
    assert status == 200 and len(body["trials"]) == 1


def test_a_frozen_runs_study_cannot_be_deleted(served: dict[str, Any]) -> None:
    status, body = _request(served["base"], "DELETE", f"/api/studies/{served['ids']['R-1/EURUSD']}")
    assert status == 403 and body == {"reason": "run R-1 is frozen: the dashboard serves its studies read-only"}
    assert _names(served["spec"]) == {"R-1/EURUSD", "R-2/EURUSD"}


def test_a_frozen_runs_study_cannot_be_renamed_noted_or_told(served: dict[str, Any]) -> None:
    frozen_id = served["ids"]["R-1/EURUSD"]
    trial_id = served["storage"].get_trial_id_from_study_id_trial_number(frozen_id, 0)
    for method, path, body in (
        ("POST", f"/api/studies/{frozen_id}/rename", {"study_name": "renamed"}),
        ("PUT", f"/api/studies/{frozen_id}/note", {"version": 1, "body": "mine"}),
        ("POST", f"/api/trials/{trial_id}/user-attrs", {"user_attrs": {"a": 1}}),
        ("POST", f"/api/trials/{trial_id}/tell", {"state": "Fail"}),
        ("POST", "/api/studies", {"study_name": "R-1/NEW", "directions": ["maximize"]}),
    ):
        status, reply = _request(served["base"], method, path, body)
        assert (status, reply) == (403, {"reason": "run R-1 is frozen: the dashboard serves its studies read-only"})
    assert _names(served["spec"]) == {"R-1/EURUSD", "R-2/EURUSD"}
    assert served["storage"].get_trial(trial_id).user_attrs == {}


def test_a_study_of_a_run_that_is_not_frozen_stays_editable(served: dict[str, Any]) -> None:
    status, body = _request(served["base"], "POST", "/api/studies",
                            {"study_name": "R-2/NEW", "directions": ["maximize"]})
    assert status == 201 and body["study_summary"]["study_name"] == "R-2/NEW"
    status, _ = _request(served["base"], "DELETE", f"/api/studies/{served['ids']['R-2/EURUSD']}")
    assert status == 204
    assert _names(served["spec"]) == {"R-1/EURUSD", "R-2/NEW"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_dashboard_command_serves_a_frozen_run_read_only(tmp_path: Path) -> None:
    store, _ = committed_run(tmp_path, "R-1")
    _study_with_a_trial(str(store.storage_path("R-1")), "R-1/EURUSD")
    store.freeze("R-1")
    port = _free_port()
    command = [sys.executable, "-m", "tradescan", "dashboard", "R-1", "--port", str(port),
               "--results-dir", str(tmp_path)]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                body = _request(base, "GET", "/api/studies")[1]
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.2)
        study_id = body["study_summaries"][0]["study_id"]
        assert _request(base, "DELETE", f"/api/studies/{study_id}")[0] == 403
        assert _names(str(store.storage_path("R-1"))) == {"R-1/EURUSD"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.stderr is not None
    assert server.stderr.readline() == (f"optuna-dashboard on http://127.0.0.1:{port} for run R-1; frozen runs are "
                                        f"read-only; Ctrl-C to stop\n")


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        from tradescan.errors import TradeScanError

        with pytest.raises(TradeScanError, match=rf"cannot listen on 127\.0\.0\.1:{port}: Address already in use"):
            dashboard_server(open_storage(str(tmp_path / "j.journal")), store, "127.0.0.1", port)
