"""The evaluator: one process (a Ray actor with one CPU) that backtests parameter sets.

An evaluator receives each symbol's bars once (a Ray object-store reference, read zero-copy) and keeps
a ``BacktestSession`` per symbol, so the session's per-bar arrays and the bars' indicator cache are
reused across every trial it runs. A trial that raises is returned as an error string, never turned
into a score: the driver records it as FAIL (Ray's Optuna adapter habit: error -> FAIL).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tradescan.instruments import Instrument
from tradescan.sweep.equity import daily_equity
from tradescan.sweep.settings import EvaluatorSettings

# (metrics of the stage-1 scenario, None) or (None, error text)
TrialOutcome = tuple[dict[str, float] | None, str | None]
# ({"metrics": {scenario: {...}}, "trades": DataFrame, "equity": DataFrame}, None) or (None, error text)
FinalistOutcome = tuple[dict[str, Any] | None, str | None]

BAR_ARRAYS = ("time", "open", "high", "low", "close", "volume")
WARM_UP_BARS = 2_000


def bars_payload(frame: Any, symbol: str, instrument: Instrument | None = None) -> dict[str, np.ndarray]:
    """Return a DataFrame's bars as plain NumPy arrays (what goes into the object store, once).

    Plain arrays (not a DataFrame, not ``Bars``) deserialise zero-copy in every actor on the node:
    each actor maps the object store's read-only buffers, and ``bars_from_payload`` keeps them as they are.
    ``instrument`` defaults to the registry's entry for ``symbol``.
    """
    from tradescan.bars import Bars
    from tradescan.instruments import get as get_instrument

    bars = Bars.from_frame(frame, instrument or get_instrument(symbol))
    payload = {name: np.asarray(getattr(bars, name)) for name in BAR_ARRAYS}
    # Ray pickles datetime64 arrays in-band (a private copy per actor); int64 goes out-of-band, zero-copy.
    payload["time"] = payload["time"].view(np.int64)
    return payload


def bars_from_payload(symbol: str, payload: Mapping[str, np.ndarray], instrument: Instrument | None = None) -> Any:
    """Return ``Bars`` over the payload's arrays without copying them (they are already the right
    dtype, contiguous and, from the object store, read-only); ``instrument`` defaults to the registry's."""
    from tradescan.bars import Bars
    from tradescan.instruments import get as get_instrument

    times = payload["time"]
    if times.dtype == np.int64:
        times = times.view("datetime64[ns]")  # a view: the object store's buffer stays the only copy
    return Bars(time=times, open=payload["open"], high=payload["high"], low=payload["low"],
                close=payload["close"], volume=payload["volume"], instrument=instrument or get_instrument(symbol))


def warm_up_payload(instrument: Instrument, n_bars: int = WARM_UP_BARS) -> dict[str, np.ndarray]:
    """Return a fixed random walk of ``n_bars`` hourly bars at the instrument's price scale.

    Built here rather than by ``data.synthesize`` so that an actor reads no instruments file.
    """
    from tradescan.data.synth import start_price

    rng = np.random.default_rng(0)
    close = start_price(instrument) * np.exp(np.cumsum(rng.normal(0.0, 0.002, n_bars)))
    open_ = np.concatenate([close[:1], close[:-1]])
    reach = np.abs(rng.normal(0.0, 0.001, n_bars)) * close
    hours = np.arange(n_bars, dtype=np.int64) * 3_600_000_000_000
    return {"time": np.int64(1_577_836_800_000_000_000) + hours, "open": open_,
            "high": np.maximum(open_, close) + reach, "low": np.minimum(open_, close) - reach,
            "close": close, "volume": np.ones(n_bars)}


