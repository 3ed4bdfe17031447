"""The rows of the tables a sweep writes (DESIGN §11), built from Optuna trials and stage-2 finalists.

The files and their column names are declared in ``tradescan.results.tables``; this module only turns
the sweep's objects into rows in that shape:

* trials: ``symbol, trial, state, value, error, reason, param_<name>…`` plus the stage-1 metrics;
* stage2: one row per symbol × finalist × scenario: ``symbol, rank, trial, scenario, stage1_value,
  error, params_json, param_<name>…`` plus that scenario's metrics;
* trades / equity: the finalists' trades and equity with ``symbol`` and ``rank`` in front (equity:
  ``time`` and one column per scenario, long over time; daily unless the full curve was asked for,
  ``tradescan.sweep.equity``); trades only for the ranks the trades policy keeps
  (``tradescan.results.stored_trades``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from optuna.trial import FrozenTrial

from tradescan.results.tables import PARAM_PREFIX, TRADES, param_column
from tradescan.sweep.stage2 import Finalist


def _as_float(value: Any) -> float:
    # Metrics went through JSON ("inf" strings) when they came back from the RDB study.
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def trial_rows(symbol: str, trials: Iterable[FrozenTrial]) -> list[dict[str, Any]]:
    """Return one row per trial of ``symbol``."""
    rows = []
    for trial in trials:
        row: dict[str, Any] = {
            "symbol": symbol,
            "trial": trial.number,
            "state": trial.state.name,
            "value": trial.value if trial.value is not None else math.nan,
            "error": trial.user_attrs.get("error"),
            "reason": trial.user_attrs.get("reason"),
        }
        row.update({param_column(name): value for name, value in trial.params.items()})
        metrics = trial.user_attrs.get("metrics") or {}
        row.update({name: _as_float(value) for name, value in metrics.items()})
        rows.append(row)
    return rows


def stage2_rows(symbol: str, finalists: Iterable[Finalist], scenarios: Iterable[str]) -> list[dict[str, Any]]:
    """Return one row per finalist and scenario (a failed finalist gets its error and no metrics)."""
    rows = []
    for finalist in finalists:
        params = finalist.params or dict(finalist.trial.params)
        for scenario in scenarios:
            row: dict[str, Any] = {
                "symbol": symbol,
                "rank": finalist.rank,
                "trial": finalist.trial.number,
                "scenario": scenario,
                "stage1_value": finalist.trial.value,
                "error": finalist.error,
                "params_json": json.dumps(params, sort_keys=True),  # exact values (None stays None)
            }
            row.update({param_column(name): value for name, value in params.items()})
            row.update(finalist.metrics.get(scenario, {}))
            rows.append(row)
    return rows


def stored_trade_ranks(finalists: Iterable[Finalist], top: int | None) -> tuple[int, ...]:
    """Return the ranks whose trades are stored: those with trades among ranks 1..``top`` (``None``: all)."""
    return tuple(f.rank for f in finalists if f.trades is not None and (top is None or f.rank <= top))


def finalist_trades(symbol: str, finalists: Iterable[Finalist], ranks: Iterable[int]) -> list[pd.DataFrame]:
    """Return the trades frames of the finalists of ``ranks`` with ``symbol`` and ``rank`` in front."""
    kept = set(ranks)
    return [f.trades.assign(symbol=symbol, rank=f.rank) for f in finalists
            if f.trades is not None and f.rank in kept]


def finalist_equity(symbol: str, finalists: Iterable[Finalist]) -> list[pd.DataFrame]:
    """Return each finalist's equity (time, one column per scenario) with ``symbol`` and ``rank``.

    The equity is as stage 2 returned it: daily (``tradescan.sweep.equity``) unless the full curve was asked.
    """
    frames = []
    for finalist in finalists:
        if finalist.equity is not None:
            frames.append(finalist.equity.reset_index().assign(symbol=symbol, rank=finalist.rank))
    return frames


def concat(frames: Iterable[pd.DataFrame], lead: tuple[str, ...] = TRADES.columns) -> pd.DataFrame:
    """Concatenate frames and put the ``lead`` columns first (an empty frame when there are none)."""
    present = [frame for frame in frames if not frame.empty]
    if not present:
        return pd.DataFrame(columns=list(lead))
    combined = pd.concat(present, ignore_index=True)
    order = [c for c in lead if c in combined.columns] + [c for c in combined.columns if c not in lead]
    return combined[order]


def rows_frame(rows_by_symbol: Mapping[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """Return a frame of every symbol's rows; object columns of mixed types become strings."""
    rows = [row for symbol_rows in rows_by_symbol.values() for row in symbol_rows]
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if column.startswith(PARAM_PREFIX) and frame[column].dtype == object:
            # A categorical parameter may mix None, numbers and strings; Parquet needs one type.
            kinds = {type(v) for v in frame[column] if v is not None}
            if len(kinds) > 1 and not kinds <= {int, float}:
                frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame
