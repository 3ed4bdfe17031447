"""The actor pool on real Ray with a stand-in evaluator that dies or hangs for chosen parameters.

The stand-in returns ``x * 10`` for ``{"x": x}``; for ``x == DIES`` it ends its own process
(``os._exit``), for ``x == HANGS`` it never returns. The pool must replace the actor, narrow the chunk
down to that one trial and hand back ``TrialLost`` for it only, every other result in order.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tradescan.sweep.pool import ACTOR_DIED, EvaluatorPool, TrialLost, split_evenly, time_limit_text

pytestmark = pytest.mark.usefixtures("ray_cluster")

DIES = 5
HANGS = 9


class FakeEvaluator:
    """Stands in for ``EvaluatorCore``: the same methods, trivial work, faults on purpose."""

    def __init__(self, settings: Any) -> None:
        self.loaded: dict[str, int] = {}

    def ping(self) -> int:
        return os.getpid()

    def warm_up(self, symbol: str, guards: bool = False) -> bool:
        while symbol == "STUCK":  # a strategy that hangs on its default parameters
            time.sleep(0.05)
        return True

    def load_symbol(self, symbol: str, payload: int) -> int:
        self.loaded[symbol] = payload
        return payload

    def drop_symbol(self, symbol: str) -> None:
        self.loaded.pop(symbol, None)

    def evaluate_batch(self, symbol: str, params_list: list[dict[str, Any]]) -> list[tuple[int, None]]:
        assert symbol in self.loaded, "the pool must load a symbol before its trials"
        results = []
        for params in params_list:
            if params["x"] == DIES:
                os._exit(1)
            while params["x"] == HANGS:
                time.sleep(0.05)
            time.sleep(params.get("sleep_s", 0.0))
            results.append((params["x"] * 10, None))
        return results


@pytest.fixture(scope="module")
def fake_actor_class(ray_cluster: Any) -> Any:
    # The workers cannot import this test module; ship the class by value.
    ray_cluster.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return ray_cluster.remote(num_cpus=1, max_restarts=0)(FakeEvaluator)


@pytest.fixture
def make_pool(fake_actor_class: Any, ray_cluster: Any) -> Iterator[Any]:
    pools: list[EvaluatorPool] = []

    def make(trial_timeout_s: float | None = None, warm_up: str | None = None, start_s: float = 60.0) -> EvaluatorPool:
        pool = EvaluatorPool(None, 2, trial_timeout_s=trial_timeout_s,  # type: ignore[arg-type]
                             actor_class=fake_actor_class, actor_start_timeout_s=start_s)
        if warm_up:
            pool.warm_up(warm_up)
        pool.add_symbol("EURUSD", ray_cluster.put(7))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.shutdown()


def _params(*xs: int) -> list[dict[str, Any]]:
    return [{"x": x} for x in xs]


def _expected(*xs: int, lost: dict[int, str] | None = None) -> list[Any]:
    lost = lost or {}
    return [TrialLost(lost[x]) if x in lost else (x * 10, None) for x in xs]


def test_split_evenly_keeps_order_and_covers_everything() -> None:
    assert split_evenly(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert split_evenly([1, 2], 5) == [[1], [2]]
    assert split_evenly([], 2) == []


def test_time_limit_text() -> None:
    assert time_limit_text(300.0) == "exceeded the 300 s trial time limit"
    assert time_limit_text(2.5) == "exceeded the 2.5 s trial time limit"


def test_a_batch_comes_back_in_order_whatever_the_split(make_pool: Any) -> None:
    pool = make_pool()
    xs = (1, 2, 3, 4, 6, 7, 8)
    assert pool.map("EURUSD", "evaluate_batch", _params(*xs)) == _expected(*xs)
    assert pool.replacements == 0


def test_an_actor_that_dies_is_replaced_and_only_its_trial_is_lost(make_pool: Any) -> None:
    pool = make_pool()
    xs = tuple(range(1, 9))  # chunks 1..4 and 5..8: the second kills its actor at x == 5
    assert pool.map("EURUSD", "evaluate_batch", _params(*xs)) == _expected(*xs, lost={DIES: ACTOR_DIED})
    # died in the batch, died again when its chunk was re-run, died once more alone
    assert pool.replacements == 3
    assert pool.map("EURUSD", "evaluate_batch", _params(1, 2)) == _expected(1, 2)  # the new actor holds the bars


def test_a_stuck_trial_is_cut_at_the_time_limit_and_only_it_is_lost(make_pool: Any) -> None:
    pool = make_pool(trial_timeout_s=1.0)
    xs = tuple(range(6, 12))  # chunks 6..8 and 9..11: the second hangs at x == 9
    started = time.monotonic()
    results = pool.map("EURUSD", "evaluate_batch", _params(*xs))
    assert results == _expected(*xs, lost={HANGS: "exceeded the 1 s trial time limit"})
    assert pool.replacements == 2  # the batch's actor, then the one that ran x == 9 alone
    assert time.monotonic() - started < 90  # 3 s for the chunk, 1 s alone, plus two actor starts


def test_slow_trials_within_the_limit_are_left_alone(make_pool: Any) -> None:
    pool = make_pool(trial_timeout_s=1.0)
    xs = (1, 2, 3, 4, 6, 7)
    params = [{"x": x, "sleep_s": 0.6} for x in xs]  # 1.8 s per chunk of 3: over 1 s, under 3 s
    assert pool.map("EURUSD", "evaluate_batch", params) == _expected(*xs)
    assert pool.replacements == 0


def test_a_pipelined_batch_behind_a_stuck_one_is_rerun(make_pool: Any) -> None:
    pool = make_pool(trial_timeout_s=1.0)
    first = pool.submit("EURUSD", "evaluate_batch", _params(1, HANGS))  # x == 9 runs on the second actor
    second = pool.submit("EURUSD", "evaluate_batch", _params(2, 3))  # x == 3 waits behind it
    assert pool.gather(first) == _expected(1, HANGS, lost={HANGS: time_limit_text(1.0)})
    assert pool.gather(second) == _expected(2, 3)  # killed with the stuck actor, re-run on its replacement
    assert pool.replacements == 2


def test_an_actor_stuck_in_its_warm_up_is_replaced_when_the_bars_are_loaded(make_pool: Any) -> None:
    started = time.monotonic()
    pool = make_pool(trial_timeout_s=1.0, warm_up="STUCK", start_s=15.0)  # both actors hang before loading
    assert pool.replacements == 2
    assert 16.0 <= time.monotonic() - started < 120  # the start allowance (15 s) plus one trial (1 s)
    assert pool.map("EURUSD", "evaluate_batch", _params(1, 2)) == _expected(1, 2)


def test_stream_replaces_dead_and_stuck_actors_and_yields_every_chunk_once(make_pool: Any) -> None:
    pool = make_pool(trial_timeout_s=1.0)
    chunks = [_params(1, 2, 3), _params(4, DIES, 6), [], _params(7, 8, HANGS), _params(10, 11, 12)]
    yielded = list(pool.stream("EURUSD", "evaluate_batch", iter(chunks), depth=2))
    by_chunk = dict(yielded)
    assert sorted(number for number, _ in yielded) == [0, 1, 2, 3, 4]
    assert by_chunk == {
        0: _expected(1, 2, 3),
        1: _expected(4, DIES, 6, lost={DIES: ACTOR_DIED}),
        2: [],
        3: _expected(7, 8, HANGS, lost={HANGS: time_limit_text(1.0)}),
        4: _expected(10, 11, 12),
    }


def test_a_stuck_trial_in_a_large_chunk_is_found_in_about_the_limit_once_chunks_have_finished(
    make_pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradescan.sweep.pool as pool_module

    monkeypatch.setattr(pool_module, "MIN_TRIAL_ALLOWANCE_S", 0.01)  # quick trials: 0.01 s each allowed
    pool = make_pool(trial_timeout_s=5.0)
    quick = [[x for x in range(first, first + 40) if x not in (DIES, HANGS)] for first in (10, 50, 90)]
    stuck = [HANGS, *range(130, 169)]  # 40 trials: the old bound was 40 x 5 s = 200 s
    chunks = [_params(*xs) for xs in (*quick, stuck)]
    started = time.monotonic()
    by_chunk = dict(pool.stream("EURUSD", "evaluate_batch", iter(chunks), depth=2))
    elapsed = time.monotonic() - started
    assert by_chunk == {0: _expected(*quick[0]), 1: _expected(*quick[1]), 2: _expected(*quick[2]),
                        3: _expected(*stuck, lost={HANGS: time_limit_text(5.0)})}
    # cut after ~5 s + 40 x 0.01 s, then 5 s alone for the stuck trial and two actor starts
    assert elapsed < 60, elapsed


def test_stream_bounds_a_chunk_by_the_trials_weigh_says_it_stands_for(make_pool: Any) -> None:
    # one entry that stands for 3 trials (a whole search is one job): 1.8 s is over 1 x the 1 s limit but
    # under its 3 trials' bound, so it is left alone; weighed as 1 trial (the default) it is cut
    pool = make_pool(trial_timeout_s=1.0)
    slow = [[{"x": 1, "sleep_s": 1.8}]]
    assert dict(pool.stream("EURUSD", "evaluate_batch", iter(slow), weigh=lambda chunk: 3 * len(chunk))) == {
        0: _expected(1)}
    assert pool.replacements == 0
    assert dict(pool.stream("EURUSD", "evaluate_batch", iter(slow))) == {
        0: [TrialLost(time_limit_text(1.0))]}
    assert pool.replacements == 2  # cut, then cut again when run alone


def test_stream_asks_again_after_a_result_when_the_source_had_nothing_yet(make_pool: Any) -> None:
    # a source whose second chunk depends on the first's result (a search's asks wait for its tells)
    pool = make_pool()
    taken: list[list[Any]] = []
    asked_while: list[int] = []

    def source() -> Iterator[list[dict[str, Any]] | None]:
        yield _params(1, 2)
        while not taken:
            yield None  # nothing can run until chunk 0 is back
        asked_while.append(len(taken))
        yield _params(taken[0][0][0], 3)  # built from chunk 0's first result: x = 10
        yield []

    yielded = []
    for number, results in pool.stream("EURUSD", "evaluate_batch", source(), depth=2):
        taken.append(results)
        yielded.append((number, results))
    # indices count the "nothing yet" answers too; every real chunk comes back once, with its results
    # (the empty one at once, before the chunk asked just ahead of it returns)
    assert [results for _, results in yielded] == [_expected(1, 2), [], _expected(10, 3)]
    numbers = [number for number, _ in yielded]
    assert asked_while == [1] and numbers[0] == 0 and numbers[2] > 1 and numbers[1] == numbers[2] + 1


def test_stream_refuses_a_source_that_has_nothing_while_nothing_runs(make_pool: Any) -> None:
    pool = make_pool()

    def source() -> Iterator[list[dict[str, Any]] | None]:
        yield _params(1)
        while True:
            yield None

    stream = pool.stream("EURUSD", "evaluate_batch", source(), depth=2)
    assert next(stream) == (0, _expected(1))
    with pytest.raises(RuntimeError, match="nothing to run while nothing is running"):
        next(stream)
