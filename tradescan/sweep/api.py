"""``run_sweep``: the public entry point of a sweep (a docstring and one call into the driver)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradescan.directive import Directive
from tradescan.preflight import prepare
from tradescan.store import ResultsStore
from tradescan.sweep.driver import SweepDriver
from tradescan.sweep.progress import make_progress


@dataclass(frozen=True)
class SweepResult:
    """What a finished sweep returns.

    Attributes:
        run_id: the run's id (``<NAME>-<12 hex>``).
        run_dir: its folder in the results store.
        manifest: the final manifest (status per symbol, hashes, timings).
        storage_url: the Optuna storage the studies live in.
    """

    run_id: str
    run_dir: Path
    manifest: dict[str, Any]
    storage_url: str

    @property
    def status(self) -> str:
        return str(self.manifest.get("status"))


def run_sweep(
    directive: str | os.PathLike[str] | Directive,
    *,
    workers: int | None = None,
    address: str | None = None,
    storage: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> SweepResult:
    """Run a directive's two-stage sweep on Ray and store everything under its run id.

    Re-running the same directive on the same data resumes its Optuna studies: finished trials are
    kept, the total stays at ``search.trials``. A frozen run is refused.

    Args:
        directive: a directive YAML path or a ``Directive``.
        workers: evaluator actors, one CPU each (``None`` = every CPU Ray offers).
        address: join this Ray cluster instead of starting a local one.
        storage: Optuna RDB URL (default ``sqlite:///<results>/optuna.db``).
        data_dir: the data folder (default ``$TRADESCAN_DATA_DIR`` or ``./data``).
        results_dir: the results folder (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``).
        progress: show a progress bar per symbol when stdout is a terminal.

    Raises:
        TradeScanError: the directive is invalid as a whole, or the run is frozen.
    """
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results_dir)
    store.ensure_writable(plan.run_id)
    store.root.mkdir(parents=True, exist_ok=True)
    storage_url = storage or store.default_storage_url()
    with make_progress(progress) as display:
        driver = SweepDriver(plan, store, storage_url, workers=workers, address=address, progress=display)
        manifest = driver.run()
    return SweepResult(plan.run_id, store.run_dir(plan.run_id), manifest, storage_url)
