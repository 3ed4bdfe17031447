"""Driver mechanics without Ray: splitting, grids, scoring (the trial writer: tests/sweep/test_storage.py)."""

from __future__ import annotations

import numpy as np
import optuna
from optuna.trial import TrialState

from tradescan.paths import SEARCH_SPACES_DIR
from tradescan.registry import get_strategy
from tradescan.search_space import build_search_space, load_search_space
from tradescan.sweep.grid import plan_grid
from tradescan.sweep.stage2 import select_finalists


def test_grid_plan_applies_constraints_and_caps_trials() -> None:
    strategy = get_strategy("S1_TREND_EMA_ATR_ADX")
    raw = {"params": {"ema_fast": {"type": "int", "low": 5, "high": 80},
                      "ema_slow": {"type": "int", "low": 50, "high": 200}},
           "constraints": ["ema_fast < ema_slow"], "presets": {"p": {"ema_fast": [10, 60, 70], "ema_slow": [50, 100]}}}
    space = build_search_space(raw, strategy)
    grid = plan_grid(space, "p", trials=100)
    assert grid.points == [{"ema_fast": 10, "ema_slow": 50}, {"ema_fast": 10, "ema_slow": 100},
                           {"ema_fast": 60, "ema_slow": 100}, {"ema_fast": 70, "ema_slow": 100}]
    assert grid.removed_by_constraints == 2 and grid.total_points == 6
    assert len(plan_grid(space, "p", trials=3).points) == 3
    medium = load_search_space(SEARCH_SPACES_DIR / "s1_trend_ema_atr_adx.yaml", strategy)
    assert len(plan_grid(medium, "medium", trials=10**6).points) == 1152


def _trial(number: int, value: float | None, params: dict[str, float], state: TrialState = TrialState.COMPLETE):
    distributions: dict[str, optuna.distributions.BaseDistribution] = {
        name: optuna.distributions.FloatDistribution(0, 10) for name in params}
    trial = optuna.trial.create_trial(state=state, value=value, params=params, distributions=distributions,
                                      user_attrs={"metrics": {"sharpe": value}})
    trial.number = number
    return trial


def test_finalists_are_distinct_best_first_ties_by_number() -> None:
    trials = [_trial(0, 1.0, {"a": 1}), _trial(1, 2.0, {"a": 2}), _trial(2, 2.0, {"a": 3}), _trial(3, 2.0, {"a": 2}),
              _trial(4, None, {"a": 4}, TrialState.FAIL)]
    assert [t.number for t in select_finalists(trials, 10)] == [1, 2, 0]
    assert [t.number for t in select_finalists(trials, 1)] == [1]


def test_rich_progress_tracks_rate_and_best() -> None:
    from tradescan.sweep.progress import NullProgress, RichProgress, make_progress

    assert type(make_progress(False)) is NullProgress
    with RichProgress() as display:
        display.note("AUDUSD", "BLOCK: no data")
        display.start_symbol("EURUSD", total=10, done=2)
        display.advance("EURUSD", 4, 1.25)
        display.note("EURUSD", "stage 2")
        task = display._progress.tasks[display._tasks["EURUSD"]]
        assert task.completed == 6 and task.fields["best"] == "1.2500" and task.fields["note"] == "stage 2"


def test_bars_from_payload_keeps_the_payload_arrays_without_copying() -> None:
    from tradescan import data
    from tradescan.sweep.evaluator import BAR_ARRAYS, bars_from_payload, bars_payload

    payload = bars_payload(data.synthesize("EURUSD", "H1", 500, seed=1), "EURUSD")
    for array in payload.values():
        array.flags.writeable = False  # as Ray hands object-store buffers to an actor
    bars = bars_from_payload("EURUSD", payload)
    for name in BAR_ARRAYS:
        assert np.shares_memory(getattr(bars, name), payload[name]), name
