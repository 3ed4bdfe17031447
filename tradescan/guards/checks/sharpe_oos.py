"""Sharpe ratio of the concatenated walk-forward OOS folds (annualised; DESIGN §7, seed 002)."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.walk_forward import WalkForwardResult


def _measure(result: WalkForwardResult, settings: GuardSettings) -> Measurement:
    sharpe = result.oos_sharpe()
    days = len(result.oos_daily_returns())
    return Measurement(sharpe, f"Sharpe of {days} OOS daily returns over {len(result.folds)} folds")


GUARD = Guard(
    name="sharpe_oos",
    measures="annualised Sharpe ratio of the concatenated walk-forward OOS daily returns",
    comparison=">",
    thresholds={"screen": 0.8, "validate": 1.0},
    critical_in=frozenset({"screen", "validate"}),
    input_type=WalkForwardResult,
    evidence="walk_forward",
    measure=_measure,
)
