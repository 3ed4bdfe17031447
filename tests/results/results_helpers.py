"""Hand-made runs for the results-store tests: a manifest and small tables whose values are known."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan.results import ResultsStore, RunManifest
from tradescan.results.manifest import LineageRecord, ObjectiveRecord, SymbolEntry, TrialCounts

STARTED = dt.datetime(2025, 1, 2, 10, 0, tzinfo=dt.UTC)
METRICS = ("trades", "sharpe", "profit_factor", "net_pnl", "max_drawdown_pct")


def make_manifest(run_id: str = "R-1", **updates: Any) -> RunManifest:
    """Return a complete manifest of a two-symbol run (EURUSD done, GBPUSD blocked)."""
    manifest = RunManifest(
        run_id=run_id, hash="h" * 64, status="complete", source="r.yaml",
        directive={"name": "R", "strategy": "S1_TREND_EMA_ATR_ADX", "timeframe": "H1",
                   "symbols": ["EURUSD", "GBPUSD"], "broker": "default", "max_hold_bars": 96,
                   "stops_from": "fill", "capital": {"initial": 10000}, "start": None, "end": None,
                   "stage2": {"top_k": 2, "scenarios": ["A", "B", "C"]}},
        lineage=LineageRecord(run_id=run_id, hash="h" * 64, data_hashes={"EURUSD": "d" * 64, "GBPUSD": None},
                              strategy_hash="s" * 64, search_space_hash="q" * 64),
        objective=ObjectiveRecord(name="sharpe", scenario="B", min_trades=30),
        storage="/x/optuna.journal", storage_kind="journal", workers=2, started=STARTED, first_started=STARTED,
        symbols={"EURUSD": SymbolEntry(status="DONE", bars=3000, trials=TrialCounts(total=4, ran=4, complete=4)),
                 "GBPUSD": SymbolEntry(status="BLOCK", reasons=("no data",))},
    )
    return manifest.model_copy(update=updates) if updates else manifest


def trials_frame() -> pd.DataFrame:
    """Four EURUSD trials."""
    return pd.DataFrame({"symbol": ["EURUSD"] * 4, "trial": [0, 1, 2, 3], "state": ["COMPLETE"] * 4,
                         "value": [0.5, 1.5, 1.0, -0.2], "error": [None] * 4, "reason": [None] * 4,
                         "param_fast": [10, 20, 30, 40], "sharpe": [0.5, 1.5, 1.0, -0.2]})


def stage2_frame() -> pd.DataFrame:
    """Two EURUSD finalists (rank 1 = trial 1, rank 2 = trial 2) under A, B, C; rank 2 failed under every one."""
    rows = []
    for rank, trial, fast in ((1, 1, 20), (2, 2, 30)):
        for index, scenario in enumerate("ABC"):
            failed = rank == 2
            rows.append({"symbol": "EURUSD", "rank": rank, "trial": trial, "scenario": scenario,
                         "stage1_value": 1.5 if rank == 1 else 1.0, "error": "ValueError: boom" if failed else None,
                         "params_json": json.dumps({"fast": fast, "use_tp": None}), "param_fast": fast,
                         "trades": float("nan") if failed else 120.0 - index,
                         "sharpe": float("nan") if failed else 1.5 - index / 2,
                         "profit_factor": float("nan") if failed else float("inf") if index == 0 else 1.2,
                         "net_pnl": float("nan") if failed else 100.0 * (3 - index),
                         "max_drawdown_pct": float("nan") if failed else 2.5})
    return pd.DataFrame(rows)


def committed_run(root: Path, run_id: str = "R-1") -> tuple[ResultsStore, RunManifest]:
    """Return a store under ``root`` holding one committed run with trials and stage-2 tables."""
    store = ResultsStore(root)
    manifest = store.commit(run_id, make_manifest(run_id), {"trials.parquet": trials_frame(),
                                                           "stage2.parquet": stage2_frame()})
    return store, manifest


def small_sweep(folder: Path, name: str, trials: int, data_dir: Path | None = None) -> Path:
    """Write a random-sampler directive for EURUSD H1 (and, with ``data_dir``, 3,000 synthetic bars)."""
    import yaml

    if data_dir is not None and not data_dir.exists():
        from tradescan import data

        data.write_dataset(data.synthesize("EURUSD", "H1", 3_000, seed=4), "EURUSD", "H1", data_dir=data_dir)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD"], "timeframe": "H1",
        "search": {"sampler": "random", "trials": trials, "seed": 4}, "stage1": {"min_trades": 20},
        "stage2": {"top_k": 1}, "batch_size": 4}), encoding="utf-8")
    return path
