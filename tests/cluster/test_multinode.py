"""Sweeps on a real multi-node Ray cluster (``ray.cluster_utils.Cluster``: a head and worker nodes on this
machine, each with its own raylet and object store).

Asserted: the evaluator actors spread over the nodes; a symbol's bars sit in each node's object store
once, however many actors of that node use them, and trials add no copies; a two-node sweep gives the
same trials and values as a one-node run; a node removed while stage 1 runs loses and repeats nothing.

Which node an actor runs on and what a node's object store holds are read from Ray's GCS actor table
and each raylet's store statistics (``ray._private``: Ray's public state API needs the dashboard,
which these nodes do not start).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_support import REFERENCE_TRIALS, Trials, slow_strategy, study_trials, write_directive

ray = pytest.importorskip("ray")

NODE_STORE_BYTES = 150 * 2**20
@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head and a second node, one CPU each; the test process is the driver, on the head."""
    from ray.cluster_utils import Cluster

    from tradescan.sweep.ray_runtime import _single_node_mode

    if ray.is_initialized():  # a runtime an earlier test left in this process: this module needs its own
        ray.shutdown()
    node_args: dict[str, Any] = {"num_cpus": 1, "object_store_memory": NODE_STORE_BYTES}
    # Every node on 127.0.0.1 (Ray's single-node mode, as tradescan's local runtime): the test sends no
    # traffic to the machine's other addresses.
    loopback = _single_node_mode()
    loopback.__enter__()
    try:
        two = Cluster(initialize_head=True, connect=True, head_node_args={**node_args, "include_dashboard": False})
        two.add_node(**node_args)
        two.wait_for_nodes()
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
        yield two
    finally:
        ray.shutdown()
        two.shutdown()
        loopback.__exit__(None, None, None)


def _alive_nodes() -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node["Alive"]]


def _store_stats() -> dict[str, tuple[int, int]]:
    """Return ``{node id: (objects held, bytes used)}`` of every live node's object store."""
    from ray._private import internal_api

    stats = {}
    for node in _alive_nodes():
        reply = internal_api.node_stats(node["NodeManagerAddress"], node["NodeManagerPort"], include_memory_info=False)
        stats[node["NodeID"]] = (reply.store_stats.num_local_objects, reply.store_stats.object_store_bytes_used)
    return stats


def _evaluator_nodes() -> Counter[str]:
    """Return how many live evaluator actors run on each node (by node id)."""
    actors = ray._private.state.actors().values()
    return Counter(a["Address"]["NodeID"] for a in actors
                   if a["State"] == "ALIVE" and a["ActorClassName"] == "EvaluatorCore")


def _head_id(cluster: Any) -> str:
    return str(cluster.head_node.node_id)


def _wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.2)


def test_a_two_node_sweep_gives_the_one_node_trials(
    cluster: Any, tmp_path: Path, cluster_data_dir: Path, reference_trials: Trials
) -> None:
    from tradescan.sweep import run_sweep

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    result = run_sweep(write_directive(tmp_path, "TWO"), workers=2, storage=storage, data_dir=cluster_data_dir,
                       results_dir=tmp_path / "results")
    assert result.status == "complete"
    trials = study_trials(storage, result.run_id, "EURUSD")
    assert [t[0] for t in trials] == list(range(REFERENCE_TRIALS))
    assert trials == reference_trials


