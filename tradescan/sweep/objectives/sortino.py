"""Sortino ratio: like Sharpe, but only downside volatility counts as risk."""

from __future__ import annotations

from tradescan.sweep.objectives._base import Metrics, Objective, finite_or_zero, metric

# A curve with no down days has an infinite Sortino; cap it so the sampler can still compare.
SORTINO_CAP = 20.0


def _score(metrics: Metrics) -> float:
    return min(finite_or_zero(metric(metrics, "sortino")), SORTINO_CAP)


OBJECTIVE = Objective("sortino", _score, penalty_weight=1.0, description="annualised Sortino of daily returns")
