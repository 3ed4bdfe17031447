"""Stage 2 of one symbol: the top-k distinct parameter sets re-run under every cost scenario.

Finalists are the COMPLETE trials, best value first, ties broken by trial number, with repeated
parameter sets (a sampler may propose one twice) kept once. Each finalist's scenarios keep their own
metrics, trades and equity; one scenario's trades never mix into another's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tradescan.sweep.pool import EvaluatorPool, TrialLost


@dataclass
class Finalist:
    """One stage-2 finalist and, once run, its per-scenario metrics and frames (or its error)."""

    rank: int
    trial: FrozenTrial
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    trades: pd.DataFrame | None = None
    equity: pd.DataFrame | None = None
    error: str | None = None


@dataclass
class Stage2Result:
    """The finalists of one symbol and how long stage 2 took."""

    finalists: list[Finalist]
    seconds: float


def _params_key(trial: FrozenTrial) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, repr(value)) for name, value in trial.params.items()))


def select_finalists(trials: list[FrozenTrial], top_k: int) -> list[FrozenTrial]:
    """Return up to ``top_k`` COMPLETE trials with distinct parameters, best value first, ties by number."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    ranked = sorted(complete, key=lambda t: (-float(t.value or 0.0), t.number))
    chosen: list[FrozenTrial] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for trial in ranked:
        key = _params_key(trial)
        if key not in seen:
            seen.add(key)
            chosen.append(trial)
        if len(chosen) == top_k:
            break
    return chosen


def run_stage2(
    pool: EvaluatorPool, symbol: str, trials: list[FrozenTrial], top_k: int, *, full_equity: bool = False,
    trades_top: int | None = None, guard_trades: bool = True,
) -> Stage2Result:
    """Re-run the finalists of ``symbol`` on the actors under the stage-2 scenarios.

    Args:
        pool: the actors.
        symbol: the symbol (its bars are loaded in the actors).
        trials: its stage-1 trials.
        top_k: how many distinct finalists.
        full_equity: return every bar's equity; by default the actors send each UTC day's last value
            (``tradescan.sweep.equity``), a hundredth of the bytes at H1.
        trades_top: the ranks 1..trades_top send their trades under every scenario (``None``: all ranks;
            the ranks whose trades the run stores).
        guard_trades: the other ranks send their stage-1 scenario's trades (the guard stage reads them);
            without, they send no trades.
    """
    started = time.perf_counter()
    finalists = [Finalist(rank, trial) for rank, trial in enumerate(select_finalists(trials, top_k), start=1)]
    equity = "full" if full_equity else "daily"
    rest = "stage1" if guard_trades else "none"
    jobs = [{"params": f.trial.params, "equity": equity,
             "trades": "all" if trades_top is None or f.rank <= trades_top else rest} for f in finalists]
    outcomes = pool.map(symbol, "run_finalist_jobs", jobs) if finalists else []
    for finalist, outcome in zip(finalists, outcomes, strict=True):
        payload, error = (None, outcome.reason) if isinstance(outcome, TrialLost) else outcome
        if payload is None:
            finalist.error = error
            continue
        finalist.metrics = payload["metrics"]
        finalist.params = payload.get("params", dict(finalist.trial.params))
        finalist.trades, finalist.equity = payload["trades"], payload["equity"]
    return Stage2Result(finalists, time.perf_counter() - started)
