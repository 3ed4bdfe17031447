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
from pathlib import Path
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
    # Read the kernel's table of listening sockets instead of connecting to the machine's other addresses.
    listening = _listening_addresses(ray_head.dashboard_port)
    assert listening and listening <= {"127.0.0.1"}, listening


def _listening_addresses(port: int) -> set[str]:
    """Return the local addresses of the TCP sockets listening on ``port`` (from /proc/net/tcp, tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address_hex, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                found.add(_address(address_hex))
    return found


def _address(address_hex: str) -> str:
    raw = bytes.fromhex(address_hex)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    text = socket.inet_ntop(socket.AF_INET6, words)
    return text.removeprefix("::ffff:") if text.startswith("::ffff:") else text
