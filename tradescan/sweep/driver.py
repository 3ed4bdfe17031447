"""The two-stage sweep driver, split into small named steps.

``SweepDriver.run`` = start Ray and the actors while the first symbol's preflight runs in a thread (the
actors then load their compiled kernels while the driver prepares) → up to ``max_parallel_symbols``
symbols at once, each independently in its own driver thread (``_run_symbol``): preflight, put its bars
into the object store once, stage 1, stage 2 → as each symbol finishes, the main thread commits that
symbol's table files (``<table>/<SYMBOL>.parquet``, written once) with the manifest → finish the
manifest. A symbol that is BLOCKed, whose trials all fail, or whose driver step raises is recorded in
the manifest with its reason and never stops the others.

Symbols share one actor pool: their batches queue on the same actors, so one symbol's sampler runs
while the actors evaluate another symbol's batch. A TPE sweep also starts ``max_parallel_symbols``
sampler processes (``tradescan.sweep.sampler.SamplerPool``, zero-CPU Ray actors on the driver's node)
and lends one to each running symbol: TPE costs ≈ 6 ms of CPU per trial and holds the GIL, so as
driver threads the symbols' samplers took turns on one core. Each symbol has its own study, sampler
and seed, and a batch's outcomes come back in the batch's order, so a symbol's trials do not depend on
how many symbols run at once nor on the number of workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import platform
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tradescan.preflight import ALLOW, BLOCK, SweepPlan, SymbolCheck, check_symbol
from tradescan.results.errors import ResultsFileError, ResultsWriteError, TradeScanNotice
from tradescan.results.manifest import (
    LineageRecord,
    ObjectiveRecord,
    RunManifest,
    RunStatus,
    Stage1Summary,
    Stage2Summary,
    StageSeconds,
    StoredTrades,
    SymbolEntry,
    SymbolStatus,
    TrialCounts,
    utc_now,
)
from tradescan.results.store import ResultsStore
from tradescan.results.stored_trades import TRADES_TOP
from tradescan.results.tables import EQUITY, STAGE2, TRADES, TRIALS, symbol_file
from tradescan.sweep import results
from tradescan.sweep.evaluator import bars_payload, error_text
from tradescan.sweep.objectives import get_objective
from tradescan.sweep.pool import EvaluatorPool
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.ray_runtime import ensure_ray, put
from tradescan.sweep.sampler import SamplerDied, SamplerPool
from tradescan.sweep.settings import EvaluatorSettings
from tradescan.sweep.stage1 import Stage1Config, Stage1Result, Stage1Runner
from tradescan.sweep.stage2 import Stage2Result, run_stage2
from tradescan.sweep.storage import StorageWriteError, open_study, redact, storage_kind, study_name

DONE: SymbolStatus = "DONE"
FAILED: SymbolStatus = "FAILED"
BLOCKED: SymbolStatus = "BLOCK"
DEFAULT_MAX_PARALLEL_SYMBOLS = 4
_VERSIONED_PACKAGES = ("tradescan", "optuna", "ray", "numpy", "pandas", "pyarrow", "numba", "pydantic")


class SymbolFailed(Exception):
    """A symbol's sweep cannot go on (e.g. every trial failed); recorded, the others continue."""


@dataclass
class SymbolRecord:
    """What the driver learnt about one symbol: its manifest entry's parts and its table rows."""

    status: SymbolStatus
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    bars: int | None = None
    trials: TrialCounts | None = None
    stage1: Stage1Summary | None = None
    stage2: Stage2Summary | None = None
    trial_rows: list[dict[str, Any]] = field(default_factory=list)
    stage2_rows: list[dict[str, Any]] = field(default_factory=list)
    trades: list[Any] = field(default_factory=list)
    equity: list[Any] = field(default_factory=list)
    guards: Any = None  # tradescan.sweep.guard_stage.SymbolGuards when the guard stage ran

    def manifest_entry(self) -> SymbolEntry:
        """Return the symbol's entry of the run manifest."""
        return SymbolEntry(status=self.status, reasons=tuple(self.reasons), error=self.error, bars=self.bars,
                           trials=self.trials, stage1=self.stage1, stage2=self.stage2)


