"""Trades in the walk-forward OOS folds: too few and the OOS Sharpe means little (DESIGN §7, seed 002)."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.walk_forward import WalkForwardResult


def _measure(result: WalkForwardResult, settings: GuardSettings) -> Measurement:
    per_fold = ", ".join(str(f.test_trades) for f in result.folds)
    return Measurement(float(result.oos_trades()), f"trades per OOS fold: {per_fold}")


GUARD = Guard(
    name="trades_oos",
    measures="number of trades entered in the walk-forward OOS windows (count)",
    comparison=">",
    thresholds={"screen": 50.0, "validate": 60.0},
    critical_in=frozenset({"screen", "validate"}),
    input_type=WalkForwardResult,
    evidence="walk_forward",
    measure=_measure,
)
