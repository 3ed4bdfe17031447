"""Stage 1: the one mapping from an outcome to a trial state, and a real run of one symbol on Ray."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState
from sweep_support import NO_SIGNAL_KINDS, write_directive

from tradescan import data
from tradescan.preflight import prepare
from tradescan.sweep.driver import stage1_config
from tradescan.sweep.evaluator import bars_payload
from tradescan.sweep.objectives import get_objective
from tradescan.sweep.pool import ACTOR_DIED, EvaluatorPool, TrialLost
from tradescan.sweep.settings import EvaluatorSettings
from tradescan.sweep.sources import AskedTrial
from tradescan.sweep.stage1 import (
    MAX_CHUNK_TRIALS,
    Stage1Config,
    Stage1Runner,
    count_states,
    planned_chunk_sizes,
    score,
    trial_state,
)
from tradescan.sweep.storage import finished_trials, open_study

CONFIG = Stage1Config("tpe", 1, 10, 4, None, get_objective("sharpe"), 10, 1.0)
RUNNABLE = AskedTrial(0, {"x": 1}, None)


def test_each_outcome_maps_to_one_state() -> None:
    pruned = AskedTrial(1, {"x": 2}, None, violated="fast < slow")
    assert trial_state(CONFIG, pruned, None) == (TrialState.PRUNED, None,
                                                 {"reason": "constraint violated: fast < slow"})
    assert trial_state(CONFIG, RUNNABLE, TrialLost(ACTOR_DIED)) == (TrialState.FAIL, None, {"error": ACTOR_DIED})
    lost = TrialLost("exceeded the 300 s trial time limit")
    assert trial_state(CONFIG, RUNNABLE, lost) == (TrialState.FAIL, None,
                                                   {"error": "exceeded the 300 s trial time limit"})
    assert trial_state(CONFIG, RUNNABLE, (None, "ValueError: boom")) == (TrialState.FAIL, None,
                                                                         {"error": "ValueError: boom"})
    no_signal = (None, "no usable signal: Signals.entry is NaN at 5 of 5 bars after the warm-up")
    assert trial_state(CONFIG, RUNNABLE, no_signal)[:2] == (TrialState.FAIL, None)


def test_metrics_are_scored_with_the_min_trades_penalty() -> None:
    state, value, attrs = score(CONFIG, ({"sharpe": 1.0, "trades": 5.0, "profit_factor": math.inf}, None))
    assert state == TrialState.COMPLETE and value == 0.5 and attrs["metrics"]["profit_factor"] == "inf"
    # never trading is a result, not a fault: 0 before the full penalty
    assert score(CONFIG, ({"sharpe": math.nan, "trades": 0.0}, None))[:2] == (TrialState.COMPLETE, -1.0)
    state, value, attrs = score(CONFIG, ({"sharpe": math.inf, "trades": 50.0}, None))
    assert state == TrialState.FAIL and value is None
    assert attrs["error"] == "ObjectiveError: objective 'sharpe' is not finite (inf) with 50 trades"
    assert attrs["metrics"] == {"sharpe": "inf", "trades": 50.0}  # what was measured stays visible


def test_random_and_grid_chunks_shrink_with_the_trials_left() -> None:
    assert planned_chunk_sizes(800, 2, 32) == [200, 150, 113, 85, 63, 48, 36, 27, 20, 16, 16, 16, 10]
    # never above MAX_CHUNK_TRIALS, never below batch_size / actors but for the last one
    assert planned_chunk_sizes(1152, 1, 256) == [MAX_CHUNK_TRIALS] * 4 + [128]
    assert planned_chunk_sizes(40, 4, 64) == [16, 16, 8]
    assert planned_chunk_sizes(0, 2, 32) == [] and planned_chunk_sizes(3, 2, 32) == [3]
    for n_trials in (1, 17, 999, 5000):
        assert sum(planned_chunk_sizes(n_trials, 3, 16)) == n_trials


def test_count_states() -> None:
    from tradescan.sweep.sampler import memory_study

    study = memory_study(CONFIG.seed, [])
    for state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE):
        trial = study.ask()
        study.tell(trial, 1.0 if state == TrialState.COMPLETE else None, state=state)
    assert count_states(study.trials) == {"COMPLETE": 2, "FAIL": 1}


# --- one symbol on real Ray ---------------------------------------------------------------------------


@pytest.fixture
def no_signal_run(tmp_path: Path, small_data_dir: Path, plugin_dir: Path, ray_cluster: Any) -> Iterator[Any]:
    directive = write_directive(
        tmp_path, strategy="TEST_NO_SIGNAL", strategy_paths=[str(plugin_dir / "user_strategies")],
        search={"space": str(plugin_dir / "no_signal.yaml"), "preset": "all", "sampler": "grid", "trials": 10},
        stage1={"min_trades": 20}, batch_size=4,
    )
    plan = prepare(directive, data_dir=small_data_dir)
    pool = EvaluatorPool(EvaluatorSettings.from_plan(plan), 1, trial_timeout_s=60.0)
    bars = data.load("EURUSD", "H1", data_dir=small_data_dir)
    pool.add_symbol("EURUSD", ray_cluster.put(bars_payload(bars, "EURUSD")))
    url = str(tmp_path / "optuna.journal")

    def run() -> Any:
        runner = Stage1Runner("EURUSD", stage1_config(plan), plan.space, pool, open_study(url, "run/EURUSD"))
        return runner.run()

    yield run
    pool.shutdown()


def test_unusable_signals_fail_and_a_silent_strategy_completes(no_signal_run: Any) -> None:
    result = no_signal_run()
    by_kind = {t.params["kind"]: t for t in result.trials}
    assert list(by_kind) == list(NO_SIGNAL_KINDS)  # grid order, one trial each
    states = {kind: t.state for kind, t in by_kind.items()}
    assert states == {"ok": TrialState.COMPLETE, "nan_entry": TrialState.FAIL, "nan_after_warmup": TrialState.FAIL,
                      "nan_stops": TrialState.FAIL, "never": TrialState.COMPLETE,
                      "nan_in_warmup": TrialState.COMPLETE}
    for kind in ("nan_entry", "nan_after_warmup", "nan_stops"):
        assert by_kind[kind].value is None
        assert by_kind[kind].user_attrs["error"].startswith("no usable signal: "), kind
    assert by_kind["never"].value == -1.0  # sharpe 0 minus the whole penalty (weight 1.0)
    assert by_kind["never"].user_attrs["metrics"]["trades"] == 0
    assert by_kind["nan_in_warmup"].value == by_kind["ok"].value
    assert result.counts == {"COMPLETE": 3, "FAIL": 3}
    assert (result.resumed, result.ran) == (0, 6)


def test_a_second_run_resumes_every_trial(no_signal_run: Any, tmp_path: Path) -> None:
    first = no_signal_run()
    again = no_signal_run()
    assert (again.resumed, again.ran) == (6, 0)
    stored = finished_trials(open_study(str(tmp_path / "optuna.journal"), "run/EURUSD"))
    assert [(t.number, t.state, t.value) for t in stored] == [(t.number, t.state, t.value) for t in first.trials]
