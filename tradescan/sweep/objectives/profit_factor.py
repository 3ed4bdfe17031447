"""Profit factor: gross gains over gross losses of the trades."""

from __future__ import annotations

from tradescan.sweep.objectives._base import Metrics, Objective, finite_or_zero, metric

# No losing trade gives an infinite profit factor (DESIGN §6); as a score it is capped so that a
# handful of lucky trades cannot outrank everything (the min_trades penalty handles the rest).
PROFIT_FACTOR_CAP = 10.0


def _score(metrics: Metrics) -> float:
    return min(finite_or_zero(metric(metrics, "profit_factor")), PROFIT_FACTOR_CAP)


OBJECTIVE = Objective(
    "profit_factor", _score, penalty_weight=1.0, description="gross gains / gross losses (capped at 10)"
)
