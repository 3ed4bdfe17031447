"""Expectancy in R: average net result per trade in units of the risk taken."""

from __future__ import annotations

from tradescan.sweep.objectives._base import Metrics, Objective, finite_or_zero, metric


def _score(metrics: Metrics) -> float:
    return finite_or_zero(metric(metrics, "expectancy_r"))


OBJECTIVE = Objective("expectancy_r", _score, penalty_weight=0.5, description="mean R multiple per trade")
