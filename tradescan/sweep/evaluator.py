"""The evaluator: one process (a Ray actor with one CPU) that backtests parameter sets.

An evaluator receives each symbol's bars once (a Ray object-store reference, read zero-copy) and keeps
a ``BacktestSession`` per symbol, so the session's per-bar arrays and the bars' indicator cache are
reused across every trial it runs. A trial that raises is returned as an error string, never turned
into a score: the driver records it as FAIL (Ray's Optuna adapter habit: error -> FAIL). So is a
strategy whose output is "no usable signal" (``tradescan.sweep.usable_signals``: NaN ``entry`` after
the warm-up, or entries none of which has a stop); a strategy that never trades is not an error.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tradescan.instruments import Instrument
from tradescan.sweep.equity import daily_equity
from tradescan.sweep.settings import EvaluatorSettings

# (metrics of the stage-1 scenario, None, daily returns float32) or (None, error text, None)
TrialOutcome = tuple[dict[str, float] | None, str | None, np.ndarray | None]
# (metrics, None, daily returns float64, trades) on a bar window or a permuted series; (None, error, None, 0)
WindowOutcome = tuple[dict[str, float] | None, str | None, np.ndarray | None]
# ({"metrics": {scenario: {...}}, "trades": DataFrame, "equity": DataFrame}, None) or (None, error text)
FinalistOutcome = tuple[dict[str, Any] | None, str | None]

BAR_ARRAYS = ("time", "open", "high", "low", "close", "volume")
WARM_UP_BARS = 2_000
# Sessions the guard stage keeps per actor: every walk-forward window of a symbol (a few MB each), and
# two permuted series (jobs arrive sorted by seed, so a chunk visits each seed once).
MAX_WINDOW_SESSIONS = 32
MAX_PERMUTED_SESSIONS = 2


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
        self.busy_s = 0.0  # seconds spent in backtest batches (the benchmarks' utilisation)
        self.busy_cpu_s = 0.0  # CPU seconds of those spent in run_jobs (busy_s minus time off the CPU)
        self._windows: dict[tuple[str, int, int], Any] = {}
        self._permuted: dict[tuple[str, int, int], Any] = {}

    def ping(self) -> int:
        """Return the process id (also forces the actor to start and import the engine)."""
        import tradescan.engine  # noqa: F401  (warm the import while the driver prepares)

        return os.getpid()

    def strategy(self) -> Any:
        """Return the strategy instance, resolved once per process through the registry, with its
        signals checked for usability on every trial."""
        if self._strategy is None:
            from tradescan.registry import get_strategy
            from tradescan.sweep.usable_signals import with_usable_signal_check

            self._strategy = with_usable_signal_check(get_strategy(self.settings.strategy, self.settings.strategy_dirs))
        return self._strategy

    def warm_up(self, symbol: str, guards: bool = False) -> bool:
        """Run one backtest on a few synthetic bars of ``symbol``, so that the strategy is resolved and
        the compiled kernels are loaded from numba's cache while the driver still prepares the sweep.

        With ``guards`` (the sweep will run the guard stage) also import the bootstrap library the
        statistics job uses (``arch``, ~1 s of imports: it pulls in statsmodels), a cost of the process's
        start like the kernels', so that it is not paid inside the guard stage.

        Returns whether the backtest ran; a failure here is not a verdict (the real trials report their
        own). An import error of ``arch`` is not caught: the guard stage could not run either.
        """
        if guards:
            import arch.bootstrap  # noqa: F401  (loaded now, used by tradescan.guards.stats)
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
        """Forget a symbol's session (its sweep is over) and its window and permuted sessions."""
        self._sessions.pop(symbol, None)
        self._windows.clear()
        self._permuted.clear()

    def evaluate_batch(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[TrialOutcome]:
        """Return the stage-1 metrics and daily returns (float32; PBO and DSR read them), or the error,
        of each parameter set, in order."""
        started = time.perf_counter()
        try:
            return self._evaluate_on(self._sessions[symbol], params_list, np.float32)
        finally:
            self.busy_s += time.perf_counter() - started

    def busy_seconds(self) -> float:
        """Return the seconds this actor spent running batches so far (busy time, for utilisation)."""
        return self.busy_s

    def busy_cpu_seconds(self) -> float:
        """Return the CPU seconds (this thread's) the actor spent in ``run_jobs`` so far: below its wall
        seconds when other processes took the core (the guard benchmark's accounting)."""
        return self.busy_cpu_s

    def _evaluate_on(self, session: Any, params_list: Sequence[Mapping[str, Any]], dtype: type) -> list[Any]:
        from tradescan.sweep.usable_signals import NoUsableSignal

        scenario = (self.settings.stage1_scenario,)
        outcomes: list[Any] = []
        for params in params_list:
            try:
                metrics, returns = evaluate_with_returns(session, self.strategy(), params, scenario[0])
                outcomes.append((metrics, None, returns.astype(dtype)))
            except NoUsableSignal as exc:
                outcomes.append((None, str(exc), None))  # the rule is the message; no frame to point at
            except Exception as exc:
                outcomes.append((None, error_text(exc), None))
        return outcomes

    def evaluate_on_window(
        self, symbol: str, params_list: Sequence[Mapping[str, Any]], start: int, end: int
    ) -> list[WindowOutcome]:
        """Return the stage-1 metrics and daily returns of each parameter set on bars ``[start, end)``.

        The window is backtested on its own bars (a session over the slice, kept for the next call on
        the same window): the strategy's warm-up falls inside the window, and no bar outside it is seen,
        so a walk-forward test window never learns from its train window's future or vice versa.
        """
        key = (symbol, int(start), int(end))
        session = self._windows.get(key)
        if session is None:
            if len(self._windows) >= MAX_WINDOW_SESSIONS:
                self._windows.pop(next(iter(self._windows)))  # the oldest window
            full = self._sessions[symbol].bars
            session = self._session_over(full, slice(int(start), int(end)))
            self._windows[key] = session
        return list(self._evaluate_on(session, params_list, np.float64))

    def evaluate_permuted(
        self, symbol: str, seed: int, params_list: Sequence[Mapping[str, Any]], keep_bars: int = 0
    ) -> list[WindowOutcome]:
        """Return the stage-1 metrics of each parameter set on the bars permuted by ``seed``.

        The permuted series is built here (``guards.permute_bars``) from the bars this actor already
        holds, so only a seed travels; it is kept for the next call with the same seed.
        """
        key = (symbol, int(seed), int(keep_bars))
        session = self._permuted.get(key)
        if session is None:
            if len(self._permuted) >= MAX_PERMUTED_SESSIONS:
                self._permuted.pop(next(iter(self._permuted)))
            session = self._permuted_session(symbol, int(seed), int(keep_bars))
            self._permuted[key] = session
        return list(self._evaluate_on(session, params_list, np.float64))

    def run_jobs(self, symbol: str, jobs: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Run the guard stage's backtests, one job each, in order (``EvaluatorPool`` splits the list).

        A job is ``{"kind": "full" | "window" | "permuted" | "search" | "statistics", "params": {...}, ...}``:
        ``window`` adds ``start, end`` (``evaluate_on_window``), ``permuted`` adds ``seed, keep_bars``
        (``evaluate_permuted``), ``returns: bool`` asks for the daily returns (else ``None``). Each
        backtest's outcome is ``(metrics, error, returns)``. ``search`` carries a
        ``guard_search.SearchSpec`` under ``spec`` and returns its ``SearchOutcome`` (a whole TPE
        search on a window or a permuted series). ``statistics`` carries a ``guard_stage.StatisticsWork``
        under ``work`` and returns its ``StatisticsResult`` (the guards that need no backtest, with this
        actor's regime labels of the symbol).
        """
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._run_jobs(symbol, jobs)
        finally:
            self.busy_s += time.perf_counter() - started
            self.busy_cpu_s += time.thread_time() - cpu

    def _run_jobs(self, symbol: str, jobs: Sequence[Mapping[str, Any]]) -> list[Any]:
        outcomes: list[Any] = []
        for job in jobs:
            kind = job["kind"]
            if kind == "statistics":
                from tradescan.sweep.guard_stage import run_statistics

                work = job["work"]
                outcomes.append(run_statistics(work, self.regime_arrays(symbol) if work.regime is not None else None))
                continue
            if kind == "search":
                outcomes.append(self._search(symbol, job["spec"]))
                continue
            params = [job["params"]]
            if kind == "window":
                outcome = self.evaluate_on_window(symbol, params, job["start"], job["end"])[0]
            elif kind == "permuted":
                outcome = self.evaluate_permuted(symbol, job["seed"], params, job.get("keep_bars", 0))[0]
            else:
                outcome = self._evaluate_on(self._sessions[symbol], params, np.float64)[0]
            outcomes.append(outcome if job.get("returns") else (outcome[0], outcome[1], None))
        return outcomes

    def _search(self, symbol: str, spec: Any) -> Any:
        """Run a whole TPE guard search (``guard_search.run_tpe_search``) on this actor's bars: its
        trials run as ``spec.target`` jobs do (a train window or a permuted series, built once here)."""
        from tradescan.sweep.guard_search import run_tpe_search

        target = spec.target
        if target["kind"] == "window":
            def evaluate(params_list: Sequence[Mapping[str, Any]]) -> list[Any]:
                return self.evaluate_on_window(symbol, params_list, target["start"], target["end"])
        elif target["kind"] == "permuted":
            def evaluate(params_list: Sequence[Mapping[str, Any]]) -> list[Any]:
                return self.evaluate_permuted(symbol, target["seed"], params_list, target.get("keep_bars", 0))
        else:
            raise ValueError(f"a guard search runs on a window or a permuted series, not {target['kind']!r}")
        return run_tpe_search(spec, evaluate)

    def _session_over(self, bars: Any, window: slice) -> Any:
        from tradescan.bars import Bars
        from tradescan.engine import BacktestSession

        sliced = Bars(time=bars.time[window], open=bars.open[window], high=bars.high[window], low=bars.low[window],
                      close=bars.close[window], volume=bars.volume[window], instrument=bars.instrument)
        return BacktestSession(sliced, self.settings.config)

    def _permuted_session(self, symbol: str, seed: int, keep_bars: int) -> Any:
        import pandas as pd

        from tradescan.bars import Bars
        from tradescan.engine import BacktestSession
        from tradescan.guards import permute_bars

        bars = self._sessions[symbol].bars
        frame = pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                              "volume": bars.volume})
        permuted = permute_bars(frame, seed, start_index=min(keep_bars, len(frame) - 1))
        moved = Bars(time=bars.time, open=permuted["open"].to_numpy(), high=permuted["high"].to_numpy(),
                     low=permuted["low"].to_numpy(), close=permuted["close"].to_numpy(),
                     volume=permuted["volume"].to_numpy(), instrument=bars.instrument)
        return BacktestSession(moved, self.settings.config)

    def regime_arrays(self, symbol: str) -> dict[str, np.ndarray]:
        """Return the bars' high, low, close and the regime labels the backtests use (regime guard)."""
        session = self._sessions[symbol]
        bars = session.bars
        return {"high": np.asarray(bars.high), "low": np.asarray(bars.low), "close": np.asarray(bars.close),
                "vol_code": np.asarray(session.vol_code), "spike": np.asarray(session.spike)}

    def run_finalists(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[FinalistOutcome]:
        """Return each finalist's metrics per stage-2 scenario with its trades and equity frames."""
        return self.run_finalist_jobs(symbol, [{"params": p, "equity": "full"} for p in params_list])

    def run_finalists_daily(self, symbol: str, params_list: Sequence[Mapping[str, Any]]) -> list[FinalistOutcome]:
        """``run_finalists`` with each equity curve thinned to its daily rows here, before it is sent back."""
        return self.run_finalist_jobs(symbol, [{"params": p} for p in params_list])

    def run_finalist_jobs(self, symbol: str, jobs: Sequence[Mapping[str, Any]]) -> list[FinalistOutcome]:
        """Run finalists under the stage-2 scenarios, each sending back only what its job asks for.

        A job is ``{"params": {...}, "trades": "all" | "stage1" | "none", "equity": "daily" | "full" |
        "none"}`` (defaults ``"all"``, ``"daily"``): the trades of every scenario, of the stage-1 scenario
        only (what the guard stage reads) or none (``None``), and the equity at each UTC day's last bar,
        every bar, or none. A frame that is not asked for is never built (trades cost about as much
        as the backtest, and three times the bytes).
        """
        session = self._sessions[symbol]
        outcomes: list[FinalistOutcome] = []
        for job in jobs:
            try:
                result = session.run(self.strategy(), job["params"], self.settings.stage2_scenarios)
                payload = {"metrics": result.metrics, "params": result.params,
                           "trades": self._job_trades(result, job.get("trades", "all")),
                           "equity": _job_equity(result, job.get("equity", "daily"))}
                outcomes.append((payload, None))
            except Exception as exc:
                outcomes.append((None, error_text(exc)))
        return outcomes

    def _job_trades(self, result: Any, wanted: str) -> Any:
        if wanted == "none":
            return None
        trades = result.trades
        if wanted == "stage1":
            return trades[trades["scenario"] == self.settings.stage1_scenario].reset_index(drop=True)
        return trades

    def memory_bytes(self) -> dict[str, int]:
        """Return this process's resident and private memory in bytes (for the benchmark)."""
        return process_memory_bytes()


def _job_equity(result: Any, wanted: str) -> Any:
    if wanted == "none":
        return None
    return result.equity if wanted == "full" else daily_equity(result.equity)


def daily_returns(equity: np.ndarray, day_end_idx: np.ndarray, initial_capital: float) -> np.ndarray:
    """Return the daily returns of an equity curve: its value at each UTC day's last bar over the day
    before (the first day over the initial capital), as ``tradescan.metrics`` computes the Sharpe ratio."""
    values = np.asarray(equity, dtype=np.float64)[np.asarray(day_end_idx, dtype=np.int64)]
    previous = np.concatenate(([float(initial_capital)], values[:-1]))
    returns: np.ndarray = values / previous - 1.0
    return returns


def evaluate_with_returns(
    session: Any, strategy: Any, params: Mapping[str, Any], scenario: str
) -> tuple[dict[str, float], np.ndarray]:
    """Return one scenario's metrics and its daily returns from ONE simulation.

    Uses the session's buffer-reusing simulation (``BacktestSession._simulate``, the same call its
    ``evaluate`` makes), so the returns cost one gather of ~1 value per day on top of the metrics.
    """
    _, trades, equity, _ = session._simulate(strategy, params, (scenario,), reuse_buffers=True)
    metrics = session._metrics(trades[0], equity[0])
    return metrics, daily_returns(equity[0], session.day_end_idx, session.capital.initial)


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
