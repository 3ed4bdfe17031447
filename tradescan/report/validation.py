"""The guard stage's part of the report: verdicts, MC1/MC2 and permutation histograms, walk-forward
folds and the PBO logit histogram (all drawn only when the guard stage wrote their data).

Series names and table columns follow the guard stage's layout (``guard_series.parquet``: ``symbol,
rank, series, i, value``; ``walk_forward.parquet``: one row per fold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

MC1_MAX_DRAWDOWN = "mc1_max_drawdown"
MC2_NET_PNL = "mc2_net_pnl"
MC_PERM_SHARPE = "mc_perm_sharpe"
PBO_LOGIT = "pbo_logit"
SENSITIVITY_VALUE = "sensitivity_value"
WF_OOS_EQUITY = "wf_oos_equity"
HISTOGRAM_BINS = 40


@dataclass(frozen=True)
class Verdict:
    """One finalist's verdict: prod-ready when every critical guard passed.

    Attributes:
        passed: guards that passed.
        total: guards evaluated.
        failed_critical: names of the critical guards that failed.
        failed_other: names of the non-critical guards that failed.
    """

    passed: int
    total: int
    failed_critical: tuple[str, ...]
    failed_other: tuple[str, ...]

    @property
    def prod_ready(self) -> bool:
        return self.total > 0 and not self.failed_critical

    def label(self) -> str:
        """Return ``PROD-READY (11/11)`` or ``NOT READY (9/11): failed dsr, pbo``."""
        head = f"{'PROD-READY' if self.prod_ready else 'NOT READY'} ({self.passed}/{self.total})"
        failed = [*self.failed_critical, *(f"{name} (soft)" for name in self.failed_other)]
        return f"{head}: failed {', '.join(failed)}" if failed else head


def verdict(guards: pd.DataFrame) -> Verdict:
    """Return the verdict of one finalist's guard rows."""
    passed = guards["passed"].astype(bool)
    critical = guards["critical"].astype(bool)
    names = guards["guard"].astype(str)
    return Verdict(passed=int(passed.sum()), total=len(guards),
                   failed_critical=tuple(names[~passed & critical]), failed_other=tuple(names[~passed & ~critical]))


def series_values(guard_series: pd.DataFrame, symbol: str, rank: int, series: str) -> np.ndarray:
    """Return one series of the guard stage, ordered by ``i`` (empty when absent)."""
    mine = guard_series[(guard_series["symbol"] == symbol) & (guard_series["rank"] == rank)
                        & (guard_series["series"] == series)]
    return mine.sort_values("i", kind="stable")["value"].to_numpy(np.float64)


def histogram_figure(values: np.ndarray, *, title: str, x_title: str, marker: float | None = None,
                     marker_label: str = "") -> go.Figure:
    """Return a histogram of ``values`` with an optional vertical line (e.g. the real Sharpe, 0)."""
    figure = go.Figure(go.Histogram(x=values, nbinsx=HISTOGRAM_BINS, name=x_title))
    if marker is not None:
        figure.add_vline(x=marker, line={"color": "#d62728", "dash": "dash"}, annotation_text=marker_label)
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title="count", height=320, showlegend=False)
    return figure


def walk_forward_figure(folds: pd.DataFrame, title: str) -> go.Figure:
    """Return the in-sample and out-of-sample return of each fold as grouped bars (in %)."""
    labels = [f"fold {int(f)}" for f in folds["fold"]]
    figure = go.Figure([
        go.Bar(x=labels, y=folds["is_return"].to_numpy(np.float64) * 100.0, name="in-sample"),
        go.Bar(x=labels, y=folds["oos_return"].to_numpy(np.float64) * 100.0, name="out-of-sample"),
    ])
    figure.update_layout(title=title, barmode="group", yaxis_title="return %", height=320)
    return figure


def line_figure(values: np.ndarray, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Return a line of ``values`` by index (the concatenated walk-forward OOS equity)."""
    figure = go.Figure(go.Scatter(x=np.arange(len(values)), y=values, mode="lines", name=y_title))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=300, showlegend=False)
    return figure


def sensitivity_figure(values: np.ndarray, objective: str) -> go.Figure:
    """Return the objective at the centre (first bar) and at each neighbour of the parameters."""
    labels = ["centre", *(f"neighbour {i}" for i in range(1, len(values)))]
    colours = ["#d62728", *(["#1f77b4"] * (len(values) - 1))]
    figure = go.Figure(go.Bar(x=labels, y=values, marker={"color": colours}))
    figure.update_layout(title="Sensitivity: the objective around the parameters (±10 %)", yaxis_title=objective,
                         height=300, showlegend=False)
    return figure
