"""A campaign killed with SIGKILL in its validate phase, then run again: it finishes, the finished screen
phase is not swept again (its study keeps exactly its trials) and the validate run resumes by run id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
from campaign_helpers import write_campaign

from tradescan.results import load_run
from tradescan.sweep.storage import open_storage, study_name

ROOT = Path(__file__).resolve().parents[2]
SCREEN_TRIALS = 16
VALIDATE_TRIALS = 160
START_LIMIT_S = 300


def _command(path: Path, data_dir: Path, results: Path) -> list[str]:
    return [sys.executable, "-m", "tradescan", "campaign", str(path), "--workers", "2", "--no-report", "--json",
            "--data-dir", str(data_dir), "--results-dir", str(results)]


def _env() -> dict[str, str]:
    # RAY_ADDRESS=local: each campaign process starts its own Ray runtime, never joins another one found
    # on the machine (another test's or a `ray start` cluster).
    path = f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    return {**os.environ, "PYTHONPATH": path, "RAY_ADDRESS": "local"}


def _state(results: Path) -> dict[str, Any] | None:
    found = list((results / "campaigns").glob("*/state.json"))
    return json.loads(found[0].read_text(encoding="utf-8")) if found else None


def _study_trials(results: Path, run_id: str, symbol: str) -> int:
    manifest = load_run(run_id, results).manifest
    study = optuna.load_study(study_name=study_name(run_id, symbol), storage=open_storage(manifest.storage))
    return len(study.trials)


def _wait_for_validate_trials(process: subprocess.Popen[str], results: Path) -> str:
    """Return the validate run id once the running validate phase has told some trials."""
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        state = _state(results) or {}
        validate = state.get("phases", {}).get("validate", {})
        journal = results / "runs" / str(validate.get("run_id")) / "optuna.journal"
        if validate.get("status") == "running" and journal.exists() and journal.stat().st_size > 20_000:
            return str(validate["run_id"])
        time.sleep(0.2)
    raise AssertionError("the validate phase did not start telling trials in time")


def test_killed_campaign_resumes_without_sweeping_the_finished_phase(small_data_dir: Path, tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = write_campaign(tmp_path, universe=["EURUSD"], phases={
        "screen": {"trials": SCREEN_TRIALS, "pass": {"sharpe": "> -1000"}},
        "validate": {"trials": VALIDATE_TRIALS, "pass": {"trades": ">= 1"}}})
    results = tmp_path / "results"
    first = subprocess.Popen(_command(path, small_data_dir, results), env=_env(), cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        validate_id = _wait_for_validate_trials(first, results)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=60)
    killed = _state(results)
    assert killed is not None and killed["phases"]["validate"]["status"] == "running"
    screen_id = killed["phases"]["screen"]["run_id"]
    screen_started = load_run(screen_id, results).manifest.started
    told_before = _study_trials(results, validate_id, "EURUSD")
    assert 0 < told_before < VALIDATE_TRIALS

    second = subprocess.run(_command(path, small_data_dir, results), env=_env(), cwd=tmp_path, text=True,
                            capture_output=True, timeout=600, check=False)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"screen: reusing run {screen_id} (finished earlier)" in second.stderr.splitlines()
    assert f"validate: sweeping 1 symbol(s), {VALIDATE_TRIALS} trials, run {validate_id}" in second.stderr
    final = json.loads(second.stdout)
    assert final["state"]["phases"]["validate"]["status"] == "complete"
    assert final["state"]["phases"]["validate"]["run_id"] == validate_id
    assert [row["prod_ready"] for row in final["tracker"]] == ["YES"]
    assert _study_trials(results, screen_id, "EURUSD") == SCREEN_TRIALS  # the screen was not swept again
    assert load_run(screen_id, results).manifest.started == screen_started
    assert _study_trials(results, validate_id, "EURUSD") == VALIDATE_TRIALS
    assert not list(results.glob("runs/*/report.html"))  # --no-report
    assert final["state"]["phases"]["screen"]["report"] is None
    resumed = load_run(validate_id, results).manifest.symbols["EURUSD"].trials
    assert resumed is not None and resumed.total == VALIDATE_TRIALS and resumed.resumed > 0
