"""``ray job submit`` of a sweep through ``cluster/submit_sweep.py`` against a head started with ``ray start
--head`` (job server on 127.0.0.1, token authentication on when the installed Ray has it).

The job itself is the session's reference sweep (``submitted_reference`` in conftest.py): a small
working directory (the directive, and the script under ``cluster/``) shipped the way a user ships the
repository with ``--working-dir .``; data and results are absolute paths on this machine, so the test
reads back what the job's sweep stored.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
from types import ModuleType

import pytest
from cluster_support import REFERENCE_TRIALS, SUBMIT_SCRIPT, RayHead, SubmittedSweep, ray_cli, tradescan_env


def _load_submit_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submit_sweep", SUBMIT_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ray_job_submit_of_submit_sweep_runs_the_sweep_on_the_head(submitted_reference: SubmittedSweep) -> None:
    output = submitted_reference.done.stdout + submitted_reference.done.stderr
    assert "succeeded" in output
    outcome = submitted_reference.outcome
    assert outcome["status"] == "complete"
    assert str(outcome["run_id"]).startswith("REF-")
    assert outcome["symbols"]["EURUSD"]["trials"]["total"] == REFERENCE_TRIALS
    trials = submitted_reference.trials
    assert [t[0] for t in trials] == list(range(REFERENCE_TRIALS))
    assert {t[1] for t in trials} == {"COMPLETE"}
    assert all(isinstance(t[3], float) for t in trials)


def test_submit_sweep_script_builds_the_sweep_command() -> None:
    build = _load_submit_script().sweep_argv
    assert build(["d.yaml"], {}) == ["sweep", "d.yaml", "--address", "auto"]
    assert build(["d.yaml", "--workers", "64", "--json"], {"RAY_ADDRESS": "10.0.0.1:6379"}) == [
        "sweep", "d.yaml", "--address", "10.0.0.1:6379", "--json", "--workers", "64"]
    environment = {"RAY_ADDRESS": "x:1", "TRADESCAN_STORAGE": "s.journal"}
    assert build(["d.yaml", "--address", "ray://h:10001"], environment) == [
        "sweep", "d.yaml", "--address", "ray://h:10001", "--storage", "s.journal"]
    assert build(["d.yaml", "--storage", "postgresql://u@h/db"], environment)[-1] == "postgresql://u@h/db"


def test_the_job_server_refuses_a_wrong_token(ray_head: RayHead) -> None:
    if ray_head.token is None:
        pytest.skip("the installed Ray has no token authentication (RAY_AUTH_MODE=token)")
    wrong = tradescan_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN="0" * 64)
    done = subprocess.run([ray_cli(), "job", "list", "--address", ray_head.job_address], env=wrong,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "token" in done.stderr.lower()


def test_the_job_server_listens_on_loopback_only(ray_head: RayHead) -> None:
    with socket.create_connection(("127.0.0.1", ray_head.dashboard_port), timeout=5):
        pass
    found = {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    found.add(_outbound_address() or "127.0.0.1")
    others = {address for address in found if not address.startswith("127.")}
    if not others:
        pytest.skip("this machine has no address besides loopback to try")
    for address in others:
        with pytest.raises(OSError), socket.create_connection((address, ray_head.dashboard_port), timeout=5):
            pass


def _outbound_address() -> str | None:
    """The address this machine would use towards another host (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        return str(probe.getsockname()[0])
