"""Stage 1's landscape: optimisation history, parameter importances and objective heatmaps.

Importances use Optuna's PED-ANOVA evaluator on a study rebuilt in memory from the trials table:
it has no random component (fANOVA and mean-decrease-impurity fit seeded random forests, need
scikit-learn and took over two minutes for 1,000 trials on one core), so the same trials always give
the same importances and the report stays reproducible. Heatmaps follow backtesting.py's
``plot_heatmaps``: the objective aggregated (mean or max, a button switches) over every pair of the
most important parameters.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna
import pandas as pd
import plotly.graph_objects as go
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from plotly.subplots import make_subplots

from tradescan.report.frames import history, pair_grid
from tradescan.results.tables import PARAM_PREFIX

MIN_TRIALS_FOR_IMPORTANCE = 10
HEATMAP_PARAMS = 4  # the heatmaps cover every pair of the 4 most important parameters (6 panels)
HEATMAP_COLUMNS = 3


def history_figure(trials: pd.DataFrame, objective: str) -> go.Figure:
    """Return each complete trial's objective value and the best so far, by trial number."""
    frame = history(trials)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=frame["trial"], y=frame["value"], mode="markers", name="trial",
                                marker={"size": 5, "opacity": 0.6}))
    figure.add_trace(go.Scatter(x=frame["trial"], y=frame["best"], mode="lines", name="best so far",
                                line={"shape": "hv"}))
    figure.update_layout(title="Optimisation history", xaxis_title="trial", yaxis_title=objective)
    return figure


def distributions_of(trials: pd.DataFrame, names: list[str]) -> dict[str, BaseDistribution]:
    """Return a distribution per parameter spanning the values the trials took (for the importances)."""
    distributions: dict[str, BaseDistribution] = {}
    for name in names:
        values = trials[PARAM_PREFIX + name].dropna()
        if values.dtype == bool or values.dtype == object or pd.api.types.is_string_dtype(values):
            distributions[name] = CategoricalDistribution(sorted(values.unique().tolist(), key=str))
        elif pd.api.types.is_integer_dtype(values):
            distributions[name] = IntDistribution(int(values.min()), int(values.max()))
        else:
            distributions[name] = FloatDistribution(float(values.min()), float(values.max()))
    return distributions


def param_importances(trials: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Return each varying parameter's importance (summing to 1), most important first.

    Returns ``{}`` when there are fewer than ``MIN_TRIALS_FOR_IMPORTANCE`` trials, fewer than two
    parameters to rank, or every trial has the same value (nothing to explain).
    """
    if len(trials) < MIN_TRIALS_FOR_IMPORTANCE or len(names) < 2 or trials["value"].nunique() < 2:
        return {}
    distributions = distributions_of(trials, names)
    with _quiet_optuna():
        study = optuna.create_study(direction="maximize", storage=optuna.storages.InMemoryStorage())
    for row in trials.to_dict("records"):
        params = {n: _plain(row[PARAM_PREFIX + n]) for n in names if not _missing(row[PARAM_PREFIX + n])}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={n: distributions[n] for n in params}, value=float(row["value"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {name: float(value) for name, value in importances.items()}


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's "A new study created in memory" line for the report's throw-away study."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def importance_figure(importances: dict[str, float]) -> go.Figure:
    """Return a horizontal bar per parameter, the most important on top."""
    names = list(importances)[::-1]
    figure = go.Figure(go.Bar(x=[importances[n] for n in names], y=names, orientation="h",
                              text=[f"{importances[n]:.2f}" for n in names], textposition="auto"))
    figure.update_layout(title="Parameter importances (PED-ANOVA, deterministic)",
                         xaxis_title="importance", height=max(260, 40 * len(names) + 120))
    return figure


def heatmap_params(importances: dict[str, float], names: list[str]) -> list[str]:
    """Return the parameters the heatmaps pair up: the most important ones, else the first ones."""
    ranked = [n for n in importances if n in names] or names
    return ranked[:HEATMAP_PARAMS]


def heatmaps_figure(trials: pd.DataFrame, params: list[str], objective: str) -> go.Figure:
    """Return one heatmap panel per parameter pair: mean of the objective per cell, or max (button)."""
    pairs = list(itertools.combinations(params, 2))
    rows = math.ceil(len(pairs) / HEATMAP_COLUMNS)
    columns = min(len(pairs), HEATMAP_COLUMNS)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[f"{y} by {x}" for x, y in pairs],
                           horizontal_spacing=0.08, vertical_spacing=0.16)
    for number, (x, y) in enumerate(pairs):
        row, column = number // HEATMAP_COLUMNS + 1, number % HEATMAP_COLUMNS + 1
        for how in ("mean", "max"):
            grid = pair_grid(trials, x, y, how)
            figure.add_trace(go.Heatmap(
                z=grid.to_numpy(np.float64), x=[_label(v) for v in grid.columns], y=[_label(v) for v in grid.index],
                coloraxis="coloraxis", visible=how == "mean", name=how,
                hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>{how} {objective}=%{{z:.3f}}<extra></extra>",
            ), row=row, col=column)
            figure.update_xaxes(title_text=x, type="category", row=row, col=column)
            figure.update_yaxes(title_text=y, type="category", row=row, col=column)
    count = len(pairs)
    figure.update_layout(
        title=f"{objective} over parameter pairs", height=330 * rows + 80, coloraxis={"colorscale": "Viridis"},
        updatemenus=[{"type": "buttons", "direction": "right", "x": 1.0, "y": 1.12, "buttons": [
            {"label": "mean", "method": "restyle", "args": [{"visible": [True, False] * count}]},
            {"label": "max", "method": "restyle", "args": [{"visible": [False, True] * count}]},
        ]}],
    )
    return figure


def _label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)
