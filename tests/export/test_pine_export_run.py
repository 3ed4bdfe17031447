"""``tradescan export pine RUN_ID --symbol S --rank N``: a stored run's finalist as a Pine script.

The run is committed to a real results store (Parquet tables and manifest) by hand, so the exported
parameters and settings are known exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from tradescan.cli import main

results = pytest.importorskip("tradescan.results", reason="tradescan.load_run (the results store) is not in this build")

STARTED = dt.datetime(2025, 1, 2, 10, 0, tzinfo=dt.UTC)
FINALISTS = {1: {"ema_fast": 20, "r_tp1": 1.0}, 2: {"ema_fast": 15, "r_tp1": 1.25, "break_even": False}}


def _commit_run(root: Path, run_id: str = "S4-RUN") -> None:
    from tradescan.results.manifest import LineageRecord, ObjectiveRecord, SymbolEntry, TrialCounts

    manifest = results.RunManifest(
        run_id=run_id, hash="h" * 64, status="complete", source="s4.yaml",
        directive={"name": "S4", "strategy": "S4_TREND_PULLBACK_TRAIL_TARGETS", "timeframe": "H1",
                   "symbols": ["EURUSD"], "broker": "default", "max_hold_bars": 48,
                   "stops_from": "signal_close", "capital": {"initial": 5000, "risk_per_trade": 0.01},
                   "start": None, "end": None, "stage1": {"scenario": "B"},
                   "stage2": {"top_k": 2, "scenarios": ["A", "B", "C"]}},
        lineage=LineageRecord(run_id=run_id, hash="h" * 64, data_hashes={"EURUSD": "d" * 64},
                              strategy_hash="s" * 64, search_space_hash="q" * 64),
        objective=ObjectiveRecord(name="sharpe", scenario="B", min_trades=30),
        storage="/x/optuna.journal", storage_kind="journal", workers=2, started=STARTED, first_started=STARTED,
        symbols={"EURUSD": SymbolEntry(status="DONE", bars=3000, trials=TrialCounts(total=2, ran=2, complete=2))},
    )
    stage2 = pd.DataFrame(
        [
            {"symbol": "EURUSD", "rank": rank, "trial": rank + 10, "scenario": scenario, "stage1_value": 1.0,
             "error": None, "params_json": json.dumps(params), "trades": 100.0, "sharpe": 1.0}
            for rank, params in FINALISTS.items()
            for scenario in "ABC"
        ]
    )
    trials = pd.DataFrame({"symbol": ["EURUSD"] * 2, "trial": [11, 12], "state": ["COMPLETE"] * 2,
                           "value": [1.0, 0.9], "error": [None] * 2, "reason": [None] * 2, "sharpe": [1.0, 0.9]})
    results.ResultsStore(root).commit(run_id, manifest, {"trials.parquet": trials, "stage2.parquet": stage2})


def test_the_export_uses_the_finalists_params_and_the_runs_settings(tmp_path: Path) -> None:
    from tradescan.export import export_run_pine

    _commit_run(tmp_path)
    script = export_run_pine("S4-RUN", "EURUSD", 2, results_dir=tmp_path)
    assert 'ema_fast = input.int(15, "ema_fast"' in script
    assert 'r_tp1 = input.float(1.25, "r_tp1"' in script
    assert 'break_even = input.bool(false, "break_even"' in script
    assert "initial_capital=5000.0" in script and "RISK_PER_TRADE = 0.01" in script
    assert "MAX_HOLD_BARS = 48" in script
    assert "ts_stop := ts_grid(close - ts_side * sig_stop, -ts_side)" in script  # stops_from: signal_close
    assert "slippage=14)" in script  # default broker, scenario B: 1.355 pips
    header = "// run S4-RUN, EURUSD finalist rank 2 (trial 12), timeframe H1, costs of scenario B of broker default"
    assert header in script


def test_the_cli_writes_the_script_or_names_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit_run(tmp_path)
    out = tmp_path / "s4.pine"
    args = ["export", "pine", "S4-RUN", "--symbol", "EURUSD", "--rank", "1", "--results-dir", str(tmp_path)]
    assert main([*args, "--out", str(out)]) == 0
    assert out.read_text().startswith("//@version=6\n")
    assert f"wrote {out}" in capsys.readouterr().out
    assert main([*args, "--scenario", "A"]) == 0
    assert "slippage=10)" in capsys.readouterr().out  # 0.35 + 0.6 + 0.0 pips = 9.5 ticks, half up
    bad_rank = ["export", "pine", "S4-RUN", "--symbol", "EURUSD", "--rank", "7", "--results-dir", str(tmp_path)]
    assert main(bad_rank) == 2
    error = capsys.readouterr().err
    assert error.startswith("tradescan: error: ") and "rank 7" in error and error.count("\n") == 1
    assert main([*args, "--out", str(tmp_path / "missing" / "x.pine")]) == 2
    assert "the folder" in capsys.readouterr().err
