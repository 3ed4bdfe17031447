"""Net PnL as a fraction of initial capital (total return), so the penalty scale is capital-free."""

from __future__ import annotations

from tradescan.sweep.objectives._base import Metrics, Objective, finite_or_zero, metric


def _score(metrics: Metrics) -> float:
    # total_return = net PnL / initial capital: ranks exactly like net PnL for one directive, and a
    # penalty of 0.1 (10 % of capital) means the same for a 1k and a 1M account.
    return finite_or_zero(metric(metrics, "total_return"))


OBJECTIVE = Objective("net_pnl", _score, penalty_weight=0.1, description="net PnL / initial capital")
