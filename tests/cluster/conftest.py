"""Fixtures of the cluster tests: small synthetic data, a private Ray head, a private PostgreSQL server.

The head and the server are started once per session, only when a test asks for them, and stopped at
the end; where they cannot be started the tests that need them skip, saying why.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import (
    REFERENCE_TRIALS,
    SUBMIT_SCRIPT,
    PostgresServer,
    RayHead,
    SubmittedSweep,
    Trials,
    job_submit,
    last_json,
    study_trials,
    write_directive,
)

SMALL_BARS = 3_000
_HERE = Path(__file__).parent
_STARTED: list[RayHead | PostgresServer] = []  # stopped after the last test of this folder


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the head and the server once the last test of this folder has run, not at the end of the
    whole session: the rest of the suite should not share the machine with an idle Ray head."""
    if nextitem is not None and _HERE in Path(str(nextitem.path)).parents:
        return
    while _STARTED:
        _STARTED.pop().stop()


@pytest.fixture(scope="session")
def cluster_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with EURUSD and GBPUSD H1 synthetic bars (3,000 each, fixed seed)."""
    from tradescan import data

    folder = tmp_path_factory.mktemp("cluster-data")
    for symbol in ("EURUSD", "GBPUSD"):
        data.write_dataset(data.synthesize(symbol, "H1", SMALL_BARS, seed=3), symbol, "H1", data_dir=folder)
    return folder


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    """A Ray head (2 CPUs) started with ``ray start --head``, job server and dashboard on 127.0.0.1."""
    pytest.importorskip("ray")
    try:
        head = RayHead.start(num_cpus=2)
    except (FileNotFoundError, RuntimeError) as exc:
        pytest.skip(f"cannot start a Ray head with `ray start --head`: {exc}")
    _STARTED.append(head)
    try:
        yield head
    finally:
        head.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of Debian's ``postgresql`` package on 127.0.0.1 (skip, saying why, where absent)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    try:
        server = PostgresServer.start()
    except FileNotFoundError as exc:
        pytest.skip(f"PostgreSQL server not available ({exc}); on Debian/Ubuntu: apt-get install postgresql")
    _STARTED.append(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def submitted_reference(
    tmp_path_factory: pytest.TempPathFactory, cluster_data_dir: Path, ray_head: RayHead
) -> SubmittedSweep:
    """``write_directive``'s default directive swept by ``ray job submit -- python cluster/submit_sweep.py``
    on the one-node head (2 workers, the default embedded storage). Its trials are the yardstick every
    other way of running the directive (two nodes, PostgreSQL) must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    working_dir = folder / "job"  # what a user ships with --working-dir: the directive and cluster/
    (working_dir / "cluster").mkdir(parents=True)
    shutil.copy(SUBMIT_SCRIPT, working_dir / "cluster" / SUBMIT_SCRIPT.name)
    directive = write_directive(working_dir, "REF")
    # The job runs `python cluster/submit_sweep.py ...`, with this interpreter (the one that has tradescan).
    done = job_submit(ray_head, working_dir, sys.executable, "cluster/submit_sweep.py", directive.name,
                      "--workers", "2", "--json", "--data-dir", str(cluster_data_dir),
                      "--results-dir", str(folder / "results"))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    outcome = last_json(done.stdout)
    trials = study_trials(str(outcome["storage"]), str(outcome["run_id"]), "EURUSD")
    return SubmittedSweep(done, outcome, trials)


@pytest.fixture(scope="session")
def reference_trials(submitted_reference: SubmittedSweep) -> Trials:
    """The reference sweep's trials ``(number, state, params, value)``."""
    assert [t[0] for t in submitted_reference.trials] == list(range(REFERENCE_TRIALS))
    return submitted_reference.trials