def package_versions() -> dict[str, str]:
    """Return the versions of Python and of the packages that decide a sweep's numbers."""
    versions = {"python": platform.python_version()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def stage1_config(plan: SweepPlan) -> Stage1Config:
    """Return stage 1's settings from the directive."""
    directive = plan.directive
    return Stage1Config(
        sampler=directive.search.sampler,
        seed=directive.search.seed,
        trials=directive.search.trials,
        batch_size=directive.batch_size,
        preset=directive.search.preset,
        objective=get_objective(directive.stage1.objective),
        min_trades=directive.stage1.min_trades,
        penalty_weight=float(directive.stage1.penalty_weight or 0.0),
    )


class SweepDriver:
    """Runs one directive's sweep end to end and keeps its manifest.

    Args:
        plan: the prepared directive (``tradescan.preflight.prepare``).
        store: where results go.
        storage_url: the Optuna storage: a journal file path or an RDB URL (``tradescan.sweep.storage``).
        workers: evaluator actors (``None`` = every CPU Ray offers).
        address: Ray cluster address (``None`` = local).
        progress: the progress display.
        max_parallel_symbols: symbols swept at once (``None`` = ``min(symbols, 4)``); each holds its
            bars in the object store and its trials in memory until it is committed, and with TPE a
            sampler process (~100 MB). 4 is where 4 samplers' trials (~150/s each) meet the ~1.5 ms of
            driver CPU per trial that stays in the driver.
        full_equity: store every bar of the finalists' equity instead of each UTC day's last value.
        tpe_in_driver: sample TPE in the symbols' driver threads instead of sampler processes (the
            reference the tests and benchmarks compare the processes with; the trials are the same).
        trades_top: store the trades of ranks 1..trades_top of each symbol (``None``: every finalist's;
            ``tradescan.results.stored_trades``).
    """

    def __init__(
        self,
        plan: SweepPlan,
        store: ResultsStore,
        storage_url: str,
        *,
        workers: int | None = None,
        address: str | None = None,
        progress: NullProgress | None = None,
        run_guards: bool = True,
        max_parallel_symbols: int | None = None,
        full_equity: bool = False,
        tpe_in_driver: bool = False,
        trades_top: int | None = TRADES_TOP,
    ) -> None:
        if trades_top is not None and trades_top < 1:
            raise ValueError(f"trades_top must be >= 1 or None, got {trades_top}")
        if max_parallel_symbols is not None and max_parallel_symbols < 1:
            raise ValueError(f"max_parallel_symbols must be >= 1, got {max_parallel_symbols}")
        self.plan = plan
        # the guard stage runs after stage 2 when the directive has a guards: section (--skip-guards: not)
        self.guard_settings = plan.directive.guards if run_guards else None
        n_symbols = len(plan.directive.symbols)
        self.max_parallel_symbols = min(n_symbols, max_parallel_symbols or DEFAULT_MAX_PARALLEL_SYMBOLS)
        self.full_equity = full_equity
        self.tpe_in_driver = tpe_in_driver
        self.samplers: SamplerPool | None = None
        self.trades_top = trades_top
        self._seconds_lock = threading.Lock()
        self.store = store
        self.storage_url = storage_url
        self.workers = workers
        self.address = address
        self.progress = progress or NullProgress()
        self.records: dict[str, SymbolRecord] = {}
        self.manifest: RunManifest | None = None
        self.n_workers: int | None = None
        # stage1/stage2/preflight add up every symbol's time (more than the wall time when symbols overlap).
        self.stage_seconds: dict[str, float] = {"startup": 0.0, "preflight": 0.0, "stage1": 0.0, "stage2": 0.0,
                                                "guards": 0.0, "write": 0.0}
        self.first_check: Future[SymbolCheck] | None = None

    @property
    def run_id(self) -> str:
        return self.plan.run_id

    # --- the steps ------------------------------------------------------------------------------

    def run(self) -> RunManifest:
        """Run every symbol and return the final manifest (the caller holds the run's lock)."""
        started = time.perf_counter()
        self.store.ensure_writable(self.run_id)
        symbols = list(self.plan.directive.symbols)
        with ThreadPoolExecutor(1, thread_name_prefix="tradescan-preflight") as background:
            # Preflight is CPU work in this process; starting Ray is mostly waiting on its processes.
            self.first_check = background.submit(self._timed_check, symbols[0])
            pool = self._start_pool(symbols[0])
            try:
                self.samplers = self._start_samplers()
                self._begin_manifest()
                self._run_symbols(pool, symbols)
            except BaseException as exc:
                # Ctrl-C or a driver fault: say so in the manifest; a re-run resumes from the stored trials.
                self._record_stop(exc)
                raise
            finally:
                pool.shutdown()
                if self.samplers is not None:
                    self.samplers.shutdown()
        self.stage_seconds["total"] = time.perf_counter() - started
        return self._write_manifest(self._final_status(), finished=utc_now())

    def _run_symbols(self, pool: EvaluatorPool, symbols: list[str]) -> None:
        """Sweep every symbol, ``max_parallel_symbols`` at once, committing each as it finishes."""
        if self.max_parallel_symbols == 1:
            for symbol in symbols:
                self._finish(symbol, self._symbol_flow(pool, symbol))
            return
        executor = ThreadPoolExecutor(self.max_parallel_symbols, thread_name_prefix="tradescan-symbol")
        try:
            running = {executor.submit(self._symbol_flow, pool, symbol): symbol for symbol in symbols}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: symbols.index(running[f])):
                    self._finish(running.pop(future), future.result())
        finally:
            # On a fault the queued symbols are dropped; running ones stop when the pool is shut down.
            executor.shutdown(wait=False, cancel_futures=True)

    def _symbol_flow(self, pool: EvaluatorPool, symbol: str) -> SymbolRecord:
        return self._run_symbol(pool, self._check(symbol))

    def _finish(self, symbol: str, record: SymbolRecord) -> None:
        self.records[symbol] = record
        self._write_symbol(symbol, record)

    def _begin_manifest(self) -> None:
        plan = self.plan
        previous = self._previous_manifest()
        now = utc_now()
        self.manifest = RunManifest(
            run_id=self.run_id,
            hash=plan.lineage.hash,
            source=plan.label,
            directive=plan.lineage.directive,
            lineage=LineageRecord.model_validate(plan.lineage.as_dict()),
            objective=ObjectiveRecord(name=plan.directive.stage1.objective, scenario=plan.directive.stage1.scenario,
                                      min_trades=plan.directive.stage1.min_trades),
            search_space=str(plan.space.path) if plan.space.path else None,
            strategy_dirs=tuple(plan.strategy_dirs),
            storage=redact(self.storage_url),
            storage_kind=storage_kind(self.storage_url),
            study_names={s: study_name(self.run_id, s) for s in plan.directive.symbols},
            versions=package_versions(),
            workers=self.n_workers,
            started=now,
            first_started=previous.first_started if previous else now,
            symbols={s: SymbolEntry() for s in plan.directive.symbols},
            stored_trades=StoredTrades(top=self.trades_top),
        )
        self._write_manifest("running")

    def _previous_manifest(self) -> RunManifest | None:
        if not self.store.has_manifest(self.run_id):
            return None  # the run's first sweep
        try:
            return self.store.read_manifest(self.run_id)
        except ResultsFileError as exc:
            warnings.warn(TradeScanNotice(f"{exc}; this sweep writes a new manifest"), stacklevel=2)
            return None

    def _record_stop(self, exc: BaseException) -> None:
        if self.manifest is None:
            return
        try:
            self._write_manifest("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        except ResultsWriteError as write_error:
            # The fault being raised is what the person must see; the manifest keeps its last state.
            exc.add_note(f"the manifest could not record the stop either: {write_error}")

    def _start_pool(self, first_symbol: str) -> EvaluatorPool:
        started = time.perf_counter()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        n_actors = ensure_ray(self.workers, self.address)
        self.stage_seconds["ray_init"] = time.perf_counter() - started
        pool = EvaluatorPool(EvaluatorSettings.from_plan(self.plan), n_actors,
                             trial_timeout_s=self.plan.directive.trial_timeout_s)
        pool.warm_up(first_symbol, guards=self.guard_settings is not None)
        self.n_workers = n_actors
        self.stage_seconds["startup"] = time.perf_counter() - started
        return pool

    def _start_samplers(self) -> SamplerPool | None:
        """Start a TPE sampler process per symbol swept at once (their start overlaps the first preflight)."""
        if self.plan.directive.search.sampler != "tpe" or self.tpe_in_driver:
            return None
        return SamplerPool(self.max_parallel_symbols)

    def _timed_check(self, symbol: str) -> SymbolCheck:
        started = time.perf_counter()
        check = check_symbol(self.plan, symbol)
        self._add_seconds("preflight", time.perf_counter() - started)
        return check

    def _add_seconds(self, step: str, seconds: float) -> None:
        with self._seconds_lock:
            self.stage_seconds[step] += seconds

    def _check(self, symbol: str) -> SymbolCheck:
        """Return the preflight verdict of ``symbol`` (the first one was started in the background)."""
        if self.first_check is not None:
            first, self.first_check = self.first_check, None
            check = first.result()
            if check.symbol == symbol:
                return check
        return self._timed_check(symbol)

    def _run_symbol(self, pool: EvaluatorPool, check: SymbolCheck) -> SymbolRecord:
        if check.status != ALLOW:
            self.progress.note(check.symbol, f"{BLOCK}: {'; '.join(check.reasons)}"[:80])
            return SymbolRecord(BLOCKED, reasons=list(check.reasons))
        record = SymbolRecord(FAILED, bars=check.n_bars)
        try:
            self._sweep_symbol(pool, check, record)
            record.status = DONE
        except (StorageWriteError, ResultsWriteError):
            raise  # a full disk or a refused write is not this symbol's fault: the sweep stops
        except Exception as exc:  # isolation: one symbol's failure is recorded, the others go on
            record.error = _describe_failure(exc)
            self.progress.note(check.symbol, f"{FAILED}: {record.error}"[:80])
        finally:
            pool.release_symbol(check.symbol)
        return record

    def _sweep_symbol(self, pool: EvaluatorPool, check: SymbolCheck, record: SymbolRecord) -> None:
        symbol = check.symbol
        payload = bars_payload(check.bars, symbol, self.plan.instruments.get(symbol))
        times = payload["time"].view("datetime64[ns]")
        pool.add_symbol(symbol, put(payload))
        check.bars = None  # the object store holds them now
        stage1 = self._stage1(pool, symbol)
        record.trial_rows = results.trial_rows(symbol, stage1.trials)
        record.trials = _trial_counts(stage1)
        record.stage1 = _stage1_summary(stage1)
        _require_complete_trials(stage1)
        self.progress.note(symbol, "stage 2")
        stage2 = self._stage2(pool, symbol, stage1)
        kept = results.stored_trade_ranks(stage2.finalists, self.trades_top)
        record.stage2 = Stage2Summary(finalists=len(stage2.finalists), seconds=round(stage2.seconds, 3),
                                      failed_ranks=tuple(f.rank for f in stage2.finalists if f.error),
                                      trades_ranks=kept)
        record.stage2_rows = results.stage2_rows(symbol, stage2.finalists, self.plan.directive.stage2.scenarios)
        record.trades = results.finalist_trades(symbol, stage2.finalists, kept)
        record.equity = results.finalist_equity(symbol, stage2.finalists)
        if self.guard_settings is not None:
            self.progress.note(symbol, "guards")
            record.guards = self._guards(pool, symbol, stage1, stage2, times)
        self.progress.note(symbol, "done")

    def _stage1(self, pool: EvaluatorPool, symbol: str) -> Stage1Result:
        study = open_study(self.storage_url, study_name(self.run_id, symbol))
        with self.samplers.lend(symbol) if self.samplers else contextlib.nullcontext() as sampler:
            runner = Stage1Runner(symbol, stage1_config(self.plan), self.plan.space, pool, study, self.progress,
                                  sampler)
            stage1 = runner.run()
        self._add_seconds("stage1", stage1.seconds)
        return stage1

    def _stage2(self, pool: EvaluatorPool, symbol: str, stage1: Stage1Result) -> Stage2Result:
        stage2 = run_stage2(pool, symbol, stage1.trials, self.plan.directive.stage2.top_k,
                            full_equity=self.full_equity, trades_top=self.trades_top,
                            guard_trades=self.guard_settings is not None)
        self._add_seconds("stage2", stage2.seconds)
        return stage2

    def _guards(self, pool: EvaluatorPool, symbol: str, stage1: Stage1Result, stage2: Stage2Result,
                times: Any) -> Any:
        from tradescan.sweep.validate import guard_symbol

        assert self.guard_settings is not None
        started = time.perf_counter()
        guards = guard_symbol(pool, self.plan, symbol, self.run_dir, stage1.trials, stage1.returns,
                              stage2.finalists, times, self.guard_settings, self.progress)
        self._add_seconds("guards", time.perf_counter() - started)
        return guards

    # --- writing --------------------------------------------------------------------------------

    def _write_symbol(self, symbol: str, record: SymbolRecord) -> None:
        """Commit one symbol's table files with a "running" manifest, then drop its rows from memory.

        Each symbol's part of a table is its own file (``<table>/<SYMBOL>.parquet``), written once: the
        commit's cost does not grow with the symbols before it, and a reader never sees half of a set.
        """
        started = time.perf_counter()
        frames = {
            TRIALS: results.rows_frame({symbol: record.trial_rows}),
            STAGE2: results.rows_frame({symbol: record.stage2_rows}),
            TRADES: results.concat(record.trades),
            EQUITY: results.concat(record.equity, EQUITY.columns),
        }
        tables = {symbol_file(table, symbol): frame for table, frame in frames.items() if len(frame)}
        if record.guards is not None and self.guard_settings is not None:
            from tradescan.sweep.guard_io import guard_frames, guards_section

            # The guard tables are small (rows per finalist and guard), so every guarded symbol's rows
            # are written together: the files always hold the whole run's guards.
            guarded = {s: r.guards for s, r in self.records.items() if r.guards is not None}
            tables.update(guard_frames(guarded))
            assert self.manifest is not None
            self.manifest = self.manifest.model_copy(update={"guards": guards_section(self.guard_settings, guarded)})
        self._write_manifest("running", tables=tables)
        record.trial_rows, record.stage2_rows, record.trades, record.equity = [], [], [], []
        self.stage_seconds["write"] += time.perf_counter() - started

    def _write_manifest(
        self, status: RunStatus, finished: dt.datetime | None = None, tables: dict[str, Any] | None = None
    ) -> RunManifest:
        assert self.manifest is not None, "_begin_manifest comes first"
        symbols = {**self.manifest.symbols, **{s: r.manifest_entry() for s, r in self.records.items()}}
        seconds = StageSeconds(**{k: round(v, 3) for k, v in self.stage_seconds.items()})
        updated = self.manifest.model_copy(update={
            "status": status, "finished": finished, "symbols": symbols, "stage_seconds": seconds,
            "workers": self.n_workers,
        })
        self.manifest = self.store.commit(self.run_id, updated, tables)
        return self.manifest

    def _final_status(self) -> RunStatus:
        statuses = {record.status for record in self.records.values()}
        if statuses == {DONE}:
            return "complete"
        return "partial" if DONE in statuses else "failed"

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.run_id)


