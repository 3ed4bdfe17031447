"""One writer per run: a second sweep of a run being swept refuses naming the other process; a lock
left by a killed process is taken over. Real processes, a real Ray cluster, real sweeps."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from results_helpers import small_sweep

from tradescan.cli import main
from tradescan.results import ResultsStore, RunLockedError, load_run
from tradescan.results.lock import LOCK_FILE


def _env() -> dict[str, str]:
    """This process's environment now (ray.init adds what joining its cluster needs) and its import path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tradescan import data

    root = tmp_path_factory.mktemp("lock")
    data.write_dataset(data.synthesize("EURUSD", "H1", 3_000, seed=4), "EURUSD", "H1", data_dir=root / "data")
    return {"root": root, "data": root / "data"}


def _directive(folder: Path, trials: int) -> Path:
    return small_sweep(folder, f"LOCKED_{trials}", trials)


def _wait_for_holder(lock_path: Path, process: subprocess.Popen[bytes], timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
        try:
            return dict(json.loads(lock_path.read_text()))
        except (FileNotFoundError, ValueError):
            time.sleep(0.05)
    raise AssertionError(f"no lock at {lock_path} after {timeout_s} s")


def test_a_second_sweep_of_a_running_run_refuses_naming_the_first(
    tmp_path: Path, workspace: dict[str, Path], ray_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradescan.preflight import prepare

    directive = _directive(tmp_path, trials=1_500)
    results = tmp_path / "results"
    run_id = prepare(directive, data_dir=workspace["data"]).run_id
    script = textwrap.dedent(f"""
        from tradescan.sweep import run_sweep
        run_sweep({str(directive)!r}, workers=1, address={ray_address!r}, data_dir={str(workspace['data'])!r},
                  results_dir={str(results)!r})
    """)
    first = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=_env())
    try:
        holder = _wait_for_holder(results / "runs" / run_id / LOCK_FILE, first)
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
        started = time.monotonic()
        code = main(["sweep", str(directive), "--workers", "1", "--json", "--data-dir", str(workspace["data"]),
                     "--results-dir", str(results)])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith(f"tradescan: error: run {run_id} is being written by pid {first.pid} on host "
                              f"{socket.gethostname()} since {holder['started']} (-c); wait for it to finish or "
                              f"stop it (lock file {results / 'runs' / run_id / LOCK_FILE})")
        assert time.monotonic() - started < 30  # refused before any Ray or trial work
        code = main(["freeze", run_id, "--results-dir", str(results)])
        assert code == 2 and f"is being written by pid {first.pid}" in capsys.readouterr().err
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0, first.stderr.read().decode() if first.stderr else ""
    # The first sweep's trials are the only ones: trial numbers 0..1499 once each.
    assert ResultsStore(results).read_manifest(run_id).status == "complete"
    trials = ResultsStore(results).read_parquet(run_id, "trials.parquet")
    assert sorted(trials["trial"]) == list(range(1_500))


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from tradescan.results import ResultsStore
    with ResultsStore({root!r}).lock({run_id!r}):
        print("locked", flush=True)
        time.sleep(600)
    """
)


def _killed_holder(root: Path, run_id: str) -> int:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(root=str(root), run_id=run_id)],
                              stdout=subprocess.PIPE, env=_env())
    assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
    holder.kill()
    holder.wait()
    return holder.pid


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    dead_pid = _killed_holder(tmp_path, "R-1")
    lock_path = tmp_path / "runs" / "R-1" / LOCK_FILE
    assert json.loads(lock_path.read_text())["pid"] == dead_pid  # left behind by the kill
    store = ResultsStore(tmp_path)
    with store.lock("R-1") as lock:
        assert lock.took_over is not None and lock.took_over.pid == dead_pid
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()
        note = lock.takeover_note()
        assert note is not None and note.startswith(f"took over the stale lock of run R-1 left by pid {dead_pid} ")
        assert note.endswith("(no longer running)")
        with pytest.raises(RunLockedError, match=f"run R-1 is being written by pid {os.getpid()}"):
            ResultsStore(tmp_path).lock("R-1").__enter__()
    assert not lock_path.exists()


def test_a_real_sweep_takes_over_a_killed_sweeps_lock(
    tmp_path: Path, workspace: dict[str, Path], ray_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tradescan.preflight import prepare

    directive = _directive(tmp_path, trials=8)
    results = tmp_path / "results"
    run_id = prepare(directive, data_dir=workspace["data"]).run_id
    dead_pid = _killed_holder(results, run_id)
    code = main(["sweep", str(directive), "--workers", "1", "--json", "--data-dir", str(workspace["data"]),
                 "--results-dir", str(results)])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["status"] == "complete"
    assert f"tradescan: note: took over the stale lock of run {run_id} left by pid {dead_pid} " in err
    assert not (results / "runs" / run_id / LOCK_FILE).exists()
    run = load_run(run_id, results)  # the manifest the sweep wrote keeps every key, the worker count included
    assert (run.manifest.status, run.manifest.workers, run.manifest.storage_kind) == ("complete", 1, "journal")
    assert set(run.manifest.tables) == {"trials/EURUSD.parquet", "stage2/EURUSD.parquet", "trades/EURUSD.parquet",
                                        "equity/EURUSD.parquet"}  # one part per symbol and table
    assert len(run.trials) == 8 and set(run.stage2["scenario"]) == {"A", "B", "C"}
    assert run.manifest.stage_seconds.total > 0 and run.manifest.finished is not None


def test_a_lock_naming_another_host_is_not_taken_over(tmp_path: Path) -> None:
    lock_path = tmp_path / "runs" / "R-1" / LOCK_FILE
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "2025-01-01T00:00:00+00:00",
                                     "command": "tradescan sweep d.yaml"}))
    with pytest.raises(RunLockedError, match=r"run R-1 is locked by pid 1 on host elsewhere since "
                       r"2025-01-01T00:00:00\+00:00 \(tradescan sweep d\.yaml\); if that process is gone, delete"):
        ResultsStore(tmp_path).lock("R-1").__enter__()
    assert json.loads(lock_path.read_text())["host"] == "elsewhere"
