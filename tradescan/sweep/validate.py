"""The guard stage's façade: after stage 2 in a sweep (``guard_symbol``) and on a stored run
(``validate_run``, the ``tradescan validate`` command).

Both paths build a symbol's ``GuardInputs`` from the same things (the stage-1 trials, the stage-2
metrics and trades, every COMPLETE trial's daily returns) and call ``run_guard_stage``; a stored run's
guards are therefore the numbers its sweep computed. The trades of finalists the run did not store
(its trades policy) are backtested again on the actors (``finalists_trades``), as are missing daily
returns. ``validate_run`` is resumable: a symbol whose
guards are stored under the same settings is not run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial

from tradescan.errors import ConfigError, TradeScanError
from tradescan.guards import GuardSettings, parse_guard_settings
from tradescan.preflight import ALLOW, SweepPlan, check_symbol, prepare
from tradescan.results.manifest import RunManifest
from tradescan.results.stored_trades import trades_stored
from tradescan.results.tables import TRADES
from tradescan.results.trial_returns import read_trial_returns, returns_by_trial, write_trial_returns
from tradescan.sweep.guard_io import (
    guard_frames,
    guards_section,
    inputs_from_stage2,
    inputs_from_tables,
    missing_returns,
    settings_fingerprint,
    trial_days,
    validate_json,
)
from tradescan.sweep.guard_stage import SymbolGuards, run_guard_stage
from tradescan.sweep.pool import EvaluatorPool, TrialLost
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.stage2 import Finalist

__all__ = ["ValidateResult", "finalists_trades", "guard_symbol", "stored_returns", "validate_run"]


def stored_returns(
    pool: EvaluatorPool, symbol: str, run_dir: Path, trials: Sequence[FrozenTrial],
    new: Mapping[int, np.ndarray], times: np.ndarray,
) -> dict[int, np.ndarray]:
    """Return every COMPLETE trial's daily returns: the file's, ``new`` ones, and any missing one
    re-computed on the actors; writes the file when it gained columns."""
    days = trial_days(times)
    frame = read_trial_returns(run_dir, symbol)
    returns = returns_by_trial(frame) if len(frame) == len(days) else {}
    returns.update(new)
    missing = missing_returns(trials, returns)
    if missing:
        outcomes = pool.map(symbol, "evaluate_batch", [dict(t.params) for t in missing])
        for trial, outcome in zip(missing, outcomes, strict=True):
            if outcome[0] is not None and len(outcome) > 2 and outcome[2] is not None:
                returns[trial.number] = outcome[2]
    if new or missing:
        complete = {n: r for n, r in returns.items() if n in {t.number for t in trials}}
        write_trial_returns(run_dir, symbol, days, complete)
        returns = complete
    return returns


def finalists_trades(
    pool: EvaluatorPool, symbol: str, manifest: RunManifest, stage2: pd.DataFrame, stored: pd.DataFrame
) -> pd.DataFrame:
    """Return every finalist's trades of ``symbol``: the stored ones, and those of the finalists whose
    trades the run did not keep (``tradescan.results.stored_trades``) backtested again on the actors as
    stage 2 ran them (the same backtest, so the same trades; the stage-1 scenario's, which the guards
    read), then dropped again: the run's files are unchanged.
    """
    mine = stored[stored["symbol"] == symbol] if not stored.empty else stored
    rows = stage2[(stage2["symbol"] == symbol) & stage2["error"].isna()] if not stage2.empty else stage2
    firsts = rows.drop_duplicates("rank").sort_values("rank").to_dict("records") if not rows.empty else []
    missing = [(int(row["rank"]), json.loads(str(row["params_json"]))) for row in firsts
               if not trades_stored(manifest, symbol, int(row["rank"]))]
    if not missing:
        return mine
    jobs = [{"params": params, "trades": "stage1", "equity": "none"} for _, params in missing]
    outcomes = pool.map(symbol, "run_finalist_jobs", jobs)
    frames = [mine] if not mine.empty else []
    for (rank, _), outcome in zip(missing, outcomes, strict=True):
        payload, error = (None, outcome.reason) if isinstance(outcome, TrialLost) else outcome
        if payload is None:
            raise TradeScanError(f"{symbol} finalist #{rank}: its trades were not stored and backtesting it "
                                 f"again failed ({error})")
        frames.append(payload["trades"].assign(symbol=symbol, rank=rank))
    return pd.concat(frames, ignore_index=True)


def guard_symbol(
    pool: EvaluatorPool, plan: SweepPlan, symbol: str, run_dir: Path, trials: Sequence[FrozenTrial],
    new_returns: Mapping[int, np.ndarray], finalists: Sequence[Finalist], times: np.ndarray,
    settings: GuardSettings, progress: NullProgress | None = None,
) -> SymbolGuards:
    """Run the guard stage of ``symbol`` right after its stage 2 (the driver's one call)."""
    returns = stored_returns(pool, symbol, run_dir, trials, new_returns, times)
    inputs = inputs_from_stage2(trials, finalists, returns, times, plan.directive.stage1.scenario)
    return run_guard_stage(pool, plan, symbol, inputs, settings, progress)


# --- tradescan validate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidateResult:
    """What ``validate_run`` returns: the run id, the settings, every symbol's guards and the JSON."""

    run_id: str
    settings: GuardSettings
    symbols: dict[str, SymbolGuards]
    ran: tuple[str, ...]
    skipped: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """Return DESIGN §11's ``validate --json`` document."""
        return validate_json(self.run_id, self.settings, self.symbols)


def resolve_settings(
    manifest_directive: Mapping[str, Any], preset: str | None, guards: Mapping[str, Any] | None = None
) -> GuardSettings:
    """Return the guard settings: ``guards`` if given, else the run directive's ``guards:`` (defaults
    when absent), with ``preset`` applied."""
    raw = dict(guards if guards is not None else manifest_directive.get("guards") or {})
    if preset is not None:
        raw["preset"] = preset
    return parse_guard_settings(raw, label="guards")


def validate_run(
    run_id: str,
    *,
    preset: str | None = None,
    symbol: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    progress: NullProgress | None = None,
    guards: Mapping[str, Any] | None = None,
) -> ValidateResult:
    """Run the guard stage on a stored run's finalists and store its files and verdicts.

    ``guards`` replaces the directive's ``guards:`` section (a mapping of the same shape).

    Raises:
        TradeScanError: unknown run or symbol, the run's data changed, or a results file is damaged.
    """
    import optuna

    from tradescan.directive import Directive
    from tradescan.results.run import load_run
    from tradescan.results.store import ResultsStore
    from tradescan.sweep.evaluator import bars_payload
    from tradescan.sweep.ray_runtime import ensure_ray, put
    from tradescan.sweep.settings import EvaluatorSettings
    from tradescan.sweep.storage import finished_trials, open_study

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    store = ResultsStore(results_dir)
    if not store.run_dir(run_id).is_dir():
        load_run(run_id, results_dir)  # an unknown run is named; its folder is not made for the lock
    # The whole of it under the run's lock: a sweep still writing the run is refused with its lock
    # message (not read half-written), and the guard files are written by one process at a time.
    with store.lock(run_id):
        run = load_run(run_id, results_dir)
        manifest = run.manifest
        settings = resolve_settings(manifest.directive, preset, guards)
        symbols = _chosen_symbols(manifest, symbol)
        plan = prepare(Directive.model_validate(manifest.directive), data_dir=data_dir)
        if plan.run_id != run_id:
            raise TradeScanError(f"run {run_id}: its inputs changed since the sweep (they now give run id "
                                 f"{plan.run_id}); validate the run the current inputs give, or restore them")
        progress = progress or NullProgress()
        stored = _stored_guards(run, manifest.guards, settings)
        todo = [s for s in symbols if s not in stored]
        results: dict[str, SymbolGuards] = {s: stored[s] for s in symbols if s in stored}
        if todo:
            pool = EvaluatorPool(EvaluatorSettings.from_plan(plan), ensure_ray(workers, address))
            try:
                for name in todo:
                    check = check_symbol(plan, name)
                    if check.status != ALLOW or check.bars is None:
                        raise TradeScanError(f"{name}: preflight says {check.status}: {'; '.join(check.reasons)}")
                    payload = bars_payload(check.bars, name, plan.instruments.get(name))
                    times = payload["time"].view("datetime64[ns]")
                    pool.add_symbol(name, put(payload))
                    trials = finished_trials(open_study(_storage_url(store, manifest), manifest.study_names[name]))
                    trials = trials[: plan.directive.search.trials]
                    returns = stored_returns(pool, name, run.path, trials, {}, times)
                    trades = finalists_trades(pool, name, manifest, run.stage2, run.table(TRADES))
                    inputs = inputs_from_tables(name, trials, run.stage2, trades, returns, times,
                                                plan.directive.stage1.scenario)
                    results[name] = run_guard_stage(pool, plan, name, inputs, settings, progress)
                    pool.release_symbol(name)
                    _commit(store, run_id, settings, results)
            finally:
                pool.shutdown()
        return ValidateResult(run_id, settings, results, tuple(todo), tuple(s for s in symbols if s not in todo))


def _chosen_symbols(manifest: Any, symbol: str | None) -> list[str]:
    done = [s for s, entry in manifest.symbols.items() if entry.status == "DONE"]
    if symbol is None:
        return done
    if symbol not in manifest.symbols:
        raise ConfigError(f"--symbol {symbol}: run {manifest.run_id} has symbols {sorted(manifest.symbols)}")
    if symbol not in done:
        raise ConfigError(f"--symbol {symbol}: its sweep is {manifest.symbols[symbol].status}, not DONE")
    return [symbol]


def _storage_url(store: Any, manifest: Any) -> str:
    if manifest.storage_kind == "journal":
        return str(manifest.storage)
    if "***" in str(manifest.storage):
        raise TradeScanError(f"run {manifest.run_id}: its study storage URL was stored redacted; "
                             "validate needs the journal or an unredacted URL")
    return str(manifest.storage)


def _commit(store: Any, run_id: str, settings: GuardSettings, by_symbol: Mapping[str, SymbolGuards]) -> None:
    manifest = store.read_manifest(run_id)
    section = guards_section(settings, by_symbol)
    store.commit(run_id, manifest.model_copy(update={"guards": section}), guard_frames(by_symbol))


def _stored_guards(run: Any, section: Mapping[str, Any], settings: GuardSettings) -> dict[str, SymbolGuards]:
    """Return the symbols whose stored guards were computed under ``settings``, rebuilt from the files."""
    if not section or section.get("settings") != settings_fingerprint(settings):
        return {}
    guards, series, folds = run.guards, run.guard_series, run.walk_forward
    stage2 = run.stage2
    rebuilt = {}
    for symbol, entry in section.get("symbols", {}).items():
        out = SymbolGuards(
            guard_rows=_rows(guards, symbol), series_rows=_rows(series, symbol), fold_rows=_rows(folds, symbol),
            seconds=dict(entry.get("seconds", {})),
        )
        out.summary = {k: entry.get(k) for k in ("dsr", "pbo", "wfe", "n_trials", "n_eff_trials")}
        out.summary["finalists"] = [
            {**f, "params": _params(stage2, symbol, f["rank"]), "guards": _guard_dict(guards, symbol, f["rank"])}
            for f in entry.get("finalists", [])
        ]
        rebuilt[symbol] = out
    return rebuilt


def _rows(frame: pd.DataFrame, symbol: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{str(k): v for k, v in row.items()}
                                  for row in frame[frame["symbol"] == symbol].to_dict("records")]
    return rows


def _params(stage2: pd.DataFrame, symbol: str, rank: int) -> dict[str, Any]:
    import json

    rows = stage2[(stage2["symbol"] == symbol) & (stage2["rank"] == rank)]
    return dict(json.loads(rows.iloc[0]["params_json"])) if not rows.empty else {}


def _guard_dict(guards: pd.DataFrame, symbol: str, rank: int) -> dict[str, Any]:
    rows = guards[(guards["symbol"] == symbol) & (guards["rank"] == rank)]
    out = {}
    for row in rows.to_dict("records"):
        value = float(row["value"])
        out[str(row["guard"])] = {"value": None if np.isnan(value) else value, "threshold": float(row["threshold"]),
                                  "passed": bool(row["passed"]), "critical": bool(row["critical"])}
    return out

