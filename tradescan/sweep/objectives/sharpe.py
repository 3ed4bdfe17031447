"""Sharpe ratio of the daily equity returns (DESIGN §6): the default stage-1 objective."""

from __future__ import annotations

from tradescan.sweep.objectives._base import Metrics, Objective, finite_or_zero, metric


def _score(metrics: Metrics) -> float:
    return finite_or_zero(metric(metrics, "sharpe"))


OBJECTIVE = Objective("sharpe", _score, penalty_weight=1.0, description="annualised Sharpe of daily returns")
