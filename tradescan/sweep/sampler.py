"""Each symbol's TPE sampler in a process of its own (a Ray actor), so that symbols sample side by side.

TPE's ask costs about 6 ms of CPU per trial and holds the GIL: as driver threads, the samplers of the
symbols swept at once took turns on one core, and the symbols' throughput added up to one sampler's.
``TpeSamplerCore`` holds one symbol's in-memory study (``TPESampler(seed, constant_liar=True)``, the
resumed trials added first) and checks each proposal against the search space's constraints;
``SamplerPool`` keeps ``max_parallel_symbols`` of them as Ray actors (``num_cpus=0``, so they take no
evaluator's CPU; pinned to the driver's node), started with the evaluators and lent to one symbol at
a time. A symbol's driver thread only sends asks and tells and waits on their replies (the GIL is
free while it waits); it scores, dispatches and hands the finished trials to the writer.

A Ray actor runs one caller's calls in the order they were sent, so the sequence of asks and tells,
and so every trial, is the one of ``InDriverSampler`` (the same core called in the driver's thread:
the reference the tests and benchmarks compare against). A sampler process that dies fails its
symbol with ``SamplerDied`` (the manifest records why; the other symbols go on) and the pool starts a
fresh process for the next symbol; nothing falls back to sampling in the driver.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import optuna
from optuna.trial import FrozenTrial, TrialState

from tradescan.errors import TradeScanError
from tradescan.search_space import SearchSpace
from tradescan.sweep.sources import AskedTrial, OptunaSource


class SamplerDied(TradeScanError):
    """The process of a symbol's TPE sampler died; that symbol's sweep stops, the others go on."""


@dataclass(frozen=True)
class Told:
    """The outcome of one asked trial, as the sampler is told it."""

    number: int
    state: TrialState
    value: float | None
    attrs: dict[str, Any]


def memory_study(seed: int, resumed: Sequence[FrozenTrial]) -> optuna.Study:
    """Return an in-memory study (TPE with a constant liar for batches) seeded with the stored trials."""
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trials(resumed)
    return study


class TpeSamplerCore:
    """One symbol's TPE study at a time: ``start``, then ``ask`` and ``tell`` batches.

    Plain Python, so that it runs in the driver too (``InDriverSampler``); ``SamplerPool`` runs it
    as a Ray actor.
    """

    def __init__(self) -> None:
        self.symbol: str | None = None
        self._source: OptunaSource | None = None
        self._handles: dict[int, Any] = {}

    def ping(self) -> int:
        """Return the process id (the first call also waits for the process to start)."""
        return os.getpid()

    def start(self, symbol: str, seed: int, space: SearchSpace, resumed: Sequence[FrozenTrial]) -> int:
        """Begin ``symbol``'s study (dropping any previous one) with the resumed trials; return their number."""
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        self.symbol = symbol
        self._source = OptunaSource(memory_study(seed, resumed), space)
        self._handles = {}
        return len(resumed)

    def ask(self, n_trials: int) -> list[AskedTrial]:
        """Propose ``n_trials`` parameter sets (each with the constraint it breaks, if any)."""
        asked = self._started().ask(n_trials)
        self._handles.update((trial.number, trial.handle) for trial in asked)
        return [AskedTrial(trial.number, trial.params, None, trial.violated) for trial in asked]

    def tell(self, told: Sequence[Told]) -> list[FrozenTrial]:
        """Tell outcomes in the order given; return the finished trials in that order."""
        source = self._started()
        for outcome in told:
            handle = self._handles.pop(outcome.number)
            source.tell(AskedTrial(outcome.number, {}, handle), outcome.state, outcome.value, outcome.attrs)
        every_trial = source.study.get_trials(deepcopy=False)
        return [every_trial[outcome.number] for outcome in told]

    def _started(self) -> OptunaSource:
        if self._source is None:
            raise RuntimeError("TpeSamplerCore.start comes before ask and tell")
        return self._source


class SamplerClient(Protocol):
    """What stage 1 calls: requests return a reply at once, ``result`` waits for what it holds and
    ``ready`` says whether it would wait."""

    def start(self, symbol: str, seed: int, space: SearchSpace, resumed: Sequence[FrozenTrial]) -> None: ...

    def ask(self, n_trials: int) -> Any: ...

    def tell(self, told: Sequence[Told]) -> Any: ...

    def ready(self, reply: Any) -> bool: ...

    def result(self, reply: Any) -> Any: ...


class InDriverSampler:
    """The core called in the driver's thread: each request is answered at once (the reference path)."""

    def __init__(self) -> None:
        self.core = TpeSamplerCore()

    def start(self, symbol: str, seed: int, space: SearchSpace, resumed: Sequence[FrozenTrial]) -> None:
        self.core.start(symbol, seed, space, resumed)

    def ask(self, n_trials: int) -> list[AskedTrial]:
        return self.core.ask(n_trials)

    def tell(self, told: Sequence[Told]) -> list[FrozenTrial]:
        return self.core.tell(told)

    def ready(self, reply: Any) -> bool:
        return True

    def result(self, reply: Any) -> Any:
        return reply


