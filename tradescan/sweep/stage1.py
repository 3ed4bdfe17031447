"""Stage 1 of one symbol: sample parameter sets in batches, backtest them on the actors, tell in order.

The loop keeps two batches in flight (the sampler proposes batch k+1 while the actors run batch k) and
tells each batch back in trial-number order once all of it returned. Batch size and pipeline depth
come from the directive and this module, never from the number of workers, so for a given seed the
sequence of trials and every value is the same on 1 worker or 100.

Outcomes map explicitly onto Optuna states (Ray's Optuna adapter habit):

* metrics returned            -> COMPLETE with the stage-1 value (objective minus the min-trades penalty)
* the backtest raised          -> FAIL, error text in the user attribute ``error``
* a constraint is broken       -> PRUNED, not evaluated, the constraint in the user attribute ``reason``
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tradescan.cli.common import json_safe
from tradescan.search_space import SearchSpace
from tradescan.sweep.grid import plan_grid
from tradescan.sweep.objectives import Objective, ObjectiveError, stage1_value
from tradescan.sweep.pool import EvaluatorPool, PendingBatch
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.storage import TrialWriter, finished_trials

# Batches in flight at once: 2 overlaps sampling with backtesting; fixed so results never depend on it.
PIPELINE_DEPTH = 2


@dataclass(frozen=True)
class Stage1Config:
    """What stage 1 of one symbol needs from the directive."""

    sampler: str
    seed: int
    trials: int
    batch_size: int
    preset: str | None
    objective: Objective
    min_trades: int
    penalty_weight: float


@dataclass
class AskedTrial:
    """One proposed parameter set: its number, parameters and, if it breaks one, the constraint."""

    number: int
    params: dict[str, Any]
    handle: Any
    violated: str | None = None


@dataclass
class Stage1Result:
    """The finished trials of one symbol (resumed ones first) and counts for the manifest."""

    trials: list[FrozenTrial]
    resumed: int
    ran: int
    seconds: float
    grid_removed: int = 0
    counts: dict[str, int] = field(default_factory=dict)


# --- trial sources ------------------------------------------------------------------------------------


class OptunaSource:
    """Proposes trials with an Optuna sampler on an in-memory study (TPE or random)."""

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
        _tell(self.study, asked.handle, value if state == TrialState.COMPLETE else None, state)


class GridSource:
    """Proposes the grid's points in order, starting after the points already finished."""

    def __init__(self, study: optuna.Study, space: SearchSpace, points: list[dict[str, Any]], start: int) -> None:
        self.study = study
        self.points = points
        self.next_index = start
        distributions = space.distributions()
        self.distributions = {name: distributions[name] for name in (points[0] if points else {})}

    def ask(self, n_trials: int) -> list[AskedTrial]:
        chosen = self.points[self.next_index : self.next_index + n_trials]
        # Trials are told in order and a resumed study holds points 0..start-1, so number = grid index.
        asked = [AskedTrial(self.next_index + i, dict(p), self.next_index + i) for i, p in enumerate(chosen)]
        self.next_index += len(chosen)
        return asked

    def tell(self, asked: AskedTrial, state: TrialState, value: float | None, attrs: Mapping[str, Any]) -> None:
        trial = optuna.trial.create_trial(
            state=state,
            value=value if state == TrialState.COMPLETE else None,
            params=asked.params,
            distributions=self.distributions,
            user_attrs={**attrs, "grid_index": asked.handle},
        )
        self.study.add_trial(trial)


TrialSource = OptunaSource | GridSource


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None, state: TrialState) -> None:
    """Tell Optuna a result without ``Study.tell``'s deep copy of the finished trial.

    ``Study.tell`` returns a deep copy of the trial, which measured ~1 ms per trial here — more than the
    random sampler's whole ask/tell — on the driver's critical path. The same internal function does
    the telling; if a future Optuna moves it, the public ``Study.tell`` is used.
    """
    if _TELL_WITHOUT_COPY is None:
        study.tell(trial, value, state=state)
    else:
        _TELL_WITHOUT_COPY(study, trial, value, state, suppress_warning=True)


def _internal_tell() -> Any:
    try:
        from optuna.study._tell import _tell_with_warning
    except ImportError:  # pragma: no cover - depends on the Optuna version
        return None
    return _tell_with_warning


_TELL_WITHOUT_COPY = _internal_tell()


def make_sampler(config: Stage1Config) -> optuna.samplers.BaseSampler:
    """Return the sampler of the in-memory study (TPE with a constant liar for batches, or random)."""
    if config.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=config.seed, constant_liar=True)
    return optuna.samplers.RandomSampler(seed=config.seed)


def memory_study(config: Stage1Config, resumed: list[FrozenTrial]) -> optuna.Study:
    """Return an in-memory study seeded with the trials already in the RDB study."""
    study = optuna.create_study(direction="maximize", sampler=make_sampler(config))
    study.add_trials(resumed)
    return study