def _trial_counts(stage1: Stage1Result) -> TrialCounts:
    counts = stage1.counts
    return TrialCounts(total=len(stage1.trials), resumed=stage1.resumed, ran=stage1.ran,
                       complete=counts.get("COMPLETE", 0), fail=counts.get("FAIL", 0), pruned=counts.get("PRUNED", 0))


def _stage1_summary(stage1: Stage1Result) -> Stage1Summary:
    complete = [t for t in stage1.trials if t.state == TrialState.COMPLETE and t.value is not None]
    best = max(complete, key=lambda t: (float(t.value or 0.0), -t.number), default=None)
    return Stage1Summary(
        seconds=round(stage1.seconds, 3),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        best_params=dict(best.params) if best else None,
        grid_points_removed=stage1.grid_removed,
    )


def _require_complete_trials(stage1: Stage1Result) -> None:
    if any(t.state == TrialState.COMPLETE for t in stage1.trials):
        return
    errors = [t.user_attrs.get("error") for t in stage1.trials if t.user_attrs.get("error")]
    first = f"; first error: {errors[0]}" if errors else ""
    raise SymbolFailed(f"no trial completed ({len(stage1.trials)} trials){first}")


def _describe_failure(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # a RayTaskError carries the worker's exception
    if isinstance(cause, BaseException):
        return error_text(cause)
    if isinstance(exc, SymbolFailed | SamplerDied):
        return str(exc)  # the message is the whole reason
    return error_text(exc)
