"""Notebook views: a tidy metrics table and an interactive figure for a backtest or a stored finalist.

``BacktestResult.stats()/.plot()`` and ``Run.stats()/.plot()`` call these, so a notebook shows the same
figure as the HTML report: price with the trades, then equity and drawdown per scenario.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tradescan.errors import TradeScanError
from tradescan.metrics import METRIC_NAMES
from tradescan.report.finalist import price_trades_figure
from tradescan.report.frames import finalist_rows, scenario_columns
from tradescan.results.errors import TradeScanNotice
from tradescan.results.stored_trades import not_stored_text, trades_stored
from tradescan.results.tables import COUNT_METRICS, STAGE2, TRADES, metric_columns

if TYPE_CHECKING:
    from tradescan.engine.result import BacktestResult
    from tradescan.results.run import Run


def metrics_table(metrics: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Return ``{scenario: {metric: value}}`` as a frame: one row per scenario, one column per metric.

    Metrics come in ``tradescan.metrics.METRIC_NAMES`` order (others after); counts are ints.
    """
    names = [m for m in METRIC_NAMES if any(m in row for row in metrics.values())]
    names += sorted({m for row in metrics.values() for m in row} - set(names))
    frame = pd.DataFrame([{m: row.get(m, np.nan) for m in names} for row in metrics.values()],
                         index=pd.Index(list(metrics), name="scenario"), columns=names, dtype=np.float64)
    for name in names:
        column = frame[name]
        if name in COUNT_METRICS and column.notna().all() and (column % 1 == 0).all():
            frame[name] = column.astype(np.int64)
    return frame


def backtest_stats(result: BacktestResult) -> pd.DataFrame:
    """Return a backtest's metrics: one row per scenario, one column per metric."""
    return metrics_table({s: result.metrics[s] for s in result.scenarios})


def backtest_figure(result: BacktestResult, bars: pd.DataFrame | None = None) -> go.Figure:
    """Return price with the trades (scenario B's, else the first's), then equity and drawdown per scenario."""
    equity = result.equity.rename_axis("time").reset_index()
    title = f"{result.strategy} {result.symbol}"
    return price_trades_figure(result.trades, equity, list(result.scenarios), bars, title)


def finalist_stats(run: Run, symbol: str, rank: int) -> pd.DataFrame:
    """Return a stored finalist's stage-2 metrics: one row per scenario, one column per metric."""
    rows = finalist_rows(run.stage2, symbol, rank) if not run.stage2.empty else run.stage2
    if rows.empty:
        raise TradeScanError(f"run {run.run_id} has no finalist {symbol} #{rank} (see 'tradescan top {run.run_id}')")
    names = metric_columns(STAGE2, list(rows.columns))
    by_scenario = rows.sort_values("scenario", kind="stable").to_dict("records")
    return metrics_table({str(r["scenario"]): {m: float(r[m]) for m in names} for r in by_scenario})


def finalist_figure(run: Run, symbol: str, rank: int, bars: pd.DataFrame | None = None) -> go.Figure:
    """Return a stored finalist's figure (as ``BacktestResult.plot``) from its stored trades and equity."""
    equity = finalist_rows(run.equity, symbol, rank) if not run.equity.empty else run.equity
    if equity.empty:
        raise TradeScanError(f"run {run.run_id} stores no equity for {symbol} #{rank} "
                             f"(see 'tradescan top {run.run_id}' for its finalists)")
    stored = run.table(TRADES)
    trades = finalist_rows(stored, symbol, rank) if not stored.empty else stored
    if not trades_stored(run.manifest, symbol, rank):
        warnings.warn(TradeScanNotice(f"the figure shows no trades: {not_stored_text(run.manifest, symbol, rank)}"),
                      stacklevel=3)
    scenarios = scenario_columns(equity)
    return price_trades_figure(trades, equity, scenarios, bars, f"{run.run_id} {symbol} #{rank}")
