"""Bookkeeping for the evaluator actors: which actor holds which symbol, splitting, replacement.

Like Ray's ``ActorPool`` this only keeps books; it knows nothing about Optuna. A batch of parameter
sets is split into contiguous chunks, one per actor, and gathered back in the original order, so the
result of a batch does not depend on how many actors there are. An actor that dies
(``RayActorError``) is replaced by a fresh one, which first loads the symbol's bars, and its chunk is
re-run; a chunk that kills its actor twice is re-run one trial at a time so that only the trial that
kills the process is recorded as failed.

``stream`` is the other way to run work whose chunks do not depend on each other's results (random
and grid search): each actor keeps up to ``depth`` chunks queued and gets the next one the moment one
returns, so a slow actor never leaves the other idle at a batch boundary.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradescan.sweep.evaluator import remote_evaluator_class
from tradescan.sweep.settings import EvaluatorSettings

ACTOR_DIED = "the evaluator process died while running this trial"


@dataclass
class _Slot:
    actor: Any
    generation: int = 0
    symbols: set[str] = field(default_factory=set)


@dataclass
class PendingBatch:
    """A batch sent to the actors: per chunk, the slot, its generation, the trials and the reference."""

    symbol: str
    method: str
    chunks: list[tuple[int, int, list[Mapping[str, Any]], Any]]


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
        settings: backtest settings shared by every actor.
        n_actors: how many actors to keep alive.
    """

    def __init__(self, settings: EvaluatorSettings, n_actors: int) -> None:
        self.settings = settings
        self._payloads: dict[str, Any] = {}
        self._slots = [_Slot(self._new_actor()) for _ in range(max(1, n_actors))]
        self.replacements = 0
        # Several symbols' driver threads share the pool: replacing a dead actor happens once, under a lock.
        self._replace_lock = threading.Lock()
        self.closed = False

    def _new_actor(self) -> Any:
        actor = remote_evaluator_class().remote(self.settings)
        actor.ping.remote()  # start the process and its imports now, not at the first trial
        return actor

    @property
    def size(self) -> int:
        return len(self._slots)

    @property
    def actors(self) -> list[Any]:
        return [slot.actor for slot in self._slots]

    def warm_up(self, symbol: str) -> None:
        """Ask every actor to load its compiled kernels now (does not wait; see ``EvaluatorCore.warm_up``)."""
        for slot in self._slots:
            slot.actor.warm_up.remote(symbol)

    def wait_ready(self) -> list[int]:
        """Block until every actor has started; return their process ids."""
        import ray

        return list(ray.get([slot.actor.ping.remote() for slot in self._slots]))

    # --- symbols ----------------------------------------------------------------------------------

    def add_symbol(self, symbol: str, payload_ref: Any) -> None:
        """Register a symbol's bars (an object-store reference put once by the driver) and load them
        into every actor, waiting so that a session that cannot be built fails here, once.

        Raises:
            ray.exceptions.RayTaskError: building the symbol's session raised in an actor.
        """
        import ray

        self._payloads[symbol] = payload_ref
        loads = [self._ensure_loaded(slot, symbol) for slot in self._slots]
        ray.get([load for load in loads if load is not None])

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
        """Return the outcomes of a submitted batch in the original order, re-running dead actors' work."""
        import ray

        outcomes: list[Any] = []
        for index, generation, chunk, reference in pending.chunks:
            try:
                outcomes += ray.get(reference)
            except ray.exceptions.RayActorError:
                self._replace(index, generation)
                outcomes += self._rerun(pending.symbol, pending.method, index, chunk)
        return outcomes

    def _replace(self, index: int, generation: int) -> None:
        import ray

        with self._replace_lock:
            if self.closed:
                raise PoolClosed("the evaluator pool was shut down (the sweep is stopping)")
            slot = self._slots[index]
            if slot.generation != generation:
                return  # already replaced after an earlier chunk of the same dead actor
            ray.kill(slot.actor, no_restart=True)
            self._slots[index] = _Slot(self._new_actor(), generation + 1)
            self.replacements += 1

    def _call(self, index: int, symbol: str, method: str, chunk: list[Mapping[str, Any]]) -> list[Any]:
        import ray

        slot = self._slots[index]
        self._ensure_loaded(slot, symbol)
        return list(ray.get(getattr(slot.actor, method).remote(symbol, chunk)))

    def _rerun(self, symbol: str, method: str, index: int, chunk: list[Mapping[str, Any]]) -> list[Any]:
        import ray

        try:
            return self._call(index, symbol, method, chunk)
        except ray.exceptions.RayActorError:
            self._replace(index, self._slots[index].generation)
        outcomes: list[Any] = []
        for params in chunk:  # isolate the trial that kills the process
            try:
                outcomes += self._call(index, symbol, method, [params])
            except ray.exceptions.RayActorError:
                self._replace(index, self._slots[index].generation)
                outcomes.append((None, ACTOR_DIED))
        return outcomes

    def stream(
        self, symbol: str, method: str, chunks: Iterable[Sequence[Mapping[str, Any]]], depth: int = 2
    ) -> Iterator[tuple[int, list[Any]]]:
        """Run every chunk on whichever actor is free; yield ``(chunk index, outcomes)`` as they finish.

        ``chunks`` is consumed lazily, one chunk per free place in an actor's queue, so the caller may
        draw parameters as they are needed. An empty chunk is yielded back at once without a call.
        """
        import ray

        source = enumerate(chunks)
        running: dict[Any, tuple[int, int, int, list[Mapping[str, Any]]]] = {}
        queued = [0] * self.size
        ready_now: list[tuple[int, list[Any]]] = []

        def refill(index: int) -> None:
            while queued[index] < depth:
                item = next(source, None)
                if item is None:
                    return
                number, chunk = item
                if not chunk:
                    ready_now.append((number, []))
                    continue
                slot = self._slots[index]
                self._ensure_loaded(slot, symbol)
                reference = getattr(slot.actor, method).remote(symbol, list(chunk))
                running[reference] = (number, index, slot.generation, list(chunk))
                queued[index] += 1

        for index in range(self.size):
            refill(index)
        while running or ready_now:
            while ready_now:
                yield ready_now.pop(0)
            if not running:
                break
            finished, _ = ray.wait(list(running), num_returns=1)
            number, index, generation, chunk = running.pop(finished[0])
            queued[index] -= 1
            try:
                outcomes = list(ray.get(finished[0]))
            except ray.exceptions.RayActorError:
                self._replace(index, generation)
                outcomes = self._rerun(symbol, method, index, chunk)
            refill(index)  # before the caller's work, so the actor stays busy meanwhile
            yield number, outcomes

    def map(self, symbol: str, method: str, params_list: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Submit and gather in one call."""
        return self.gather(self.submit(symbol, method, params_list))

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