class SamplerProcess:
    """A ``TpeSamplerCore`` actor: requests are sent at once and queue in the actor in sending order."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self._started = actor.ping.remote()
        self.symbol: str | None = None
        self.died = False

    @property
    def pid(self) -> int:
        """The process id of the sampler (waits until it has started)."""
        return int(self.result(self._started))

    def start(self, symbol: str, seed: int, space: SearchSpace, resumed: Sequence[FrozenTrial]) -> None:
        self.symbol = symbol
        self.result(self.actor.start.remote(symbol, seed, space, list(resumed)))

    def ask(self, n_trials: int) -> Any:
        return self.actor.ask.remote(n_trials)

    def tell(self, told: Sequence[Told]) -> Any:
        return self.actor.tell.remote(list(told))

    def alive(self) -> bool:
        """Whether the process still answers (one round trip); a dead one is marked ``died``."""
        import ray

        try:
            ray.get(self.actor.ping.remote())
        except ray.exceptions.RayActorError:
            self.died = True
        return not self.died

    def ready(self, reply: Any) -> bool:
        import ray

        done, _ = ray.wait([reply], timeout=0)
        return bool(done)

    def result(self, reply: Any) -> Any:
        """Wait for a reply.

        Raises:
            SamplerDied: the sampler's process died (the symbol's sweep cannot go on).
        """
        import ray

        try:
            return ray.get(reply)
        except ray.exceptions.RayActorError as exc:
            self.died = True
            raise SamplerDied(f"the TPE sampler process of {self.symbol or 'this symbol'} died ({_first_line(exc)}); "
                              "run the sweep again to resume from the trials written") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class SamplerPool:
    """``size`` sampler processes, each lent to one symbol's stage 1 at a time.

    Args:
        size: how many processes (the symbols sampled at once: ``max_parallel_symbols``).
    """

    def __init__(self, size: int) -> None:
        self._idle: queue.Queue[SamplerProcess] = queue.Queue()
        self._all: list[SamplerProcess] = []
        self._lent: dict[str, SamplerProcess] = {}
        self._lock = threading.Lock()
        self.replacements = 0
        self.closed = False
        for _ in range(max(1, size)):
            self._idle.put(self._new_process())

    def _new_process(self) -> SamplerProcess:
        process = SamplerProcess(remote_sampler_class().options(scheduling_strategy=_on_this_node()).remote())
        with self._lock:
            self._all.append(process)
        return process

    @contextlib.contextmanager
    def lend(self, symbol: str) -> Iterator[SamplerProcess]:
        """Lend a sampler process to ``symbol`` for the ``with`` block.

        A process comes back to the pool only when the block ended normally; after a fault (its death,
        or any error that left requests queued in it) it is killed and a fresh one takes its place. A
        process that died while idle is replaced before it is lent, so no symbol inherits its death.
        """
        process = self._idle.get()
        if not process.alive():  # it died while idle (between two symbols): this symbol gets a fresh one
            process = self._replace(process)
        with self._lock:
            self._lent[symbol] = process
        healthy = False
        try:
            yield process
            healthy = not process.died
        finally:
            with self._lock:
                self._lent.pop(symbol, None)
            self._idle.put(process if healthy else self._replace(process))

    def lent_to(self, symbol: str) -> SamplerProcess:
        """Return the process currently lent to ``symbol`` (``KeyError`` when none is)."""
        with self._lock:
            return self._lent[symbol]

    def _replace(self, process: SamplerProcess) -> SamplerProcess:
        import ray

        ray.kill(process.actor, no_restart=True)
        with self._lock:
            self._all.remove(process)
            if self.closed:
                return process  # the sweep is stopping: no fresh process
            self.replacements += 1
        return self._new_process()

    def shutdown(self) -> None:
        """Kill every sampler process."""
        import ray

        with self._lock:
            self.closed = True
            for process in self._all:
                ray.kill(process.actor, no_restart=True)
            self._all.clear()


def _on_this_node() -> Any:
    """Ray's scheduling strategy that keeps an actor on the driver's node (near the driver, off the network)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)


def remote_sampler_class() -> Any:
    """Return ``TpeSamplerCore`` as a Ray actor class taking no CPU, created on first use."""
    import ray

    global _REMOTE_SAMPLER
    if _REMOTE_SAMPLER is None:
        _REMOTE_SAMPLER = ray.remote(num_cpus=0, max_restarts=0)(TpeSamplerCore)
    return _REMOTE_SAMPLER


_REMOTE_SAMPLER: Any = None
