"""``run_sweep``: the public entry point of a sweep (a docstring and one call into the driver)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from tradescan.directive import Directive
from tradescan.preflight import prepare
from tradescan.results.errors import TradeScanNotice
from tradescan.results.manifest import RunManifest
from tradescan.results.store import ResultsStore
from tradescan.results.stored_trades import TRADES_TOP
from tradescan.sweep.driver import SweepDriver
from tradescan.sweep.progress import make_progress


class StaleLockWarning(TradeScanNotice):
    """A sweep took over the lock a killed process had left on its run."""


@dataclass(frozen=True)
class SweepResult:
    """What a finished sweep returns.

    Attributes:
        run_id: the run's id (``<NAME>-<12 hex>``).
        run_dir: its folder in the results store.
        manifest: the final manifest (status per symbol, hashes, timings).
        storage_url: the Optuna storage the studies live in (a journal file path or an RDB URL).
    """

    run_id: str
    run_dir: Path
    manifest: RunManifest
    storage_url: str

    @property
    def status(self) -> str:
        return self.manifest.status


def run_sweep(
    directive: str | os.PathLike[str] | Directive,
    *,
    workers: int | None = None,
    address: str | None = None,
    storage: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    skip_guards: bool = False,
    max_parallel_symbols: int | None = None,
    full_equity: bool = False,
    all_trades: bool = False,
) -> SweepResult:
    """Run a directive's two-stage sweep on Ray and store everything under its run id.

    Re-running the same directive on the same data resumes its Optuna studies: finished trials are
    kept, the total stays at ``search.trials``. A frozen run is refused, and so is a run another live
    process is sweeping (its lock names it); a lock left by a killed process is taken over.

    Args:
        directive: a directive YAML path or a ``Directive``.
        workers: evaluator actors, one CPU each (``None`` = every CPU Ray offers).
        address: join this Ray cluster instead of starting a local one.
        storage: Optuna storage: a journal file path or an RDB URL (default
            ``<results>/runs/<run_id>/optuna.journal``; an RDB is much slower to write, and says so).
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).
        results_dir: the results folder (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``).
        progress: show a progress bar per symbol when stdout is a terminal.
        skip_guards: leave the guard stage out even when the directive has a ``guards:`` section.
        max_parallel_symbols: symbols swept at once on the shared actors (default ``min(symbols, 4)``;
            1 = one after the other); a TPE sweep samples each in a process of its own (~100 MB each).
            The results are the same whatever the value; it bounds memory.
        full_equity: store the finalists' equity at every bar (default: each UTC day's last value).
        all_trades: store every finalist's trades (default: those of the best ``TRADES_TOP`` = 10 of each
            symbol, under every scenario; ``tradescan.results.stored_trades``).

    Raises:
        TradeScanError: the directive is invalid as a whole, the run is frozen or locked, the catalog
            is damaged, or the results cannot be written (a full disk is named as such).
    """
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results_dir)
    store.ensure_writable(plan.run_id)
    store.list_runs()  # a damaged catalog fails now, not after the sweep
    storage_url = storage or str(store.storage_path(plan.run_id))
    with store.lock(plan.run_id) as lock:
        note = lock.takeover_note()
        if note:
            warnings.warn(StaleLockWarning(note), stacklevel=2)
        with make_progress(progress) as display:
            driver = SweepDriver(plan, store, storage_url, workers=workers, address=address, progress=display,
                                 run_guards=not skip_guards, max_parallel_symbols=max_parallel_symbols,
                                 full_equity=full_equity, trades_top=None if all_trades else TRADES_TOP)
            manifest = driver.run()
    return SweepResult(plan.run_id, store.run_dir(plan.run_id), manifest, storage_url)
