"""Bookkeeping for the evaluator actors: which actor holds which symbol, splitting, replacement, time limits.

Like Ray's ``ActorPool`` this only keeps books; it knows nothing about Optuna and builds no trial
outcome. A batch of parameter sets is split into contiguous chunks, one per actor, and gathered back in
the original order, so the result of a batch does not depend on how many actors there are. A trial the
pool cannot get a result for comes back as a ``TrialLost`` with the reason; the stage that asked maps
it to a state (stage 1: FAIL).

Two faults are handled, both by killing and replacing the actor (the fresh one first loads the
symbol's bars) and narrowing the chunk down to the trial at fault:

* **the actor dies** (``RayActorError``): its chunk is re-run once; a chunk that kills its actor
  again is re-run one trial at a time, so only the trial that kills the process is lost.
* **the chunk runs too long** (``trial_timeout_s``): a chunk of ``n`` trials may take the limit plus
  ``n`` × ``CHUNK_SLACK`` × the slowest seconds per trial seen so far in a finished chunk of the same
  symbol and call (at least ``MIN_TRIAL_ALLOWANCE_S`` per trial), and never more than ``n`` × the
  limit, which is also the bound until such a chunk has finished. So a stuck trial in a chunk of 256
  quick ones is found in about the limit, not 256 × it. The time counts from when the driver starts
  waiting for the chunk (by then the actor is working on it, so the bound is never tighter than the
  chunk's own run). Past that, the actor is killed and the chunk re-run one trial at a time, each with
  the full limit counted from when the fresh actor is ready, so only a trial that alone exceeds the
  limit is lost, with the reason ``exceeded the N s trial time limit``; a chunk cut early by mistake
  (much slower than every chunk before it) costs time only, never a result.

``stream`` is the other way to run work whose chunks do not depend on each other's results (random
and grid search): each actor keeps up to ``depth`` chunks queued and gets the next one the moment one
returns, so a slow actor never leaves the other idle at a batch boundary.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradescan.errors import TradeScanError
from tradescan.sweep.evaluator import remote_evaluator_class
from tradescan.sweep.settings import EvaluatorSettings

ACTOR_DIED = "the evaluator process died while running this trial"
# A chunk's time bound (see the module docstring): the limit + n x CHUNK_SLACK x the slowest seconds per
# trial seen for the symbol and call, with at least MIN_TRIAL_ALLOWANCE_S per trial.
CHUNK_SLACK = 10.0
MIN_TRIAL_ALLOWANCE_S = 1.0
# A replacement actor must start and load its bars within this, or the sweep of the symbol stops.
ACTOR_START_TIMEOUT_S = 600.0


def time_limit_text(limit_s: float) -> str:
    """Return the reason recorded for a trial that ran past the limit, e.g. ``exceeded the 300 s trial time limit``."""
    return f"exceeded the {limit_s:g} s trial time limit"


@dataclass(frozen=True)
class TrialLost:
    """A trial the pool could not get a result for; ``reason`` says why (``ACTOR_DIED`` or the time limit)."""

    reason: str


class _ActorDied(Exception):
    pass


class _TimedOut(Exception):
    pass


@dataclass
class _Slot:
    actor: Any
    generation: int = 0
    symbols: set[str] = field(default_factory=set)
    started: Any = None  # the first ping's reference until someone has waited for it


@dataclass
class PendingBatch:
    """A batch sent to the actors: per chunk, the slot, its generation, the trials and the reference."""

    symbol: str
    method: str
    chunks: list[tuple[int, int, list[Mapping[str, Any]], Any]]


@dataclass
class _Running:
    number: int
    index: int
    generation: int
    chunk: list[Mapping[str, Any]]
    n_trials: int


Weigh = Callable[[Sequence[Mapping[str, Any]]], int]  # the trials a chunk stands for (its time bound)


class PoolClosed(RuntimeError):
    """A symbol's thread asked a pool that the stopping sweep has shut down for work."""


