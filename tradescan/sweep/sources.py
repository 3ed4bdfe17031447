"""Where stage 1's trials come from: TPE on an in-memory Optuna study, or a plan that needs no study.

* ``OptunaSource`` asks an Optuna sampler (TPE with a constant liar) and tells it every result: the
  next proposals depend on the previous results.
* ``GridSource`` and ``RandomSource`` know every trial's parameters from its number alone (the
  enumerated grid; NumPy draws seeded by seed, symbol and block). They keep no study: a finished trial
  becomes a ``FrozenTrial`` only when it is written (``finished_trial``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tradescan.search_space import SearchSpace
from tradescan.sweep.draws import RandomDraws


@dataclass
class AskedTrial:
    """One proposed parameter set: its number, parameters and, if it breaks one, the constraint."""

    number: int
    params: dict[str, Any]
    handle: Any
    violated: str | None = None


def finished_trial(
    asked: AskedTrial,
    distributions: Mapping[str, Any],
    outcome: tuple[TrialState, float | None, dict[str, Any]],
    started: dt.datetime,
    completed: dt.datetime,
) -> FrozenTrial:
    """Return the finished ``FrozenTrial`` of a trial that was never in an Optuna study."""
    state, value, attrs = outcome
    return FrozenTrial(
        number=asked.number,
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        datetime_start=started,
        datetime_complete=completed,
        params=asked.params,
        distributions={name: distributions[name] for name in asked.params},
        user_attrs=attrs,
        system_attrs={},
        intermediate_values={},
        trial_id=-1,
    )


class OptunaSource:
    """Proposes trials with an Optuna sampler on an in-memory study (TPE)."""

    def __init__(self, study: optuna.Study, space: SearchSpace) -> None:
        self.study = study
        self.space = space
        self.distributions = space.distributions()

    def ask(self, n_trials: int) -> list[AskedTrial]:
        asked = []
        for _ in range(n_trials):
            trial = self.study.ask(self.distributions)
            params = trial.params  # a fresh copy on every access
            asked.append(AskedTrial(trial.number, params, trial, self.space.violated_constraint(params)))
        return asked

    def tell(self, asked: AskedTrial, state: TrialState, value: float | None, attrs: Mapping[str, Any]) -> None:
        for key, attr in attrs.items():
            asked.handle.set_user_attr(key, attr)
        self.study.tell(asked.handle, value if state == TrialState.COMPLETE else None, state=state)


class GridSource:
    """Proposes the grid's points in order, starting after the points already finished."""

    def __init__(self, space: SearchSpace, points: list[dict[str, Any]], start: int) -> None:
        self.points = points
        self.next_index = start
        self.distributions = space.distributions()

    def ask(self, n_trials: int) -> list[AskedTrial]:
        chosen = self.points[self.next_index : self.next_index + n_trials]
        # Trials are written in order and a resumed study holds points 0..start-1, so number = grid index.
        asked = [AskedTrial(self.next_index + i, dict(p), self.next_index + i) for i, p in enumerate(chosen)]
        self.next_index += len(chosen)
        return asked

    def attrs(self, asked: AskedTrial) -> dict[str, Any]:
        """Return the user attributes every trial of this source carries."""
        return {"grid_index": asked.handle}


class RandomSource:
    """Proposes trial ``start``, ``start + 1``, … with parameters drawn by ``RandomDraws``."""

    def __init__(self, space: SearchSpace, seed: int, symbol: str, start: int) -> None:
        self.space = space
        self.distributions = space.distributions()
        self.draws = RandomDraws(self.distributions, seed, symbol)
        self.next_index = start

    def ask(self, n_trials: int) -> list[AskedTrial]:
        asked = []
        for number in range(self.next_index, self.next_index + n_trials):
            params = self.draws.params(number)
            asked.append(AskedTrial(number, params, number, self.space.violated_constraint(params)))
        self.next_index += n_trials
        return asked

    def attrs(self, asked: AskedTrial) -> dict[str, Any]:
        return {}


PlannedSource = GridSource | RandomSource