def error_text(exc: BaseException) -> str:
    """Return ``Type: message`` plus the innermost frame, enough to find the fault without a log."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class EvaluatorCore:
    """Backtests for a sweep; plain Python so it can be tested without Ray (``Evaluator`` wraps it)."""

    def __init__(self, settings: EvaluatorSettings) -> None:
        self.settings = settings
        self._sessions: dict[str, Any] = {}
        self._strategy: Any = None

    def ping(self) -> int:
        """Return the process id (also forces the actor to start and import the engine)."""
        import tradescan.engine  # noqa: F401  (warm the import while the driver prepares)

        return os.getpid()

    def strategy(self) -> Any:
        """Return the strategy instance, resolved once per process through the registry."""
        if self._strategy is None:
            from tradescan.registry import get_strategy

            self._strategy = get_strategy(self.settings.strategy, self.settings.strategy_dirs)
        return self._strategy

    def warm_up(self, symbol: str) -> bool:
        """Run one backtest on a few synthetic bars of ``symbol``, so that the strategy is resolved and
        the compiled kernels are loaded from numba's cache while the driver still prepares the sweep.

        Returns whether it ran; a failure here is not a verdict (the real trials report their own).
        """
        try:
            session = self._session(symbol, warm_up_payload(self._instrument(symbol)))
            session.evaluate(self.strategy(), None, (self.settings.stage1_scenario,))
        except Exception:
            return False
        return True

    def load_symbol(self, symbol: str, payload: Mapping[str, np.ndarray]) -> int:
        """Build the symbol's session from its bar arrays; return the number of bars."""
        self._sessions[symbol] = self._session(symbol, payload)
        return len(self._sessions[symbol].bars)

    def _instrument(self, symbol: str) -> Instrument:
        # The facts the run id hashes; the registry only for settings built without them (tests).
        from tradescan.instruments import get as get_instrument

        return self.settings.instruments.get(symbol) or get_instrument(symbol)

    def _session(self, symbol: str, payload: Mapping[str, np.ndarray]) -> Any:
        from tradescan.engine import BacktestSession

        return BacktestSession(bars_from_payload(symbol, payload, self._instrument(symbol)), self.settings.config)

    def drop_symbol(self, symbol: str) -> None:
        """Forget a symbol's session (its sweep is over)."""
        self._sessions.pop(symbol, None)

    def evaluate_batch(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[TrialOutcome]:
        """Return the stage-1 metrics (or the error) of each parameter set, in order."""
        session = self._sessions[symbol]
        scenario = (self.settings.stage1_scenario,)
        outcomes: list[TrialOutcome] = []
        for params in params_list:
            try:
                outcomes.append((session.evaluate(self.strategy(), params, scenario)[scenario[0]], None))
            except Exception as exc:
                outcomes.append((None, error_text(exc)))
        return outcomes

    def run_finalists(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[FinalistOutcome]:
        """Return each finalist's metrics per stage-2 scenario with its trades and equity frames."""
        session = self._sessions[symbol]
        outcomes: list[FinalistOutcome] = []
        for params in params_list:
            try:
                result = session.run(self.strategy(), params, self.settings.stage2_scenarios)
                payload = {"metrics": result.metrics, "params": result.params, "trades": result.trades,
                           "equity": result.equity}
                outcomes.append((payload, None))
            except Exception as exc:
                outcomes.append((None, error_text(exc)))
        return outcomes

    def run_finalists_daily(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[FinalistOutcome]:
        """``run_finalists`` with each equity curve thinned to its daily rows here, before it is sent back."""
        outcomes = self.run_finalists(symbol, params_list)
        for payload, _ in outcomes:
            if payload is not None and payload["equity"] is not None:
                payload["equity"] = daily_equity(payload["equity"])
        return outcomes

    def memory_bytes(self) -> dict[str, int]:
        """Return this process's resident and private memory in bytes (for the benchmark)."""
        return process_memory_bytes()


def process_memory_bytes() -> dict[str, int]:
    """Return the calling process's resident and private memory in bytes (Linux ``smaps_rollup``).

    Private memory excludes pages shared with other processes, such as the object store's zero-copy
    bar arrays, so it is what one more actor really costs.
    """
    fields: dict[str, int] = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss": fields.get("Rss", 0), "private": private}


def remote_evaluator_class() -> Any:
    """Return ``EvaluatorCore`` as a Ray actor class (one CPU each), created on first use."""
    import ray

    global _REMOTE_EVALUATOR
    if _REMOTE_EVALUATOR is None:
        _REMOTE_EVALUATOR = ray.remote(num_cpus=1, max_restarts=0)(EvaluatorCore)
    return _REMOTE_EVALUATOR


_REMOTE_EVALUATOR: Any = None
