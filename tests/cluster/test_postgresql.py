"""``--storage postgresql://…`` against a real PostgreSQL server: one driver, two at once, resume, run lock.

Every sweep is a real ``tradescan sweep`` process joined to the session's Ray head (``ray start
--head``), so two drivers really run side by side; the trials are read back from the database through
Optuna's public API and compared with the same directive swept on the default embedded storage.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from cluster_support import (
    REFERENCE_TRIALS,
    PostgresServer,
    RayHead,
    Trials,
    last_json,
    run_cli,
    slow_strategy,
    study_trials,
    write_directive,
)

TRIALS = REFERENCE_TRIALS


def _sweep_args(directive: Path, data_dir: Path, results: Path, head: RayHead, *extra: str) -> list[str]:
    return ["sweep", str(directive), "--address", head.gcs_address(), "--workers", "1", "--json",
            "--data-dir", str(data_dir), "--results-dir", str(results), *extra]


def _sweep(directive: Path, data_dir: Path, results: Path, head: RayHead, *extra: str) -> dict[str, object]:
    done = run_cli(_sweep_args(directive, data_dir, results, head, *extra), env=head.env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return last_json(done.stdout)


def _popen(directive: Path, data_dir: Path, results: Path, head: RayHead, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "import sys; from tradescan.cli import main; sys.exit(main(sys.argv[1:]))",
               *_sweep_args(directive, data_dir, results, head, *extra)]
    return subprocess.Popen(command, env=head.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _numbers_once(trials: Trials, n: int) -> None:
    assert [t[0] for t in trials] == list(range(n))
    assert {t[1] for t in trials} <= {"COMPLETE", "FAIL", "PRUNED"}


def test_bare_postgresql_url_gets_the_installed_driver() -> None:
    from tradescan.sweep.storage import rdb_url

    expected = "postgresql+psycopg" if importlib.util.find_spec("psycopg") else "postgresql+psycopg2"
    assert rdb_url("postgresql://u:p@h:5/db") == f"{expected}://u:p@h:5/db"
    assert rdb_url("postgres://u@h/db") == f"{expected}://u@h/db"
    assert rdb_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert rdb_url("sqlite:///x.db") == "sqlite:///x.db"


def test_drivers_opening_an_empty_database_at_once_do_not_collide(postgres_url: str) -> None:
    from tradescan.sweep.storage import new_rdb_storage

    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            storage = new_rdb_storage(postgres_url)
            storage.engine.dispose()
        except BaseException as exc:  # collected and reported on the test's thread
            errors.append(exc)

    openers = [threading.Thread(target=open_it) for _ in range(4)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(timeout=60)
    assert errors == []
    assert optuna.get_all_study_names(storage=postgres_url_for_optuna(postgres_url)) == []


def test_two_drivers_of_different_directives_share_one_database(
    tmp_path: Path, cluster_data_dir: Path, ray_head: RayHead, postgres_url: str,
    postgres_server: PostgresServer, reference_trials: Trials,
) -> None:
    # Same sampler seed, different names: two run ids whose trials must both equal the reference's.
    first = write_directive(tmp_path, "PGA")  # the reference directive under another name
    second = write_directive(tmp_path, "PGB", symbols=["GBPUSD"])
    results = tmp_path / "results"  # one results store, two runs in it
    drivers = [_popen(d, cluster_data_dir, results, ray_head, "--storage", postgres_url) for d in (first, second)]
    outputs = [driver.communicate(timeout=300) for driver in drivers]
    for driver, (stdout, stderr) in zip(drivers, outputs, strict=True):
        assert driver.returncode == 0, (stdout + stderr)[-4000:]
    outcomes = [last_json(stdout) for stdout, _ in outputs]
    assert [o["status"] for o in outcomes] == ["complete", "complete"]
    assert outcomes[0]["run_id"] != outcomes[1]["run_id"]
    assert all("tradescan" in str(o["storage"]) and "127.0.0.1" in str(o["storage"]) for o in outcomes)

    on_a = study_trials(postgres_url_for_optuna(postgres_url), str(outcomes[0]["run_id"]), "EURUSD")
    on_b = study_trials(postgres_url_for_optuna(postgres_url), str(outcomes[1]["run_id"]), "GBPUSD")
    _numbers_once(on_a, TRIALS)
    _numbers_once(on_b, TRIALS)
    assert {t[1] for t in on_a} == {"COMPLETE"}
    studies = optuna.get_all_study_names(storage=postgres_url_for_optuna(postgres_url))
    assert sorted(studies) == sorted([f"{outcomes[0]['run_id']}/EURUSD", f"{outcomes[1]['run_id']}/GBPUSD"])

    assert [(n, s, p) for n, s, p, _ in on_a] == [(n, s, p) for n, s, p, _ in reference_trials]
    assert [v for *_, v in on_a] == [v for *_, v in reference_trials]  # floats survive PostgreSQL exactly


def postgres_url_for_optuna(url: str) -> str:
    """The URL Optuna's own ``RDBStorage`` needs to read what the sweep wrote (driver named)."""
    from tradescan.sweep.storage import rdb_url

    return rdb_url(url)


