"""Notebook use: BacktestResult.stats()/plot(), Run.stats()/plot(), progress bars in Jupyter."""

from __future__ import annotations

import pandas as pd
import pytest
import rich
from report_helpers import SweptRun

import tradescan
from tradescan import data
from tradescan.engine.result import BacktestResult
from tradescan.errors import TradeScanError
from tradescan.metrics import METRIC_NAMES
from tradescan.sweep import progress


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return data.synthesize("EURUSD", "H1", 2_000, seed=1)


@pytest.fixture(scope="module")
def result(bars: pd.DataFrame) -> BacktestResult:
    return tradescan.backtest(bars, "S1_TREND_EMA_ATR_ADX", symbol="EURUSD")


def test_stats_is_one_row_per_scenario_with_every_metric(result: BacktestResult) -> None:
    stats = result.stats()
    assert stats.index.tolist() == ["A", "B", "C"] and stats.index.name == "scenario"
    assert stats.columns.tolist() == list(METRIC_NAMES)
    for scenario in ("A", "B", "C"):
        for name in METRIC_NAMES:
            assert stats.loc[scenario, name] == result.metrics[scenario][name]
    assert str(stats["trades"].dtype) == "int64"


def test_plot_draws_price_with_b_trades_then_equity_and_drawdown(result: BacktestResult, bars: pd.DataFrame) -> None:
    figure = result.plot(bars)
    names = [trace.name for trace in figure.data]
    assert names == ["close", "long entry B", "short entry B", "trades B", "equity A", "drawdown A",
                     "equity B", "drawdown B", "equity C", "drawdown C"]
    trades_b = result.trades[result.trades["scenario"] == "B"]
    assert len(figure.data[1].x) == int((trades_b["side"] == 1).sum())
    assert len(figure.data[2].x) == int((trades_b["side"] == -1).sum())
    assert len(figure.data[3].x) == 3 * len(trades_b)  # entry, exit, gap per trade
    assert result.plot().data[0].name == "long entry B"  # without bars: no price line


def test_run_stats_and_plot_of_a_stored_finalist(swept: SweptRun) -> None:
    run = tradescan.load_run(swept.run_id, swept.results_dir)
    stats = run.stats("EURUSD", 2)
    stage2 = run.stage2[(run.stage2["symbol"] == "EURUSD") & (run.stage2["rank"] == 2)].set_index("scenario")
    assert stats.index.tolist() == ["A", "B", "C"]
    assert stats["sharpe"].tolist() == stage2.loc[["A", "B", "C"], "sharpe"].tolist()
    figure = run.plot("EURUSD", 2)
    assert [t.name for t in figure.data][:3] == ["long entry B", "short entry B", "trades B"]
    with pytest.raises(TradeScanError, match=r"has no finalist EURUSD #7"):
        run.stats("EURUSD", 7)
    with pytest.raises(TradeScanError, match=r"stores no equity for AUDUSD #1"):
        run.plot("AUDUSD", 1)


def test_progress_bars_show_in_jupyter_where_stdout_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rich.get_console(), "is_jupyter", False)
    assert not progress.interactive()  # pytest captures stdout: not a TTY
    assert type(progress.make_progress(True)) is progress.NullProgress
    monkeypatch.setattr(rich.get_console(), "is_jupyter", True)
    assert progress.interactive()
    assert type(progress.make_progress(True)) is progress.RichProgress
    assert type(progress.make_progress(False)) is progress.NullProgress