def split_evenly(items: Sequence[Any], n_parts: int) -> list[list[Any]]:
    """Split ``items`` into at most ``n_parts`` contiguous, non-empty chunks of near-equal size."""
    if not items:
        return []
    size = math.ceil(len(items) / max(1, n_parts))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class EvaluatorPool:
    """A fixed number of evaluator actors (one CPU each) with their symbols' bars loaded on demand.

    Args:
        settings: backtest settings shared by every actor (passed to the actor class).
        n_actors: how many actors to keep alive.
        trial_timeout_s: wall-clock limit of one trial in seconds (``None`` = no limit).
        actor_class: the Ray actor class (default: ``EvaluatorCore`` as a one-CPU actor); the tests
            pass a stand-in that dies or hangs on purpose.
        actor_start_timeout_s: how long a fresh actor may take to start and load a symbol's bars.
    """

    def __init__(
        self,
        settings: EvaluatorSettings,
        n_actors: int,
        *,
        trial_timeout_s: float | None = None,
        actor_class: Any = None,
        actor_start_timeout_s: float = ACTOR_START_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.trial_timeout_s = trial_timeout_s
        # (symbol, method) -> the slowest seconds per trial of a chunk that finished within its bound
        self._seconds_per_trial: dict[tuple[str, str], float] = {}
        self._seconds_lock = threading.Lock()
        self.actor_start_timeout_s = actor_start_timeout_s
        self._actor_class = actor_class
        self._payloads: dict[str, Any] = {}
        self._slots = [self._new_slot() for _ in range(max(1, n_actors))]
        self.replacements = 0
        # Several symbols' driver threads share the pool: replacing a dead actor happens once, under a lock.
        self._replace_lock = threading.Lock()
        self.closed = False

    def _new_slot(self, generation: int = 0) -> _Slot:
        actor_class = self._actor_class if self._actor_class is not None else remote_evaluator_class()
        actor = actor_class.remote(self.settings)
        # start the process and its imports now, not at the first trial
        return _Slot(actor, generation, started=actor.ping.remote())

    @property
    def size(self) -> int:
        return len(self._slots)

    @property
    def actors(self) -> list[Any]:
        return [slot.actor for slot in self._slots]

    def warm_up(self, symbol: str, guards: bool = False) -> None:
        """Ask every actor to load its compiled kernels (and with ``guards`` the guard stage's bootstrap
        library) now; does not wait (see ``EvaluatorCore.warm_up``)."""
        for slot in self._slots:
            slot.actor.warm_up.remote(symbol, guards)

    def wait_ready(self) -> list[int]:
        """Block until every actor has started; return their process ids."""
        import ray

        return list(ray.get([slot.actor.ping.remote() for slot in self._slots]))

    # --- symbols ----------------------------------------------------------------------------------

    def add_symbol(self, symbol: str, payload_ref: Any) -> None:
        """Register a symbol's bars (an object-store reference put once by the driver) and load them
        into every actor, waiting so that a session that cannot be built fails here, once.

        An actor still busy after the start allowance plus one trial's limit (its queued ``warm_up``
        runs the strategy, which may hang) is replaced, and the fresh one loads the bars.

        Raises:
            ray.exceptions.RayTaskError: building the symbol's session raised in an actor.
        """
        import ray

        self._payloads[symbol] = payload_ref
        loads = {index: self._ensure_loaded(slot, symbol) for index, slot in enumerate(self._slots)}
        waiting = [load for load in loads.values() if load is not None]
        patience_s = self.actor_start_timeout_s + (self.trial_timeout_s or 0.0)
        done, _ = ray.wait(waiting, num_returns=len(waiting), timeout=patience_s) if waiting else ([], [])
        ray.get(done)
        loaded = set(done)
        for index, load in loads.items():
            if load is not None and load not in loaded:
                self._replace(index, self._slots[index].generation)
                try:
                    self._wait_until_ready(index, symbol)
                except _ActorDied:
                    raise TradeScanError(f"an evaluator actor died while loading the bars of {symbol}") from None

    def release_symbol(self, symbol: str) -> None:
        """Drop a symbol from every actor and forget its reference (frees the object store)."""
        for slot in self._slots:
            if symbol in slot.symbols:
                slot.actor.drop_symbol.remote(symbol)
                slot.symbols.discard(symbol)
        self._payloads.pop(symbol, None)

    def _ensure_loaded(self, slot: _Slot, symbol: str) -> Any:
        if symbol in slot.symbols:
            return None
        # Ray resolves a top-level reference argument: the actor gets the arrays zero-copy.
        slot.symbols.add(symbol)
        return slot.actor.load_symbol.remote(symbol, self._payloads[symbol])

    def _wait_until_ready(self, index: int, symbol: str) -> None:
        """Wait (without the trial limit) until the actor has started and holds ``symbol``'s bars."""
        import ray

        slot = self._slots[index]
        waits = [ref for ref in (slot.started, self._ensure_loaded(slot, symbol)) if ref is not None]
        try:
            ray.get(waits, timeout=self.actor_start_timeout_s)
        except ray.exceptions.RayActorError:
            raise _ActorDied from None
        except ray.exceptions.GetTimeoutError:
            raise TradeScanError(
                f"an evaluator actor did not start and load {symbol} within {self.actor_start_timeout_s:g} s"
            ) from None
        slot.started = None

    # --- batches ----------------------------------------------------------------------------------

    def submit(self, symbol: str, method: str, params_list: Sequence[Mapping[str, Any]]) -> PendingBatch:
        """Send ``params_list`` split across the actors; return a handle for ``gather``."""
        chunks = []
        for index, chunk in enumerate(split_evenly(params_list, self.size)):
            slot = self._slots[index]
            self._ensure_loaded(slot, symbol)
            reference = getattr(slot.actor, method).remote(symbol, chunk)
            chunks.append((index, slot.generation, chunk, reference))
        return PendingBatch(symbol, method, chunks)

    def gather(self, pending: PendingBatch) -> list[Any]:
        """Return the results of a submitted batch in the original order (``TrialLost`` where none).

        Every chunk's wait is bounded by its number of trials × the time limit, counted from now: the
        chunks run side by side on different actors, each already started by the time its batch is
        gathered (the batch before it has returned).
        """
        waiting_since = time.monotonic()
        results: list[Any] = []
        for index, generation, chunk, reference in pending.chunks:
            try:
                budget = self._budget_s(len(chunk), pending.symbol, pending.method)
                results += self._get(reference, waiting_since + budget)
                self._note_seconds(pending.symbol, pending.method, len(chunk), time.monotonic() - waiting_since)
            except _ActorDied:
                self._replace(index, generation)
                results += self._rerun(pending.symbol, pending.method, index, chunk)
            except _TimedOut:
                self._replace(index, generation)
                results += self._one_by_one(pending.symbol, pending.method, index, chunk)
        return results

    def map(self, symbol: str, method: str, params_list: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Submit and gather in one call."""
        return self.gather(self.submit(symbol, method, params_list))

    def _budget_s(self, n_trials: int, symbol: str = "", method: str = "") -> float:
        """Seconds a chunk of ``n_trials`` may run (module docstring: "the chunk runs too long")."""
        if self.trial_timeout_s is None:
            return math.inf
        full = n_trials * self.trial_timeout_s
        seen = self._seconds_per_trial.get((symbol, method))
        if seen is None or n_trials <= 1:
            return full
        return min(full, self.trial_timeout_s + n_trials * max(CHUNK_SLACK * seen, MIN_TRIAL_ALLOWANCE_S))

    def _note_seconds(self, symbol: str, method: str, n_trials: int, seconds: float) -> None:
        """Remember the slowest seconds per trial of a chunk that came back within its bound."""
        if n_trials < 1:
            return
        with self._seconds_lock:
            key = (symbol, method)
            self._seconds_per_trial[key] = max(self._seconds_per_trial.get(key, 0.0), seconds / n_trials)

    def _get(self, reference: Any, deadline: float) -> list[Any]:
        import ray

        timeout = None if math.isinf(deadline) else max(0.0, deadline - time.monotonic())
        try:
            return list(ray.get(reference, timeout=timeout))
        except ray.exceptions.RayActorError:
            raise _ActorDied from None
        except ray.exceptions.GetTimeoutError:
            raise _TimedOut from None

    def _replace(self, index: int, generation: int) -> None:
        import ray

        with self._replace_lock:
            if self.closed:
                raise PoolClosed("the evaluator pool was shut down (the sweep is stopping)")
            slot = self._slots[index]
            if slot.generation != generation:
                return  # already replaced after an earlier chunk of the same dead actor
            ray.kill(slot.actor, no_restart=True)
            self._slots[index] = self._new_slot(generation + 1)
            self.replacements += 1

    def _call(
        self, index: int, symbol: str, method: str, chunk: list[Mapping[str, Any]], weigh: Weigh = len
    ) -> list[Any]:
        """Run ``chunk`` on a ready actor, its limit counted from the call (startup is not a trial's time)."""
        self._wait_until_ready(index, symbol)
        reference = getattr(self._slots[index].actor, method).remote(symbol, chunk)
        return self._get(reference, time.monotonic() + self._budget_s(weigh(chunk), symbol, method))

    def _rerun(
        self, symbol: str, method: str, index: int, chunk: list[Mapping[str, Any]], weigh: Weigh = len
    ) -> list[Any]:
        """Re-run the chunk of an actor that died; if it dies again, isolate its trials one by one."""
        try:
            return self._call(index, symbol, method, chunk, weigh)
        except (_ActorDied, _TimedOut):
            self._replace(index, self._slots[index].generation)
        return self._one_by_one(symbol, method, index, chunk, weigh)

    def _one_by_one(
        self, symbol: str, method: str, index: int, chunk: list[Mapping[str, Any]], weigh: Weigh = len
    ) -> list[Any]:
        """Run each entry alone, so only the one that kills the actor or exceeds the limit is lost."""
        results: list[Any] = []
        for params in chunk:
            try:
                results += self._call(index, symbol, method, [params], weigh)
            except _ActorDied:
                self._replace(index, self._slots[index].generation)
                results.append(TrialLost(ACTOR_DIED))
            except _TimedOut:
                self._replace(index, self._slots[index].generation)
                results.append(TrialLost(time_limit_text(float(self.trial_timeout_s or 0.0))))
        return results

    # --- streaming --------------------------------------------------------------------------------

    def stream(
        self, symbol: str, method: str, chunks: Iterable[Sequence[Mapping[str, Any]] | None], depth: int = 2,
        weigh: Weigh = len,
    ) -> Iterator[tuple[int, list[Any]]]:
        """Run every chunk on whichever actor is free; yield ``(chunk index, results)`` as they finish.

        ``chunks`` is consumed lazily, one chunk per free place in an actor's queue, so the caller may
        draw parameters as they are needed. An empty chunk is yielded back at once without a call. A
        ``None`` chunk means "nothing can be run yet" (e.g. a search whose next asks wait for its tells):
        it takes an index but no place, and the source is asked again after the next result has been
        handed to the caller. The source is also asked again after every result the caller has taken,
        so work a result makes possible starts at once on every actor with a free place. The chunk at
        the head of an actor's queue may run its number of trials × the time limit, counted from when
        the chunk before it returned. ``weigh(chunk)`` is that number of trials (default: one per
        entry; an entry that is a whole search stands for all of its trials).

        Raises:
            RuntimeError: the source still says "nothing yet" when nothing is running (it would wait forever).
        """
        import ray

        source = enumerate(chunks)
        running: dict[Any, _Running] = {}
        queues: list[deque[Any]] = [deque() for _ in range(self.size)]
        head_since = [0.0] * self.size
        ready_now: list[tuple[int, list[Any]]] = []

        waiting = False  # the source's last answer was "nothing yet"

        def refill(index: int) -> bool:
            """Fill actor ``index``'s queue; return False when the source has nothing (yet, or at all)."""
            nonlocal waiting
            while len(queues[index]) < depth:
                item = next(source, None)
                waiting = item is not None and item[1] is None
                if item is None or item[1] is None:
                    return False
                number, chunk = item
                if not chunk:
                    ready_now.append((number, []))
                    continue
                slot = self._slots[index]
                self._ensure_loaded(slot, symbol)
                reference = getattr(slot.actor, method).remote(symbol, list(chunk))
                running[reference] = _Running(number, index, slot.generation, list(chunk), weigh(chunk))
                if not queues[index]:
                    head_since[index] = time.monotonic()
                queues[index].append(reference)
            return True

        def refill_all() -> None:
            for index in range(self.size):
                if not refill(index):
                    return

        def finish(reference: Any) -> _Running:
            job = running.pop(reference)
            queues[job.index].remove(reference)
            head_since[job.index] = time.monotonic()
            return job

        refill_all()
        while running or ready_now or waiting:
            while ready_now:
                yield ready_now.pop(0)
                refill_all()
            if not running:
                if waiting:
                    refill_all()  # the caller has taken every result; ask once more
                    if not running and not ready_now and waiting:
                        raise RuntimeError("the chunk source has nothing to run while nothing is running")
                continue
            finished, _ = ray.wait(list(running), num_returns=1,
                                   timeout=self._next_deadline_s(queues, head_since, running, symbol, method))
            if not finished:  # an actor's head chunk is past its limit
                reference = self._overdue(queues, head_since, running, symbol, method)
                job = finish(reference)
                self._replace(job.index, job.generation)
                results = self._one_by_one(symbol, method, job.index, job.chunk, weigh)
            else:
                started = head_since[self._index_of(finished[0], running)]
                job = finish(finished[0])
                try:
                    results = self._get(finished[0], math.inf)
                    self._note_seconds(symbol, method, job.n_trials, time.monotonic() - started)
                except _ActorDied:
                    self._replace(job.index, job.generation)
                    results = self._rerun(symbol, method, job.index, job.chunk, weigh)
            refill(job.index)  # before the caller's work, so the actor stays busy meanwhile
            yield job.number, results
            refill_all()  # what the caller's work made possible, on every actor with a free place

    @staticmethod
    def _index_of(reference: Any, running: dict[Any, _Running]) -> int:
        return running[reference].index

    def _head_deadlines(
        self, queues: list[deque[Any]], head_since: list[float], running: dict[Any, _Running], symbol: str,
        method: str,
    ) -> list[tuple[float, Any]]:
        return [(head_since[index] + self._budget_s(running[queue[0]].n_trials, symbol, method), queue[0])
                for index, queue in enumerate(queues) if queue]

    def _next_deadline_s(
        self, queues: list[deque[Any]], head_since: list[float], running: dict[Any, _Running], symbol: str,
        method: str,
    ) -> float | None:
        if self.trial_timeout_s is None:
            return None
        earliest = min(deadline for deadline, _ in self._head_deadlines(queues, head_since, running, symbol, method))
        return max(0.0, earliest - time.monotonic())

    def _overdue(
        self, queues: list[deque[Any]], head_since: list[float], running: dict[Any, _Running], symbol: str,
        method: str,
    ) -> Any:
        return min(self._head_deadlines(queues, head_since, running, symbol, method), key=lambda pair: pair[0])[1]

    def call_all(self, method: str, *args: Any) -> list[Any]:
        """Call ``method`` on every actor and return the results in actor order."""
        import ray

        return list(ray.get([getattr(slot.actor, method).remote(*args) for slot in self._slots]))

    def shutdown(self) -> None:
        """Kill every actor (the Ray runtime itself is left alone)."""
        import ray

        with self._replace_lock:
            self.closed = True
            for slot in self._slots:
                ray.kill(slot.actor, no_restart=True)
