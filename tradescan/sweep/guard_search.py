"""A TPE guard search run whole on one evaluator actor (walk-forward train windows, permuted series).

A TPE search asks batch k only once batch k-1 is told, and Optuna's TPE costs ~4 ms of CPU per ask
at 100 trials (10 parameters), several times a 100k-bar backtest. Run from the driver, the guard
stage's 100+ searches were sampled by one thread while the actors waited (measured: driver at 92 % of
a core, actors 47 % busy). Here the whole search — its in-memory study, every ask, backtest and tell —
is one job (``EvaluatorCore.run_jobs`` kind ``search``) on the actor that holds the bars:

* sampling scales with the actors instead of being capped by the driver's thread;
* the permuted series (or train window) is built once, on the actor that runs all of its trials;
* the calls are the same as the driver's schedule made them (ask a batch of ``batch`` trials, backtest
  it, tell it in trial order), so every number is what it was, on any number of workers.

Only the best trial travels back. A trial that raises is a FAIL inside the study, as before; a search
whose actor dies twice or that runs past its time bound comes back as the pool's ``TrialLost``.
Random and grid searches stay in the driver: their parameters follow from the trial number, so their
chunks run on every actor at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradescan.search_space import SearchSpace
from tradescan.sweep.objectives import Objective, ObjectiveError, get_objective, stage1_value

# best = (value, trial number, parameters, metrics)
Best = tuple[float, int, dict[str, Any], dict[str, float]]


@dataclass(frozen=True)
class SearchSpec:
    """One guard search as an actor runs it.

    Attributes:
        target: the job its trials run as, without ``params``: ``{"kind": "window", "start", "end"}``
            or ``{"kind": "permuted", "seed", "keep_bars"}``.
        budget: trials to run.
        seed: the TPE sampler's seed.
        batch: trials asked before they are told (the directive's ``batch_size``).
        min_trades: the stage-1 penalty's trade count for this search's bars.
        objective: the stage-1 objective's name.
        penalty_weight: the stage-1 penalty's weight.
        space: the search space (its distributions and constraints).
    """

    target: Mapping[str, Any]
    budget: int
    seed: int
    batch: int
    min_trades: int
    objective: str
    penalty_weight: float
    space: SearchSpace


@dataclass(frozen=True)
class SearchOutcome:
    """What a search job returns: its best trial (``None`` when no trial had a finite value), how many
    trials it ran, and its seconds on the actor."""

    best: Best | None
    n_trials: int
    seconds: float


def search_value(
    objective: Objective, metrics: Mapping[str, float] | None, violated: str | None, min_trades: int,
    penalty_weight: float,
) -> float | None:
    """Return a guard-search trial's value (the stage-1 value), or ``None`` when it failed: no metrics,
    a broken constraint, an objective error or a non-finite value."""
    if metrics is None or violated is not None:
        return None
    try:
        value = stage1_value(objective, metrics, min_trades=min_trades, penalty_weight=penalty_weight)
    except ObjectiveError:
        return None
    return value if math.isfinite(value) else None


def better(best: Best | None, value: float | None, number: int, params: Mapping[str, Any],
           metrics: Mapping[str, float] | None) -> Best | None:
    """Return the new best after a trial: strictly greater values win, so ties keep the first."""
    if value is not None and (best is None or value > best[0]):
        return value, number, dict(params), dict(metrics or {})
    return best


def run_tpe_search(
    spec: SearchSpec, evaluate: Callable[[Sequence[Mapping[str, Any]]], Sequence[Any]]
) -> SearchOutcome:
    """Run ``spec`` to its budget; ``evaluate(params_list)`` returns one ``(metrics, error, ...)`` per set.

    The study is in memory, seeded by ``spec.seed``, with the constant liar (as stage 1's TPE).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    started = time.perf_counter()
    sampler = optuna.samplers.TPESampler(seed=spec.seed % 2**32, constant_liar=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    distributions = spec.space.distributions()
    objective = get_objective(spec.objective)
    best: Best | None = None
    asked = 0
    while asked < spec.budget:
        trials = [study.ask(distributions) for _ in range(min(spec.batch, spec.budget - asked))]
        asked += len(trials)
        outcomes = evaluate([trial.params for trial in trials])
        for trial, outcome in zip(trials, outcomes, strict=True):
            params, metrics = trial.params, outcome[0]
            value = search_value(objective, metrics, spec.space.violated_constraint(params), spec.min_trades,
                                 spec.penalty_weight)
            if value is None:
                study.tell(trial, None, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, value)
            best = better(best, value, trial.number, params, metrics)
    return SearchOutcome(best, asked, time.perf_counter() - started)