def test_bars_are_held_once_per_node_not_once_per_actor(cluster: Any, tmp_path: Path, cluster_data_dir: Path) -> None:
    from tradescan.preflight import check_symbol, prepare
    from tradescan.sweep.evaluator import bars_payload
    from tradescan.sweep.pool import EvaluatorPool
    from tradescan.sweep.ray_runtime import put
    from tradescan.sweep.settings import EvaluatorSettings

    third = cluster.add_node(num_cpus=2, object_store_memory=NODE_STORE_BYTES)  # two actors on one node
    cluster.wait_for_nodes()
    pool = None
    try:
        plan = prepare(write_directive(tmp_path, "BARS"), data_dir=cluster_data_dir)
        payload = bars_payload(check_symbol(plan, "EURUSD").bars, "EURUSD")
        payload_bytes = sum(array.nbytes for array in payload.values())
        pool = EvaluatorPool(EvaluatorSettings.from_plan(plan), 4)
        pool.wait_ready()
        placed = _evaluator_nodes()
        assert sorted(placed.values()) == [1, 1, 2] and placed[str(third.node_id)] == 2
        before = _store_stats()

        pool.add_symbol("EURUSD", put(payload))
        loaded = _store_stats()
        params = [{"ema_fast": 10 + i, "ema_slow": 60, "adx_th": 20.0} for i in range(8)]
        outcomes = pool.map("EURUSD", "evaluate_batch", params)
        after_trials = _store_stats()
    finally:
        if pool is not None:
            pool.shutdown()
        cluster.remove_node(third)
    assert len(outcomes) == len(params)
    for node, (objects, used) in loaded.items():
        added_objects, added_bytes = objects - before[node][0], used - before[node][1]
        assert added_objects == 1, f"node {node[:8]}: {added_objects} new objects for one symbol's bars"
        assert payload_bytes <= added_bytes < 1.5 * payload_bytes, (node[:8], added_bytes, payload_bytes)
    assert after_trials == loaded  # a trial sends parameters only: no new copy of the bars anywhere


def _finished_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM trials WHERE state <> 'RUNNING'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # tables not created yet, or being written


def test_a_node_removed_during_stage_1_loses_and_repeats_nothing(
    cluster: Any, tmp_path: Path, cluster_data_dir: Path
) -> None:
    from tradescan.sweep import run_sweep

    trials = 120
    # A spare CPU for the replacement actor (an autoscaler would add one); one 1-CPU worker node is
    # left afterwards, as the module started with.
    cluster.add_node(num_cpus=1, object_store_memory=NODE_STORE_BYTES)
    cluster.wait_for_nodes()
    directive = write_directive(tmp_path, "LOSE", **slow_strategy(tmp_path, trials, seed=7))
    db = tmp_path / "optuna.db"
    outcome: dict[str, Any] = {}

    def sweep() -> None:
        try:
            outcome["result"] = run_sweep(directive, workers=2, storage=f"sqlite:///{db}", data_dir=cluster_data_dir,
                                          results_dir=tmp_path / "results")
        except BaseException as exc:  # re-raised on the test's thread below
            outcome["error"] = exc

    driver = threading.Thread(target=sweep, name="sweep-under-test")
    driver.start()
    try:
        _wait_for(lambda: _finished_count(db) >= 8 or not driver.is_alive(), 120, "stage 1 writing 8 trials")
        assert driver.is_alive(), f"the sweep ended before a node could be removed: {outcome}"
        placed = _evaluator_nodes()
        victims = [node for node in cluster.worker_nodes if str(node.node_id) in placed]
        assert victims, f"no evaluator on a worker node: {placed}"
        cluster.remove_node(victims[0])
        removed_at = _finished_count(db)
    finally:
        driver.join(timeout=300)
    assert not driver.is_alive(), "the sweep did not finish within 300 s of the node's removal"
    if "error" in outcome:
        raise outcome["error"]
    assert removed_at < trials, "the node was removed after stage 1 had finished"
    result = outcome["result"]
    assert result.status == "complete"
    assert str(victims[0].node_id) not in _evaluator_nodes()
    stored = study_trials(f"sqlite:///{db}", result.run_id, "EURUSD")
    assert [t[0] for t in stored] == list(range(trials))  # each number once: nothing lost, nothing twice
    assert {t[1] for t in stored} == {"COMPLETE"}  # the dead actor's trials were re-run, not failed

    # The same directive on the nodes left, uninterrupted: the same parameters and values.
    again = run_sweep(directive, workers=2, storage=f"sqlite:///{tmp_path / 'again.db'}",
                      data_dir=cluster_data_dir, results_dir=tmp_path / "again")
    assert study_trials(f"sqlite:///{tmp_path / 'again.db'}", again.run_id, "EURUSD") == stored
