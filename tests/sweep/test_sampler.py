"""TPE sampler processes: the same proposals as sampling in the driver, resume, and a dying process."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial
from sweep_support import write_directive

from tradescan.preflight import prepare
from tradescan.registry import get_strategy
from tradescan.results import ResultsStore, load_run
from tradescan.results.manifest import RunManifest
from tradescan.search_space import SearchSpace, build_search_space
from tradescan.sweep.driver import SweepDriver
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.sampler import InDriverSampler, SamplerClient, SamplerDied, SamplerPool, Told, TpeSamplerCore
from tradescan.sweep.storage import finished_trials, open_study, study_name

SYMBOLS = ["EURUSD", "GBPUSD"]


def _space() -> SearchSpace:
    spec = {"params": {"ema_fast": {"type": "int", "low": 5, "high": 50},
                       "ema_slow": {"type": "int", "low": 20, "high": 60}},
            "constraints": ["ema_fast < ema_slow"]}
    return build_search_space(spec, get_strategy("S1_TREND_EMA_ATR_ADX"))


def _value(params: dict[str, Any]) -> float:
    return float(params["ema_slow"] - params["ema_fast"]) / 10.0


def _resumed(n_trials: int) -> list[FrozenTrial]:
    distributions = {"ema_fast": IntDistribution(5, 50), "ema_slow": IntDistribution(20, 60)}
    trials = []
    for number in range(n_trials):
        params = {"ema_fast": 5 + 3 * number, "ema_slow": 59 - number}
        trials.append(create_trial(params=params, distributions=distributions, value=_value(params),
                                   user_attrs={"metrics": {"trades": 30.0 + number}}))
    return trials


def _told(asked: list[Any]) -> list[Told]:
    told = []
    for trial in asked:
        if trial.violated is not None:
            reason = {"reason": f"constraint violated: {trial.violated}"}
            told.append(Told(trial.number, TrialState.PRUNED, None, reason))
        else:
            told.append(Told(trial.number, TrialState.COMPLETE, _value(trial.params), {"metrics": {"trades": 40.0}}))
    return told


def _script(sampler: SamplerClient, resumed: list[FrozenTrial]) -> tuple[list[Any], list[FrozenTrial]]:
    """Drive a sampler as stage 1 does: ask 0, ask 1, tell 0, ask 2, tell 1, tell 2 (batches of 4)."""
    sampler.start("EURUSD", 7, _space(), resumed)
    replies = [sampler.ask(4), sampler.ask(4)]
    batches = [sampler.result(replies[0])]
    told_0 = sampler.tell(_told(batches[0]))
    replies.append(sampler.ask(4))
    batches += [sampler.result(replies[1]), sampler.result(replies[2])]
    finished = list(sampler.result(told_0))
    for batch in batches[1:]:
        finished += sampler.result(sampler.tell(_told(batch)))
    return [(t.number, t.params, t.violated) for batch in batches for t in batch], finished


def _stored(trial: FrozenTrial) -> tuple[Any, ...]:
    return trial.number, trial.state, trial.value, trial.params, trial.user_attrs, trial.system_attrs


def test_the_core_numbers_trials_after_the_resumed_and_tells_states_and_attributes() -> None:
    core = TpeSamplerCore()
    assert core.start("EURUSD", 7, _space(), _resumed(3)) == 3
    asked = core.ask(2)
    assert [t.number for t in asked] == [3, 4] and all(t.handle is None for t in asked)
    finished = core.tell([Told(3, TrialState.COMPLETE, 1.5, {"metrics": {"trades": 40.0}}),
                          Told(4, TrialState.FAIL, None, {"error": "ValueError: boom"})])
    assert [(t.number, t.state, t.value, t.user_attrs) for t in finished] == [
        (3, TrialState.COMPLETE, 1.5, {"metrics": {"trades": 40.0}}),
        (4, TrialState.FAIL, None, {"error": "ValueError: boom"}),
    ]
    assert finished[0].params == asked[0].params
    core.start("GBPUSD", 7, _space(), [])  # a new symbol's study replaces the previous one
    assert [t.number for t in core.ask(1)] == [0]


def test_a_sampler_process_proposes_exactly_what_the_driver_would(ray_cluster: Any) -> None:
    # 12 resumed trials: more than TPE's 10 random start-up trials, so the first proposal is TPE's
    in_driver = _script(InDriverSampler(), _resumed(12))
    pool = SamplerPool(1)
    try:
        with pool.lend("EURUSD") as process:
            in_process = _script(process, _resumed(12))
            assert process.pid != os.getpid()
            fresh = _script(process, [])  # the same process, the next symbol: its study starts empty
    finally:
        pool.shutdown()
    assert in_process[0] == in_driver[0]
    assert [t.number for t in in_process[1]] == list(range(12, 24))
    assert [_stored(t) for t in in_process[1]] == [_stored(t) for t in in_driver[1]]
    assert any(violated == "ema_fast < ema_slow" for _, _, violated in in_process[0])  # the check runs there
    # the resumed trials were added first: without them the first proposal differs
    assert [number for number, _, _ in fresh[0]] == list(range(12))
    assert fresh[0][0][1] != in_process[0][0][1]
    assert fresh[0] == _script(InDriverSampler(), [])[0]


def test_a_killed_sampler_process_raises_and_is_replaced(ray_cluster: Any) -> None:
    pool = SamplerPool(1)
    try:
        died = pytest.raises(SamplerDied, match=r"^the TPE sampler process of EURUSD died \(")
        with died, pool.lend("EURUSD") as process:
            process.start("EURUSD", 7, _space(), [])
            killed = process.pid
            os.kill(killed, signal.SIGKILL)
            process.result(process.ask(4))
        assert pool.replacements == 1
        with pool.lend("GBPUSD") as fresh:
            assert fresh.pid != killed
            fresh.start("GBPUSD", 7, _space(), [])
            assert [t.number for t in fresh.result(fresh.ask(2))] == [0, 1]
    finally:
        pool.shutdown()


def test_a_sampler_that_died_while_idle_is_replaced_before_it_is_lent(ray_cluster: Any) -> None:
    pool = SamplerPool(1)
    try:
        with pool.lend("EURUSD") as process:
            process.start("EURUSD", 7, _space(), [])
            idle = process.pid
        os.kill(idle, signal.SIGKILL)  # between two symbols, with nothing in flight
        with pool.lend("GBPUSD") as fresh:
            assert fresh.pid != idle and not fresh.died
            fresh.start("GBPUSD", 7, _space(), [])
            assert [t.number for t in fresh.result(fresh.ask(2))] == [0, 1]
        assert pool.replacements == 1
    finally:
        pool.shutdown()


# --- in a sweep -------------------------------------------------------------------------------------


class KillSamplerOnFirstResult(NullProgress):
    """Kills the sampler process of ``symbol`` once its first batch is written (as ``kill -9`` would)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.driver: SweepDriver | None = None
        self.killed = False

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        if symbol == self.symbol and not self.killed and self.driver is not None and self.driver.samplers:
            os.kill(self.driver.samplers.lent_to(symbol).pid, signal.SIGKILL)
            self.killed = True


