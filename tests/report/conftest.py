"""Fixtures of the report tests: one tiny real sweep per session (1 worker, few trials, real Ray, real
Optuna journal, real Parquet) through the CLI, and a copy of it with hand-made guard-stage files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

BARS = 3_000
SYMBOLS = ("EURUSD", "GBPUSD")


@dataclass(frozen=True)
class SweptRun:
    """A stored run: its results folder, id and what the sweep command printed."""

    results_dir: Path
    run_id: str
    sweep_output: dict[str, Any]

    @property
    def run_dir(self) -> Path:
        return self.results_dir / "runs" / self.run_id


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """Reuse a running Ray, else start a small local one (2 CPUs, no dashboard)."""
    ray = pytest.importorskip("ray")
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
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


# Hand-made guard rows of the guarded copy: EURUSD #1 passes every guard, #2 fails a critical one
# (dsr) and a soft one (top10_share); GBPUSD has none (the guard stage skipped it).
GUARD_ROWS = [
    ("EURUSD", 1, "wfe", 0.8, 0.6, True, True, ""),
    ("EURUSD", 1, "dsr", 0.97, 0.95, True, True, ""),
    ("EURUSD", 1, "top10_share", 0.3, 0.4, True, False, ""),
    ("EURUSD", 2, "wfe", 0.7, 0.6, True, True, ""),
    ("EURUSD", 2, "dsr", 0.5, 0.95, False, True, "deflated by 16 trials"),
    ("EURUSD", 2, "top10_share", 0.6, 0.4, False, False, "<b>not</b> escaped?"),
]
MC_SAMPLES = 200
FOLDS = 3


def guard_frames() -> dict[str, pd.DataFrame]:
    """Return the guard stage's three tables for the guarded copy (fixed numbers, fixed seed)."""
    guards = pd.DataFrame(GUARD_ROWS, columns=["symbol", "rank", "guard", "value", "threshold", "passed",
                                               "critical", "detail"])
    rng = np.random.default_rng(11)
    series = []
    for rank in (1, 2):
        for name, values in (("mc1_max_drawdown", rng.uniform(0.01, 0.08, MC_SAMPLES)),
                             ("mc2_net_pnl", rng.normal(200.0, 50.0, MC_SAMPLES)),
                             ("mc_perm_sharpe", rng.normal(0.0, 0.5, MC_SAMPLES)),
                             ("sensitivity_value", np.array([1.2, 1.1, 1.0, 1.3, 0.9])),
                             ("wf_oos_equity", 10_000.0 + np.cumsum(rng.normal(1.0, 5.0, 90)))):
            series += [("EURUSD", rank, name, i, float(v)) for i, v in enumerate(values)]
    series += [("EURUSD", 0, "pbo_logit", i, float(v)) for i, v in enumerate(rng.normal(0.3, 1.0, 70))]
    guard_series = pd.DataFrame(series, columns=["symbol", "rank", "series", "i", "value"])
    starts = pd.date_range("2020-01-01", periods=FOLDS + 2, freq="30D", tz="UTC")
    folds = pd.DataFrame([{
        "symbol": "EURUSD", "rank": rank, "fold": fold, "train_start": starts[fold], "train_end": starts[fold + 1],
        "test_start": starts[fold + 1], "test_end": starts[fold + 2], "is_return": 0.02 * (fold + 1),
        "oos_return": 0.01 * (fold - 1), "oos_sharpe": 0.5 * fold, "oos_trades": 10 + fold,
        "params": json.dumps({"ema_fast": 10 + fold})} for rank in (1, 2) for fold in range(FOLDS)])
    return {"guards": guards, "guard_series": guard_series, "walk_forward": folds}


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
