"""The top-finalists query and the params-file entries built from it."""

from __future__ import annotations

import math

import pytest
from results_helpers import committed_run

from tradescan.errors import TradeScanError
from tradescan.results import load_run, top_finalists
from tradescan.results.reproduce import backtest_settings, params_file_entry


@pytest.fixture
def run(tmp_path):
    committed_run(tmp_path)
    return load_run("R-1", tmp_path)


def test_finalists_by_symbol_and_rank_with_their_scenarios(run) -> None:
    best, second = top_finalists(run)
    assert (best.symbol, best.rank, best.trial, best.stage1_value, best.error) == ("EURUSD", 1, 1, 1.5, None)
    assert best.params == {"fast": 20, "use_tp": None}
    assert best.metrics["A"] == {"trades": 120, "sharpe": 1.5, "profit_factor": math.inf, "net_pnl": 300.0,
                                 "max_drawdown_pct": 2.5}
    assert type(best.metrics["B"]["trades"]) is int and best.metrics["C"]["trades"] == 118
    assert [best.metrics[s]["sharpe"] for s in "ABC"] == [1.5, 1.0, 0.5]
    assert (second.rank, second.error, second.metrics) == (2, "ValueError: boom", {})
    assert best.as_json() == {"symbol": "EURUSD", "rank": 1, "params": best.params, "metrics": best.metrics}


def test_k_rank_and_symbol_select(run) -> None:
    assert [f.rank for f in top_finalists(run, k=1)] == [1]
    assert [f.rank for f in top_finalists(run, symbol="EURUSD", rank=2)] == [2]
    with pytest.raises(TradeScanError, match=r"run R-1 has no finalist of rank 5 for EURUSD \(ranks: \[1, 2\]\)"):
        top_finalists(run, symbol="EURUSD", rank=5)
    with pytest.raises(TradeScanError, match=r"no finalists for 'GBPUSD' \(symbols with finalists: EURUSD\)"):
        top_finalists(run, symbol="GBPUSD")


def test_params_file_entry_carries_what_backtest_needs(run) -> None:
    best = top_finalists(run, k=1)[0]
    assert params_file_entry(run.manifest, best) == {
        "run_id": "R-1", "strategy": "S1_TREND_EMA_ATR_ADX", "symbol": "EURUSD", "timeframe": "H1", "rank": 1,
        "trial": 1, "start": None, "end": None, "strategy_paths": [], "params": {"fast": 20, "use_tp": None},
        "settings": {"broker": "default", "capital": {"initial": 10000}, "max_hold_bars": 96, "stops_from": "fill",
                     "scenarios": ["A", "B", "C"]},
        "metrics": best.metrics,
    }


def test_settings_nested_under_backtest_are_read_too(run) -> None:
    nested = run.manifest.model_copy(update={"directive": {
        "backtest": {"broker": {"name": "mine"}, "scenarios": ["B"], "max_hold_bars": None}}})
    assert backtest_settings(nested) == {"broker": {"name": "mine"}, "scenarios": ["B"], "max_hold_bars": None}


def test_a_run_without_finalists(tmp_path) -> None:
    import pandas as pd
    from results_helpers import make_manifest

    from tradescan.results import ResultsStore

    ResultsStore(tmp_path).commit("R-0", make_manifest("R-0"), {"stage2.parquet": pd.DataFrame([])})
    run = load_run("R-0", tmp_path)
    assert top_finalists(run) == []
    with pytest.raises(TradeScanError, match=r"no finalists for 'EURUSD' \(symbols with finalists: none\)"):
        top_finalists(run, symbol="EURUSD")