# --- scoring ------------------------------------------------------------------------------------------


def score(
    config: Stage1Config, outcome: tuple[dict[str, float] | None, str | None]
) -> tuple[TrialState, float | None, dict[str, Any]]:
    """Turn an actor's outcome into (state, value, user attributes)."""
    metrics, error = outcome
    if metrics is None:
        return TrialState.FAIL, None, {"error": error or "unknown error"}
    attrs: dict[str, Any] = {"metrics": json_safe(dict(metrics))}
    try:
        value = stage1_value(config.objective, metrics, min_trades=config.min_trades,
                             penalty_weight=config.penalty_weight)
    except ObjectiveError as exc:
        return TrialState.FAIL, None, {**attrs, "error": f"ObjectiveError: {exc}"}
    return TrialState.COMPLETE, value, attrs


# --- the loop -----------------------------------------------------------------------------------------


@dataclass
class _InFlight:
    asked: list[AskedTrial]
    pending: PendingBatch | None


class Stage1Runner:
    """Runs stage 1 of one symbol: seed, ask, evaluate, tell, write, repeat."""

    def __init__(
        self,
        symbol: str,
        config: Stage1Config,
        space: SearchSpace,
        pool: EvaluatorPool,
        rdb_study: optuna.Study,
        progress: NullProgress | None = None,
    ) -> None:
        self.symbol = symbol
        self.config = config
        self.space = space
        self.pool = pool
        self.rdb_study = rdb_study
        self.progress = progress or NullProgress()
        self.best_value: float | None = None

    def run(self) -> Stage1Result:
        """Run the remaining trials and return every finished trial of the symbol."""
        started = time.perf_counter()
        resumed = finished_trials(self.rdb_study)
        study = memory_study(self.config, resumed)
        source, total, grid_removed = self._source(study, len(resumed))
        self._note_best(resumed)
        self.progress.start_symbol(self.symbol, total, min(len(resumed), total))
        writer = TrialWriter(self.rdb_study)
        try:
            self._loop(source, study, max(0, total - len(resumed)), writer)
        finally:
            writer.close()
        trials = study.get_trials(deepcopy=False)
        return Stage1Result(trials, len(resumed), len(trials) - len(resumed), time.perf_counter() - started,
                            grid_removed, count_states(trials))

    def _source(self, study: optuna.Study, n_done: int) -> tuple[TrialSource, int, int]:
        if self.config.sampler != "grid":
            return OptunaSource(study, self.space), self.config.trials, 0
        grid = plan_grid(self.space, str(self.config.preset), self.config.trials)
        return GridSource(study, self.space, grid.points, n_done), len(grid.points), grid.removed_by_constraints

    def _loop(self, source: TrialSource, study: optuna.Study, remaining: int, writer: TrialWriter) -> None:
        in_flight: deque[_InFlight] = deque()
        while remaining > 0 or in_flight:
            while remaining > 0 and len(in_flight) < PIPELINE_DEPTH:
                batch = source.ask(min(self.config.batch_size, remaining))
                remaining -= len(batch)
                in_flight.append(self._submit(batch))
            self._tell(source, study, in_flight.popleft(), writer)

    def _submit(self, batch: list[AskedTrial]) -> _InFlight:
        runnable = [asked.params for asked in batch if asked.violated is None]
        pending = self.pool.submit(self.symbol, "evaluate_batch", runnable) if runnable else None
        return _InFlight(batch, pending)

    def _tell(self, source: TrialSource, study: optuna.Study, flight: _InFlight, writer: TrialWriter) -> None:
        outcomes = iter(self.pool.gather(flight.pending) if flight.pending else [])
        for asked in sorted(flight.asked, key=lambda a: a.number):
            if asked.violated is not None:
                source.tell(asked, TrialState.PRUNED, None, {"reason": f"constraint violated: {asked.violated}"})
                continue
            state, value, attrs = score(self.config, next(outcomes))
            source.tell(asked, state, value, attrs)
        every_trial = study.get_trials(deepcopy=False)
        finished = [every_trial[asked.number] for asked in sorted(flight.asked, key=lambda a: a.number)]
        writer.put(finished)
        self._note_best(finished)
        self.progress.advance(self.symbol, len(flight.asked), self.best_value)

    def _note_best(self, trials: list[FrozenTrial]) -> None:
        for trial in trials:
            if trial.state == TrialState.COMPLETE and trial.value is not None and (
                self.best_value is None or trial.value > self.best_value
            ):
                self.best_value = trial.value


def count_states(trials: list[FrozenTrial]) -> dict[str, int]:
    """Return how many trials ended in each state, e.g. ``{"COMPLETE": 180, "FAIL": 20}``."""
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts

