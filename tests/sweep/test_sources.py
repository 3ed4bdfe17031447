"""Where stage 1's trials come from: grid and random plans (no study) and TPE on an in-memory study."""

from __future__ import annotations

import datetime as dt

import optuna
import pytest
from optuna.trial import TrialState

from tradescan.registry import get_strategy
from tradescan.search_space import SearchSpace, build_search_space
from tradescan.sweep.draws import RandomDraws
from tradescan.sweep.sources import AskedTrial, GridSource, OptunaSource, RandomSource, finished_trial

RAW_SPACE = {
    "params": {"ema_fast": {"type": "int", "low": 5, "high": 80},
               "ema_slow": {"type": "int", "low": 50, "high": 200}},
    "constraints": ["ema_fast < ema_slow"],
}
POINTS = [{"ema_fast": 10, "ema_slow": 50}, {"ema_fast": 10, "ema_slow": 100}, {"ema_fast": 60, "ema_slow": 100},
          {"ema_fast": 70, "ema_slow": 100}]


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return build_search_space(RAW_SPACE, get_strategy("S1_TREND_EMA_ATR_ADX"))


def test_grid_source_numbers_trials_by_grid_index_from_the_resume_point(space: SearchSpace) -> None:
    source = GridSource(space, POINTS, start=1)
    first = source.ask(2)
    assert [(a.number, a.params) for a in first] == [(1, POINTS[1]), (2, POINTS[2])]
    assert [source.attrs(a) for a in first] == [{"grid_index": 1}, {"grid_index": 2}]
    assert [a.number for a in source.ask(5)] == [3]  # the grid ends: fewer than asked
    assert source.ask(1) == []
    first[0].params["ema_fast"] = 999
    assert POINTS[1]["ema_fast"] == 10  # an asked trial owns a copy


def test_random_source_draws_by_number_and_flags_broken_constraints(space: SearchSpace) -> None:
    draws = RandomDraws(space.distributions(), 7, "EURUSD")
    source = RandomSource(space, 7, "EURUSD", start=3)
    asked = source.ask(40)
    assert [a.number for a in asked] == list(range(3, 43))
    assert [a.params for a in asked] == [draws.params(n) for n in range(3, 43)]
    for trial in asked:
        broken = trial.params["ema_fast"] >= trial.params["ema_slow"]
        assert trial.violated == ("ema_fast < ema_slow" if broken else None)
    assert any(a.violated for a in asked) and not all(a.violated for a in asked)
    resumed = RandomSource(space, 7, "EURUSD", start=20).ask(3)
    assert [a.params for a in resumed] == [a.params for a in asked[17:20]]  # same trial, same parameters
    assert [a.params for a in RandomSource(space, 7, "GBPUSD", start=3).ask(3)] != [a.params for a in asked[:3]]


def test_optuna_source_asks_in_order_and_tells_states_and_attributes(space: SearchSpace) -> None:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=1, constant_liar=True))
    source = OptunaSource(study, space)
    asked = source.ask(3)
    assert [a.number for a in asked] == [0, 1, 2]
    source.tell(asked[0], TrialState.COMPLETE, 1.5, {"metrics": {"trades": 40}})
    source.tell(asked[1], TrialState.FAIL, 2.0, {"error": "ValueError: boom"})  # a FAIL never keeps a value
    source.tell(asked[2], TrialState.PRUNED, None, {"reason": "constraint violated: ema_fast < ema_slow"})
    trials = study.get_trials(deepcopy=False)
    assert [(t.state, t.value) for t in trials] == [(TrialState.COMPLETE, 1.5), (TrialState.FAIL, None),
                                                    (TrialState.PRUNED, None)]
    assert trials[1].user_attrs == {"error": "ValueError: boom"}
    assert [t.params for t in trials] == [a.params for a in asked]


def test_finished_trial_keeps_a_value_only_when_complete(space: SearchSpace) -> None:
    asked = AskedTrial(5, {"ema_fast": 10}, 5)
    start, end = dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 12, 0, 3)
    distributions = space.distributions()
    done = finished_trial(asked, distributions, (TrialState.COMPLETE, 0.25, {"metrics": {}}), start, end)
    failed = finished_trial(asked, distributions, (TrialState.FAIL, 0.25, {"error": "x"}), start, end)
    assert (done.number, done.state, done.value, done.params) == (5, TrialState.COMPLETE, 0.25, {"ema_fast": 10})
    assert list(done.distributions) == ["ema_fast"]  # only the parameters the trial has
    assert (failed.state, failed.value, failed.user_attrs) == (TrialState.FAIL, None, {"error": "x"})
    assert (done.datetime_start, done.datetime_complete) == (start, end)
