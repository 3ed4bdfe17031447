"""The two-stage sweep driver, split into small named steps.

``SweepDriver.run`` = start Ray and the actors while the first symbol's preflight runs in a thread (the
actors then load their compiled kernels while the driver prepares) → for each symbol independently:
preflight (the first one is ready by then), put its bars into the object store once, stage 1, stage 2,
write its tables → finish the manifest. A symbol that is BLOCKed, whose trials all fail, or whose driver
step raises is recorded in the manifest with its reason and never stops the others.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tradescan.preflight import ALLOW, BLOCK, SweepPlan, SymbolCheck, check_symbol
from tradescan.store import (
    FINALIST_EQUITY_FILE,
    FINALIST_TRADES_FILE,
    STAGE2_FILE,
    TRIALS_FILE,
    ResultsStore,
    utc_now,
)
from tradescan.sweep import results
from tradescan.sweep.evaluator import bars_payload, error_text
from tradescan.sweep.objectives import get_objective
from tradescan.sweep.pool import EvaluatorPool
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.ray_runtime import ensure_ray, put
from tradescan.sweep.settings import EvaluatorSettings
from tradescan.sweep.stage1 import Stage1Config, Stage1Result, Stage1Runner
from tradescan.sweep.stage2 import Stage2Result, run_stage2
from tradescan.sweep.storage import open_rdb_study, redact, study_name

DONE = "DONE"
FAILED = "FAILED"
_VERSIONED_PACKAGES = ("tradescan", "optuna", "ray", "numpy", "pandas", "pyarrow", "numba", "pydantic")


class SymbolFailed(Exception):
    """A symbol's sweep cannot go on (e.g. every trial failed); recorded, the others continue."""