def _count_trials(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5) as db:
            row = db.execute("SELECT COUNT(*) FROM trials WHERE state <> 'RUNNING'").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0  # the driver has not created Optuna's tables yet
    return int(row[0]) if row else 0


def test_a_killed_driver_resumes_on_postgresql_with_nothing_lost_or_repeated(
    tmp_path: Path, cluster_data_dir: Path, ray_head: RayHead, postgres_url: str,
) -> None:
    trials = 120
    directive = write_directive(tmp_path, "PGKILL", **slow_strategy(tmp_path, trials, seed=2))
    results = tmp_path / "results"
    driver = _popen(directive, cluster_data_dir, results, ray_head, "--storage", postgres_url)
    deadline = time.monotonic() + 120
    try:
        while _count_trials(postgres_url) < 12:
            assert driver.poll() is None, driver.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the driver wrote no trials within 120 s"
            time.sleep(0.2)
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        if driver.poll() is None:
            driver.kill()
        driver.communicate()
    written = _count_trials(postgres_url)
    assert 12 <= written < trials, f"kill came too late to test a resume: {written} of {trials} written"

    outcome = _sweep(directive, cluster_data_dir, results, ray_head, "--storage", postgres_url)
    assert outcome["status"] == "complete"
    stored = study_trials(postgres_url_for_optuna(postgres_url), str(outcome["run_id"]), "EURUSD")
    _numbers_once(stored, trials)
    symbol = outcome["symbols"]["EURUSD"]  # type: ignore[index]
    assert symbol["trials"]["total"] == trials
    assert symbol["trials"]["resumed"] >= written


def test_a_second_driver_of_the_same_run_is_refused_by_the_run_lock(
    tmp_path: Path, cluster_data_dir: Path, ray_head: RayHead, postgres_url: str,
) -> None:
    import tradescan

    if not (Path(tradescan.__file__).parent / "results" / "lock.py").exists():
        pytest.skip("this checkout has no run lock yet (tradescan/results/lock.py)")
    trials = 300
    directive = write_directive(tmp_path, "PGLOCK", **slow_strategy(tmp_path, trials, seed=4))
    results = tmp_path / "results"
    first = _popen(directive, cluster_data_dir, results, ray_head, "--storage", postgres_url)
    try:
        deadline = time.monotonic() + 120
        while _count_trials(postgres_url) < 4:  # the first driver holds the lock while it writes trials
            assert first.poll() is None, first.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the first driver wrote no trials within 120 s"
            time.sleep(0.2)
        second = run_cli(_sweep_args(directive, cluster_data_dir, results, ray_head, "--storage", postgres_url),
                         env=ray_head.env, timeout_s=120)
        stdout, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert second.returncode != 0
    message = (second.stderr + second.stdout).strip().splitlines()[-1]
    assert "lock" in message.lower() and f"pid {first.pid}" in message, message
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, stderr[-3000:]
    outcome = last_json(stdout)
    _numbers_once(study_trials(postgres_url_for_optuna(postgres_url), str(outcome["run_id"]), "EURUSD"), trials)
