"""Fixtures of the cluster tests: small synthetic data, a private Ray head, a private PostgreSQL server.

The head and the server are started once per session, only when a test asks for them, and stopped at
the end; where they cannot be started the tests that need them skip, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import (
    REFERENCE_TRIALS,
    PostgresServer,
    RayHead,
    Trials,
    last_json,
    run_cli,
    study_trials,
    write_directive,
)

SMALL_BARS = 3_000


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
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def reference_trials(tmp_path_factory: pytest.TempPathFactory, cluster_data_dir: Path, ray_head: RayHead) -> Trials:
    """The trials of ``write_directive``'s default directive swept on one node (the head, 2 workers) with
    the default embedded storage: what every other way of running it must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    done = run_cli(["sweep", str(write_directive(folder, "REF")), "--address", ray_head.gcs_address(),
                    "--workers", "2", "--json", "--data-dir", str(cluster_data_dir),
                    "--results-dir", str(folder / "results")], env=ray_head.env)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = last_json(done.stdout)
    trials = study_trials(str(outcome["storage"]), str(outcome["run_id"]), "EURUSD")
    assert [t[0] for t in trials] == list(range(REFERENCE_TRIALS))
    return trials