@dataclass
class SymbolRecord:
    """What the manifest says about one symbol, and its rows for the tables."""

    status: str
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    trial_rows: list[dict[str, Any]] = field(default_factory=list)
    stage2_rows: list[dict[str, Any]] = field(default_factory=list)
    trades: list[Any] = field(default_factory=list)
    equity: list[Any] = field(default_factory=list)

    def manifest_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"status": self.status, **self.summary}
        if self.reasons:
            entry["reasons"] = self.reasons
        if self.error:
            entry["error"] = self.error
        return entry


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
        storage_url: the Optuna RDB storage URL.
        workers: evaluator actors (``None`` = every CPU Ray offers).
        address: Ray cluster address (``None`` = local).
        progress: the progress display.
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
    ) -> None:
        self.plan = plan
        self.store = store
        self.storage_url = storage_url
        self.workers = workers
        self.address = address
        self.progress = progress or NullProgress()
        self.records: dict[str, SymbolRecord] = {}
        self.manifest: dict[str, Any] = {}
        self.stage_seconds: dict[str, float] = {"startup": 0.0, "preflight": 0.0, "stage1": 0.0, "stage2": 0.0}
        self.first_check: Future[SymbolCheck] | None = None

    @property
    def run_id(self) -> str:
        return self.plan.run_id

    # --- the steps ------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every symbol and return the final manifest."""
        started = time.perf_counter()
        self.store.ensure_writable(self.run_id)
        symbols = list(self.plan.directive.symbols)
        with ThreadPoolExecutor(1, thread_name_prefix="tradescan-preflight") as background:
            # Preflight is CPU work in this process; starting Ray is mostly waiting on its processes.
            self.first_check = background.submit(self._timed_check, symbols[0])
            pool = self._start_pool(symbols[0])
            try:
                self._begin_manifest()
                for symbol in symbols:
                    self.records[symbol] = self._run_symbol(pool, self._check(symbol))
                    self._write_tables()
                    self._write_manifest("running")
            except BaseException as exc:
                # Ctrl-C or a driver fault: say so in the manifest; a re-run resumes from the stored trials.
                if self.manifest:
                    self._write_manifest("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
                raise
            finally:
                pool.shutdown()
        self.stage_seconds["total"] = time.perf_counter() - started
        self._write_manifest(self._final_status(), finished=utc_now())
        return self.manifest

    def _begin_manifest(self) -> None:
        plan = self.plan
        previous = self._previous_manifest()
        self.manifest = {
            "run_id": self.run_id,
            "hash": plan.lineage.hash,
            "directive": plan.lineage.directive,
            "source": plan.label,
            "lineage": plan.lineage.as_dict(),
            "search_space": str(plan.space.path) if plan.space.path else None,
            "strategy_dirs": list(plan.strategy_dirs),
            "storage": redact(self.storage_url),
            "study_names": {s: study_name(self.run_id, s) for s in plan.directive.symbols},
            "versions": package_versions(),
            "started": utc_now(),
            "first_started": previous.get("first_started") or previous.get("started") or utc_now(),
            "finished": None,
            "frozen": None,
            "symbols": {s: {"status": "PENDING"} for s in plan.directive.symbols},
        }
        self._write_manifest("running")

    def _previous_manifest(self) -> dict[str, Any]:
        try:
            return self.store.read_manifest(self.run_id)
        except Exception:
            return {}

    def _start_pool(self, first_symbol: str) -> EvaluatorPool:
        started = time.perf_counter()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        n_actors = ensure_ray(self.workers, self.address)
        self.stage_seconds["ray_init"] = time.perf_counter() - started
        pool = EvaluatorPool(EvaluatorSettings.from_plan(self.plan), n_actors,
                             trial_timeout_s=self.plan.directive.trial_timeout_s)
        pool.warm_up(first_symbol)
        self.manifest["workers"] = n_actors
        self.stage_seconds["startup"] = time.perf_counter() - started
        return pool

    def _timed_check(self, symbol: str) -> SymbolCheck:
        started = time.perf_counter()
        check = check_symbol(self.plan, symbol)
        self.stage_seconds["preflight"] += time.perf_counter() - started
        return check

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
            return SymbolRecord(BLOCK, reasons=list(check.reasons))
        record = SymbolRecord(FAILED, summary={"bars": check.n_bars})
        try:
            self._sweep_symbol(pool, check, record)
            record.status = DONE
        except Exception as exc:  # isolation: one symbol's failure is recorded, the others go on
            record.error = _describe_failure(exc)
            self.progress.note(check.symbol, f"{FAILED}: {record.error}"[:80])
        finally:
            pool.release_symbol(check.symbol)
        return record

    def _sweep_symbol(self, pool: EvaluatorPool, check: SymbolCheck, record: SymbolRecord) -> None:
        symbol = check.symbol
        pool.add_symbol(symbol, put(bars_payload(check.bars, symbol)))
        check.bars = None  # the object store holds them now
        stage1 = self._stage1(pool, symbol)
        record.trial_rows = results.trial_rows(symbol, stage1.trials)
        record.summary.update(_stage1_summary(stage1))
        _require_complete_trials(stage1)
        self.progress.note(symbol, "stage 2")
        stage2 = self._stage2(pool, symbol, stage1)
        record.summary["stage2"] = {"finalists": len(stage2.finalists), "seconds": round(stage2.seconds, 3),
                                    "failed": [f.rank for f in stage2.finalists if f.error]}
        record.stage2_rows = results.stage2_rows(symbol, stage2.finalists, self.plan.directive.stage2.scenarios)
        record.trades = results.finalist_trades(symbol, stage2.finalists)
        record.equity = results.finalist_equity(symbol, stage2.finalists)
        self.progress.note(symbol, "done")

    def _stage1(self, pool: EvaluatorPool, symbol: str) -> Stage1Result:
        rdb_study = open_rdb_study(self.storage_url, study_name(self.run_id, symbol))
        runner = Stage1Runner(symbol, stage1_config(self.plan), self.plan.space, pool, rdb_study, self.progress)
        stage1 = runner.run()
        self.stage_seconds["stage1"] += stage1.seconds
        return stage1

    def _stage2(self, pool: EvaluatorPool, symbol: str, stage1: Stage1Result) -> Stage2Result:
        stage2 = run_stage2(pool, symbol, stage1.trials, self.plan.directive.stage2.top_k)
        self.stage_seconds["stage2"] += stage2.seconds
        return stage2

    # --- writing --------------------------------------------------------------------------------

    def _write_tables(self) -> None:
        records = self.records.values()
        self.store.write_parquet(self.run_id, TRIALS_FILE,
                                 results.rows_frame({s: r.trial_rows for s, r in self.records.items()}))
        self.store.write_parquet(self.run_id, STAGE2_FILE,
                                 results.rows_frame({s: r.stage2_rows for s, r in self.records.items()}))
        self.store.write_parquet(self.run_id, FINALIST_TRADES_FILE,
                                 results.concat(frame for r in records for frame in r.trades))
        self.store.write_parquet(self.run_id, FINALIST_EQUITY_FILE,
                                 results.concat(frame for r in records for frame in r.equity))

    def _write_manifest(self, status: str, finished: str | None = None) -> None:
        self.manifest["status"] = status
        self.manifest["finished"] = finished
        for symbol, record in self.records.items():
            self.manifest["symbols"][symbol] = record.manifest_entry()
        self.manifest["stage_seconds"] = {k: round(v, 3) for k, v in self.stage_seconds.items()}
        self.store.write_manifest(self.run_id, self.manifest)

    def _final_status(self) -> str:
        statuses = {record.status for record in self.records.values()}
        if statuses == {DONE}:
            return "complete"
        return "partial" if DONE in statuses else "failed"

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.run_id)


def _stage1_summary(stage1: Stage1Result) -> dict[str, Any]:
    complete = [t for t in stage1.trials if t.state == TrialState.COMPLETE and t.value is not None]
    best = max(complete, key=lambda t: (float(t.value or 0.0), -t.number), default=None)
    summary: dict[str, Any] = {
        "trials": {"total": len(stage1.trials), "resumed": stage1.resumed, "ran": stage1.ran, **stage1.counts},
        "stage1_seconds": round(stage1.seconds, 3),
        "best_value": best.value if best else None,
        "best_trial": best.number if best else None,
        "best_params": dict(best.params) if best else None,
    }
    if stage1.grid_removed:
        summary["grid_points_removed_by_constraints"] = stage1.grid_removed
    return summary


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
    if isinstance(exc, SymbolFailed):
        return str(exc)
    return error_text(exc)
