"""What the guard stage reads and writes: its inputs from live stages 1 and 2 or from a stored run,
and its rows as the three guard files and the manifest's ``guards`` section (W2 layout).

Every finalist's evidence is built the same way whichever path it comes from: the stage-1 trial list,
the stage-2 metrics by scenario, the trades' PnL under the stage-1 scenario, the trials' daily
returns. ``tradescan validate`` on a stored run therefore computes exactly what the sweep computed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tradescan.guards import GuardSettings
from tradescan.metrics import day_end_index
from tradescan.results.tables import GUARD_SERIES, GUARDS, WALK_FORWARD
from tradescan.sweep.guard_stage import FinalistInput, GuardInputs, SymbolGuards
from tradescan.sweep.stage2 import Finalist

__all__ = [
    "guard_frames",
    "guards_section",
    "inputs_from_stage2",
    "inputs_from_tables",
    "settings_fingerprint",
    "trial_days",
]


def trial_days(times: np.ndarray) -> np.ndarray:
    """Return the UTC date of each day's last bar (the day grid of the trial returns)."""
    times = np.asarray(times).astype("datetime64[ns]")
    return times[day_end_index(times)].astype("datetime64[D]")


def _pnl(trades: pd.DataFrame | None, scenario: str) -> np.ndarray:
    chosen = _scenario_trades(trades, scenario)
    return np.zeros(0) if chosen is None else chosen["pnl"].to_numpy(np.float64)


def _scenario_trades(trades: pd.DataFrame | None, scenario: str) -> pd.DataFrame | None:
    if trades is None or trades.empty:
        return None
    return trades[trades["scenario"] == scenario] if "scenario" in trades.columns else trades


def inputs_from_stage2(
    trials: Sequence[FrozenTrial], finalists: Iterable[Finalist], returns: Mapping[int, np.ndarray],
    times: np.ndarray, scenario: str,
) -> GuardInputs:
    """Return the guard inputs of a symbol whose stages 1 and 2 just ran."""
    chosen = [
        FinalistInput(f.rank, f.trial.number, dict(f.params or f.trial.params), f.metrics, _pnl(f.trades, scenario),
                      _scenario_trades(f.trades, scenario))
        for f in finalists if f.error is None
    ]
    return GuardInputs(list(trials), chosen, dict(returns), trial_days(times), np.asarray(times))


def inputs_from_tables(
    symbol: str, trials: Sequence[FrozenTrial], stage2: pd.DataFrame, trades: pd.DataFrame,
    returns: Mapping[int, np.ndarray], times: np.ndarray, scenario: str,
) -> GuardInputs:
    """Return the guard inputs of ``symbol`` from a stored run's stage-2 and trades tables."""
    rows = stage2[(stage2["symbol"] == symbol) & stage2["error"].isna()] if not stage2.empty else stage2
    fixed = {"symbol", "rank", "trial", "scenario", "stage1_value", "error", "params_json"}
    finalists = []
    for rank, group in rows.groupby("rank", sort=True):
        first = group.iloc[0]
        metrics = {
            str(row["scenario"]): {str(k): float(v) for k, v in row.items()
                                   if k not in fixed and not str(k).startswith("param_") and _is_number(v)}
            for _, row in group.iterrows()
        }
        mine = trades[(trades["symbol"] == symbol) & (trades["rank"] == rank)] if not trades.empty else trades
        finalists.append(FinalistInput(int(str(rank)), int(first["trial"]), json.loads(first["params_json"]), metrics,
                                       _pnl(mine, scenario), _scenario_trades(mine, scenario)))
    return GuardInputs(list(trials), finalists, dict(returns), trial_days(times), np.asarray(times))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def missing_returns(trials: Sequence[FrozenTrial], returns: Mapping[int, np.ndarray]) -> list[FrozenTrial]:
    """Return the COMPLETE trials that have no stored daily returns (to be re-computed on the actors)."""
    return [t for t in trials if t.state == TrialState.COMPLETE and t.number not in returns]


def guard_frames(by_symbol: Mapping[str, SymbolGuards]) -> dict[str, pd.DataFrame]:
    """Return the three guard tables (file name -> frame) of every symbol's rows, columns as the layout."""
    frames = {}
    for table, attr in ((GUARDS, "guard_rows"), (GUARD_SERIES, "series_rows"), (WALK_FORWARD, "fold_rows")):
        rows = [row for guards in by_symbol.values() for row in getattr(guards, attr)]
        frame = pd.DataFrame(rows, columns=list(table.columns))
        if table is WALK_FORWARD:
            for column in ("train_start", "train_end", "test_start", "test_end"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        frames[table.file] = frame
    return frames


def settings_fingerprint(settings: GuardSettings) -> dict[str, Any]:
    """Return the settings as plain JSON data (what decides whether a stored symbol is re-validated)."""
    data: dict[str, Any] = json.loads(settings.model_dump_json())
    return data


def guards_section(settings: GuardSettings, by_symbol: Mapping[str, SymbolGuards]) -> dict[str, Any]:
    """Return the manifest's ``guards`` section (W2 layout)."""
    symbols = {}
    for symbol, guards in by_symbol.items():
        summary = guards.summary
        symbols[symbol] = {
            "dsr": summary.get("dsr"), "pbo": summary.get("pbo"), "wfe": summary.get("wfe"),
            "n_trials": summary.get("n_trials"), "n_eff_trials": summary.get("n_eff_trials"),
            "seconds": {k: round(v, 3) for k, v in guards.seconds.items()},
            "not_reported": dict(summary.get("not_reported", {})),
            "finalists": [{"rank": f["rank"], "prod_ready": f["prod_ready"], "failed": f["failed"]}
                          for f in summary.get("finalists", [])],
        }
    return {"preset": settings.preset, "seed": settings.seed, "settings": settings_fingerprint(settings),
            "symbols": symbols}


def validate_json(run_id: str, settings: GuardSettings, by_symbol: Mapping[str, SymbolGuards]) -> dict[str, Any]:
    """Return DESIGN §11's ``validate --json`` document."""
    return {
        "run_id": run_id,
        "preset": settings.preset,
        "symbols": {
            symbol: {"dsr": g.summary.get("dsr"), "pbo": g.summary.get("pbo"), "wfe": g.summary.get("wfe"),
                     "finalists": [{"rank": f["rank"], "params": f["params"], "prod_ready": f["prod_ready"],
                                    "failed": f["failed"], "guards": f["guards"]}
                                   for f in g.summary.get("finalists", [])]}
            for symbol, g in by_symbol.items()
        },
    }