def _sweep(directive: Path, data_dir: Path, results: Path, progress: NullProgress | None = None,
           **options: Any) -> RunManifest:
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results)
    store.root.mkdir(parents=True, exist_ok=True)
    with store.lock(plan.run_id):
        driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=2, progress=progress,
                             **options)
        if isinstance(progress, KillSamplerOnFirstResult):
            progress.driver = driver
        return driver.run()


def _journal(results: Path, run_id: str, symbol: str) -> list[tuple[Any, ...]]:
    study = open_study(str(ResultsStore(results).storage_path(run_id)), study_name(run_id, symbol))
    return [_stored(t) for t in finished_trials(study)]


def test_sampler_processes_give_the_old_drivers_trials(ray_cluster: Any, tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, symbols=SYMBOLS, search={"sampler": "tpe", "trials": 16, "seed": 5})
    old = _sweep(directive, small_data_dir, tmp_path / "old", max_parallel_symbols=1, tpe_in_driver=True)
    new = _sweep(directive, small_data_dir, tmp_path / "new", max_parallel_symbols=2)
    assert old.status == new.status == "complete"
    pd.testing.assert_frame_equal(load_run(old.run_id, tmp_path / "old").trials,
                                  load_run(new.run_id, tmp_path / "new").trials)
    for symbol in SYMBOLS:
        stored = _journal(tmp_path / "new", new.run_id, symbol)
        assert [row[0] for row in stored] == list(range(16))
        assert stored == _journal(tmp_path / "old", old.run_id, symbol)


def test_a_dead_sampler_fails_its_symbol_only_and_a_rerun_resumes(
    ray_cluster: Any, tmp_path: Path, small_data_dir: Path
) -> None:
    directive = write_directive(tmp_path, symbols=SYMBOLS, search={"sampler": "tpe", "trials": 16, "seed": 5})
    reference = _sweep(directive, small_data_dir, tmp_path / "ref", max_parallel_symbols=2)
    progress = KillSamplerOnFirstResult("GBPUSD")
    broken = _sweep(directive, small_data_dir, tmp_path / "r", progress, max_parallel_symbols=2)
    assert progress.killed and broken.status == "partial"
    failed = broken.symbols["GBPUSD"]
    assert failed.status == "FAILED"
    assert failed.error is not None and failed.error.startswith("the TPE sampler process of GBPUSD died (")
    assert broken.symbols["EURUSD"].status == "DONE"
    assert _journal(tmp_path / "r", broken.run_id, "EURUSD") == _journal(tmp_path / "ref", reference.run_id, "EURUSD")
    # the first batch was written before the process died; a re-run resumes from it
    assert [row[0] for row in _journal(tmp_path / "r", broken.run_id, "GBPUSD")] == list(range(8))
    again = _sweep(directive, small_data_dir, tmp_path / "r", max_parallel_symbols=2)
    assert again.status == "complete"
    counts = again.symbols["GBPUSD"].trials
    assert counts is not None and (counts.total, counts.resumed, counts.ran) == (16, 8, 8)
