"""Figures of one finalist (or one backtest): equity and drawdown per scenario, R distribution, price.

The same functions draw a stored run's finalists in the report and ``BacktestResult.plot()`` in a
notebook, so both show the same thing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tradescan.report.frames import daily_drawdown_pct, daily_equity

R_BIN_WIDTH = 0.25  # R-multiple histogram bins
PRICE_SCENARIO = "B"  # the default scenario (stage 1's): its trades are drawn on the price
SCENARIO_COLOURS = ("#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd", "#8c564b")


def colour(number: int) -> str:
    """Return the colour of the ``number``-th scenario (the same in every figure)."""
    return SCENARIO_COLOURS[number % len(SCENARIO_COLOURS)]


def equity_drawdown_figure(equity: pd.DataFrame, scenarios: list[str], title: str) -> go.Figure:
    """Return the daily equity (top) and the day's deepest drawdown in % (bottom), one line per scenario.

    Args:
        equity: ``time`` and one column per scenario (account currency at each bar's close).
        scenarios: the scenario columns to draw.
        title: the figure's title.
    """
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04)
    add_equity_traces(figure, equity, scenarios, row=1, drawdown_row=2)
    figure.update_yaxes(title_text="equity", row=1, col=1)
    figure.update_yaxes(title_text="drawdown %", row=2, col=1)
    figure.update_layout(title=title, height=460, hovermode="x unified")
    return figure


def add_equity_traces(figure: go.Figure, equity: pd.DataFrame, scenarios: list[str], *, row: int,
                      drawdown_row: int) -> None:
    """Add the daily equity and drawdown lines of every scenario to ``figure``'s two rows."""
    curve = daily_equity(equity, scenarios)
    drawdown = daily_drawdown_pct(equity, scenarios)
    days = np.datetime_as_string(pd.DatetimeIndex(curve.index).tz_localize(None).to_numpy(), unit="D")
    for number, scenario in enumerate(scenarios):
        line = {"color": colour(number), "width": 1.5}
        figure.add_trace(go.Scatter(x=days, y=curve[scenario].to_numpy(np.float64), mode="lines",
                                    name=f"equity {scenario}", legendgroup=scenario, line=line), row=row, col=1)
        figure.add_trace(go.Scatter(x=days, y=drawdown[scenario].to_numpy(np.float64), mode="lines",
                                    name=f"drawdown {scenario}", legendgroup=scenario, showlegend=False,
                                    line={**line, "width": 1}), row=drawdown_row, col=1)


def r_distribution_figure(trades: pd.DataFrame, scenarios: list[str], title: str) -> go.Figure:
    """Return a histogram of the trades' R multiples, one overlaid series per scenario."""
    figure = go.Figure()
    for number, scenario in enumerate(scenarios):
        values = trades.loc[trades["scenario"] == scenario, "r_multiple"].astype(np.float64)
        values = values[np.isfinite(values)]
        figure.add_trace(go.Histogram(x=values.to_numpy(), name=scenario,
                                      marker={"color": colour(number)},
                                      xbins={"size": R_BIN_WIDTH}))
    figure.update_layout(title=title, barmode="group", xaxis_title="R multiple", yaxis_title="trades",
                         height=320)
    return figure


def price_trades_figure(trades: pd.DataFrame, equity: pd.DataFrame, scenarios: list[str],
                        bars: pd.DataFrame | None, title: str) -> go.Figure:
    """Return price with the trades (top) above equity and drawdown per scenario.

    Args:
        trades: the trades of every scenario (``entry_time``, ``entry_price``, ``exit_time``, ...).
        equity: ``time`` and one column per scenario.
        scenarios: the scenarios to draw; the price shows the trades of B when drawn, else of the first.
        bars: the bars (``time`` and ``close``) for the price line, or ``None`` to show the trades only.
        title: the figure's title.
    """
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.5, 0.32, 0.18],
                           vertical_spacing=0.03)
    if bars is not None:
        frame = bars if "time" in bars.columns else bars.reset_index()
        figure.add_trace(go.Scatter(x=pd.DatetimeIndex(frame["time"]), y=frame["close"].to_numpy(np.float64),
                                    mode="lines", name="close", line={"color": "#777", "width": 1}), row=1, col=1)
    if scenarios:
        shown = PRICE_SCENARIO if PRICE_SCENARIO in scenarios else scenarios[0]
        _add_trade_markers(figure, trades[trades["scenario"] == shown], shown)
    add_equity_traces(figure, equity, scenarios, row=2, drawdown_row=3)
    figure.update_yaxes(title_text="price", row=1, col=1)
    figure.update_yaxes(title_text="equity", row=2, col=1)
    figure.update_yaxes(title_text="drawdown %", row=3, col=1)
    figure.update_layout(title=title, height=700)
    return figure


def _add_trade_markers(figure: go.Figure, trades: pd.DataFrame, scenario: str) -> None:
    for side, name, symbol, tint in ((1, "long", "triangle-up", "#2ca02c"), (-1, "short", "triangle-down", "#d62728")):
        mine = trades[trades["side"] == side]
        figure.add_trace(go.Scatter(
            x=pd.DatetimeIndex(mine["entry_time"]), y=mine["entry_price"].to_numpy(np.float64), mode="markers",
            name=f"{name} entry {scenario}", marker={"symbol": symbol, "color": tint, "size": 9}), row=1, col=1)
    segments_x: list[object] = []
    segments_y: list[float] = []
    for entry_time, entry_price, exit_time, exit_price in zip(
            trades["entry_time"], trades["entry_price"], trades["exit_time"], trades["exit_price"], strict=True):
        segments_x += [entry_time, exit_time, None]
        segments_y += [float(entry_price), float(exit_price), float("nan")]
    figure.add_trace(go.Scatter(x=segments_x, y=segments_y, mode="lines+markers", name=f"trades {scenario}",
                                line={"color": "#444", "width": 1, "dash": "dot"},
                                marker={"symbol": "x", "size": 6}), row=1, col=1)
