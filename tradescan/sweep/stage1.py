"""Stage 1 of one symbol: propose parameter sets, backtest them on the actors, record them in order.

Two loops, because the samplers differ in what the next proposal depends on:

* TPE (``_run_tpe``) keeps two batches in flight (the sampler proposes batch k+1 while the actors run
  batch k) and tells each batch back in trial-number order once all of it returned. Batch size and
  pipeline depth come from the directive and this module, never from the number of workers, so the
  sequence of asks and tells, and so every trial, is the same on 1 worker or 100. The sampler is a
  ``tradescan.sweep.sampler`` client: in the sweep a process of its own (so that symbols sample side
  by side), in the driver's thread when none is given (the reference); both see the same sequence.
* Random and grid (``_run_planned``) know every trial's parameters from its number, so no Optuna study
  is involved: chunks stream to whichever actor is free (``EvaluatorPool.stream``), finished chunks are
  scored as they return and handed to the writer in trial-number order (so the stored trials are
  always a prefix, which is what resuming relies on).

Outcomes map explicitly onto Optuna states in one place, ``trial_state`` (Ray's Optuna adapter habit):

* a constraint is broken        -> PRUNED, not evaluated, the constraint in the user attribute ``reason``
* the pool lost the trial       -> FAIL, ``error`` = why (its actor died on it again when re-run, or it ran past
                                   ``trial_timeout_s``: "exceeded the 300 s trial time limit")
* the backtest raised           -> FAIL, ``error`` = the error text; this includes a strategy whose
                                   output is "no usable signal" (``tradescan.sweep.usable_signals``)
* the objective is not finite   -> FAIL, ``error`` = "ObjectiveError: ..."
* metrics returned              -> COMPLETE with the stage-1 value (objective minus the min-trades
                                   penalty); a strategy that never trades is COMPLETE with 0 trades and
                                   the full penalty, not a FAIL
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from tradescan.jsonsafe import json_safe
from tradescan.search_space import SearchSpace
from tradescan.sweep.grid import plan_grid
from tradescan.sweep.objectives import Objective, ObjectiveError, stage1_value
from tradescan.sweep.pool import EvaluatorPool, PendingBatch, TrialLost
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.sampler import InDriverSampler, SamplerClient, Told
from tradescan.sweep.sources import AskedTrial, GridSource, PlannedSource, RandomSource, finished_trial
from tradescan.sweep.storage import TrialWriter, finished_trials

# TPE batches in flight at once: 2 overlaps sampling with backtesting; fixed so results never depend on it.
PIPELINE_DEPTH = 2
# Chunks queued per actor for random and grid: one running, one waiting, so an actor never waits for the driver.
STREAM_DEPTH = 2
# Random and grid chunks shrink as the trials left do ("guided" scheduling): each is the trials not yet
# sent over (actors x GUIDED_SPLIT), between the directive's chunk (batch_size / actors) and
# MAX_CHUNK_TRIALS. Every chunk costs the driver ~5 ms of CPU and the actor a round trip (measured at
# 100k bars, 2 workers: chunks of 16 ran 800 trials at ~60 % of the compute limit, of 128 at ~100 %);
# the small last chunks let the actors finish together. Sizes depend on counts only, never on timing.
GUIDED_SPLIT = 2
MAX_CHUNK_TRIALS = 256  # bounds a chunk's returned daily returns (256 x 4 bytes x days) and its re-run on a crash


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
class Stage1Result:
    """The finished trials of one symbol (resumed ones first) and counts for the manifest."""

    trials: list[FrozenTrial]
    resumed: int
    ran: int
    seconds: float
    grid_removed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    # trial number -> daily returns (float32) of every COMPLETE trial run by this call (not the resumed)
    returns: dict[int, np.ndarray] = field(default_factory=dict)


# --- scoring ------------------------------------------------------------------------------------------


Scored = tuple[TrialState, float | None, dict[str, Any]]


def trial_state(config: Stage1Config, asked: AskedTrial, outcome: Any) -> Scored:
    """Return (state, value, user attributes) of one proposed trial: the one place a state is decided.

    ``outcome`` is what the pool returned for the trial (``None`` when it was never sent because it
    breaks a constraint).
    """
    if asked.violated is not None:
        return TrialState.PRUNED, None, {"reason": f"constraint violated: {asked.violated}"}
    return score(config, outcome)


def score(config: Stage1Config, outcome: tuple[Any, ...] | TrialLost) -> Scored:
    """Turn the pool's result ``(metrics, error[, daily returns])`` for an evaluated trial into (state,
    value, user attributes)."""
    if isinstance(outcome, TrialLost):
        return TrialState.FAIL, None, {"error": outcome.reason}
    metrics, error = outcome[0], outcome[1]
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
    ask: Any  # the sampler's reply to the ask (a Ray reference when the sampler is a process)
    asked: list[AskedTrial] | None = None
    pending: PendingBatch | None = None


class Stage1Runner:
    """Runs stage 1 of one symbol: propose, evaluate, score, write, repeat.

    ``sampler`` (TPE only) is where the proposals come from: a ``SamplerProcess`` lent by the sweep's
    ``SamplerPool``, or ``None`` for sampling in this thread (``InDriverSampler``).
    """

    def __init__(
        self,
        symbol: str,
        config: Stage1Config,
        space: SearchSpace,
        pool: EvaluatorPool,
        rdb_study: optuna.Study,
        progress: NullProgress | None = None,
        sampler: SamplerClient | None = None,
    ) -> None:
        self.symbol = symbol
        self.config = config
        self.space = space
        self.pool = pool
        self.rdb_study = rdb_study
        self.progress = progress or NullProgress()
        # TPE only: the sweep lends a sampler process; without one the driver's thread samples.
        self.sampler: SamplerClient = sampler if sampler is not None else InDriverSampler()
        self.best_value: float | None = None
        self.returns: dict[int, np.ndarray] = {}

    def run(self) -> Stage1Result:
        """Run the remaining trials and return every finished trial of the symbol."""
        started = time.perf_counter()
        total, grid_removed, grid_points = self._plan()
        # The budget is not part of the run id: a smaller budget than what is stored runs on the first
        # ``total`` trials (exactly what a run of that budget gives), a larger one extends the study.
        resumed = finished_trials(self.rdb_study)[:total]
        self._note_best(resumed)
        self.progress.start_symbol(self.symbol, total, len(resumed))
        remaining = max(0, total - len(resumed))
        writer = TrialWriter(self.rdb_study)
        try:
            if self.config.sampler == "tpe":
                trials = self._run_tpe(resumed, remaining, writer)
            else:
                trials = self._run_planned(self._planned_source(len(resumed), grid_points), resumed, remaining, writer)
        finally:
            writer.close()
        return Stage1Result(trials, len(resumed), len(trials) - len(resumed), time.perf_counter() - started,
                            grid_removed, count_states(trials), self.returns)

    def _keep_returns(self, number: int, state: TrialState, outcome: tuple[Any, ...] | TrialLost | None) -> None:
        if state == TrialState.COMPLETE and isinstance(outcome, tuple) and len(outcome) > 2 and outcome[2] is not None:
            self.returns[number] = outcome[2]

    def _plan(self) -> tuple[int, int, list[dict[str, Any]]]:
        if self.config.sampler != "grid":
            return self.config.trials, 0, []
        grid = plan_grid(self.space, str(self.config.preset), self.config.trials)
        return len(grid.points), grid.removed_by_constraints, grid.points

    def _planned_source(self, n_done: int, grid_points: list[dict[str, Any]]) -> PlannedSource:
        if self.config.sampler == "grid":
            return GridSource(self.space, grid_points, n_done)
        return RandomSource(self.space, self.config.seed, self.symbol, n_done)

    # --- random and grid: stream chunks, write in order ------------------------------------------

    def _run_planned(
        self, source: PlannedSource, resumed: list[FrozenTrial], remaining: int, writer: TrialWriter
    ) -> list[FrozenTrial]:
        trials = list(resumed)
        chunks: dict[int, tuple[list[AskedTrial], dt.datetime]] = {}
        done: dict[int, list[FrozenTrial]] = {}
        next_to_write = 0
        sizes = planned_chunk_sizes(remaining, self.pool.size, self.config.batch_size)

        def runnable_chunks() -> Iterator[list[dict[str, Any]]]:
            for index, size in enumerate(sizes):
                asked = source.ask(size)
                chunks[index] = (asked, dt.datetime.now())
                yield [a.params for a in asked if a.violated is None]

        for index, outcomes in self.pool.stream(self.symbol, "evaluate_batch", runnable_chunks(), STREAM_DEPTH):
            asked, submitted = chunks.pop(index)
            done[index] = self._finish_chunk(source, asked, outcomes, submitted)
            while next_to_write in done:
                finished = done.pop(next_to_write)
                next_to_write += 1
                writer.put(finished)
                trials += finished
                self._note_best(finished)
                self.progress.advance(self.symbol, len(finished), self.best_value)
        return trials

    def _finish_chunk(
        self, source: PlannedSource, asked: list[AskedTrial], outcomes: list[Any], submitted: dt.datetime
    ) -> list[FrozenTrial]:
        completed = dt.datetime.now()
        results = iter(outcomes)
        finished = []
        for trial in asked:
            raw = None if trial.violated is not None else next(results)
            outcome = trial_state(self.config, trial, raw)
            self._keep_returns(trial.number, outcome[0], raw)
            outcome[2].update(source.attrs(trial))
            finished.append(finished_trial(trial, source.distributions, outcome, submitted, completed))
        return finished

    # --- TPE: batches asked and told in a fixed order ---------------------------------------------

    def _run_tpe(self, resumed: list[FrozenTrial], remaining: int, writer: TrialWriter) -> list[FrozenTrial]:
        # The sampler's calls are ask 0, ask 1, tell 0, ask 2, tell 1, ... whatever the timing. A sampler
        # process queues them, so tell k and ask k+2 are sent before waiting for ask k+1: it never idles.
        sampler = self.sampler
        sampler.start(self.symbol, self.config.seed, self.space, resumed)
        trials = list(resumed)
        in_flight: deque[_InFlight] = deque()
        remaining = self._ask_ahead(in_flight, remaining)
        while in_flight:
            self._submit_ready(in_flight)
            told = self._outcomes(in_flight.popleft())
            reply = sampler.tell(told)
            remaining = self._ask_ahead(in_flight, remaining)
            finished: list[FrozenTrial] = sampler.result(reply)
            self._submit_ready(in_flight)  # the proposal that came back before the tell goes out first
            writer.put(finished)
            trials += finished
            self._note_best(finished)
            self.progress.advance(self.symbol, len(finished), self.best_value)
        return trials

    def _ask_ahead(self, in_flight: deque[_InFlight], remaining: int) -> int:
        while remaining > 0 and len(in_flight) < PIPELINE_DEPTH:
            n_trials = min(self.config.batch_size, remaining)
            in_flight.append(_InFlight(self.sampler.ask(n_trials)))
            remaining -= n_trials
        return remaining

    def _submit_ready(self, in_flight: deque[_InFlight]) -> None:
        """Send every batch whose proposals have arrived to the actors, in asking order."""
        for flight in in_flight:
            if flight.asked is None:
                if not self.sampler.ready(flight.ask):
                    return
                self._submit(flight)

    def _submit(self, flight: _InFlight) -> None:
        flight.asked = list(self.sampler.result(flight.ask))
        runnable = [asked.params for asked in flight.asked if asked.violated is None]
        flight.pending = self.pool.submit(self.symbol, "evaluate_batch", runnable) if runnable else None

    def _outcomes(self, flight: _InFlight) -> list[Told]:
        """Wait for a batch's results and score them, in trial-number order."""
        if flight.asked is None:
            self._submit(flight)
        assert flight.asked is not None
        outcomes = iter(self.pool.gather(flight.pending) if flight.pending else [])
        told = []
        for asked in sorted(flight.asked, key=lambda a: a.number):
            raw = None if asked.violated is not None else next(outcomes)
            state, value, attrs = trial_state(self.config, asked, raw)
            self._keep_returns(asked.number, state, raw)
            told.append(Told(asked.number, state, value, attrs))
        return told

    def _note_best(self, trials: list[FrozenTrial]) -> None:
        for trial in trials:
            if trial.state == TrialState.COMPLETE and trial.value is not None and (
                self.best_value is None or trial.value > self.best_value
            ):
                self.best_value = trial.value


def planned_chunk_sizes(n_trials: int, n_actors: int, batch_size: int) -> list[int]:
    """Return the sizes of the chunks ``n_trials`` random or grid trials are streamed in, in order.

    Each chunk is the trials left over ``n_actors * GUIDED_SPLIT``, at least ``batch_size / n_actors``
    (the last one may be smaller) and at most ``MAX_CHUNK_TRIALS``; e.g. 800 trials on 2 actors with
    batch size 32: 200, 150, 113, 85, 63, 48, 36, 27, 20, 16, 16, 16, 10.
    """
    floor = max(1, math.ceil(batch_size / max(1, n_actors)))
    sizes, left = [], n_trials
    while left > 0:
        size = min(left, max(floor, min(MAX_CHUNK_TRIALS, math.ceil(left / (max(1, n_actors) * GUIDED_SPLIT)))))
        sizes.append(size)
        left -= size
    return sizes


def count_states(trials: list[FrozenTrial]) -> dict[str, int]:
    """Return how many trials ended in each state, e.g. ``{"COMPLETE": 180, "FAIL": 20}``."""
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts

