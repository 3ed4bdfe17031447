"""Shared pieces of the report tests: the swept run's handle and the guard stage's hand-made tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
