"""Fixtures of the report tests: one tiny real sweep per session (1 worker, few trials, real Ray, real
Optuna journal, real Parquet) through the CLI, and a copy of it with hand-made guard-stage files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
import yaml
from report_helpers import BARS, SYMBOLS, SweptRun, guard_frames


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """Reuse a running Ray, else start a small local one (2 CPUs, no dashboard)."""
    ray = pytest.importorskip("ray")
    started_here = not ray.is_initialized()
    if started_here:
        from tradescan.sweep.ray_runtime import start_local_runtime

        start_local_runtime(num_cpus=2)  # 127.0.0.1 only, never a `ray start` cluster
    yield
    if started_here:
        ray.shutdown()


@pytest.fixture(scope="session")
def swept(ray_session: None, tmp_path_factory: pytest.TempPathFactory) -> SweptRun:
    """``tradescan sweep`` of S1 on two synthetic symbols, 16 TPE trials, top 2, 1 worker (reports on)."""
    import contextlib
    import io

    from tradescan import data
    from tradescan.cli import main

    root = tmp_path_factory.mktemp("report")
    for number, symbol in enumerate(SYMBOLS):
        data.write_dataset(data.synthesize(symbol, "H1", BARS, seed=7 + number), symbol, "H1", data_dir=root / "data")
    directive = root / "rep.yaml"
    directive.write_text(yaml.safe_dump({
        "name": "REP", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": list(SYMBOLS), "timeframe": "H1",
        "search": {"sampler": "tpe", "trials": 16, "seed": 3}, "stage1": {"min_trades": 10},
        "stage2": {"top_k": 2}, "batch_size": 4}), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["sweep", str(directive), "--workers", "1", "--json", "--data-dir", str(root / "data"),
                     "--results-dir", str(root / "results")])
    assert code == 0, out.getvalue()
    printed = json.loads(out.getvalue())
    return SweptRun(root / "results", printed["run_id"], printed)


@pytest.fixture(scope="session")
def guarded(swept: SweptRun, tmp_path_factory: pytest.TempPathFactory) -> SweptRun:
    """A copy of the swept results folder with the guard stage's files added to the run."""
    from tradescan.results import ResultsStore

    results = tmp_path_factory.mktemp("guarded") / "results"
    shutil.copytree(swept.results_dir, results)
    frames = guard_frames()
    ResultsStore(results).write_parquet(swept.run_id, "guards.parquet", frames["guards"])
    run_dir = results / "runs" / swept.run_id
    frames["guard_series"].to_parquet(run_dir / "guard_series.parquet", index=False)
    frames["walk_forward"].to_parquet(run_dir / "walk_forward.parquet", index=False)
    return SweptRun(results, swept.run_id, swept.sweep_output)
