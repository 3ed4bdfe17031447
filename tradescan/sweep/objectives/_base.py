"""What an objective plug-in is, and the stage-1 score built from it.

Each objective lives in its own module of this package (freqtrade's ``hyperopt_loss`` habit) and
exposes ``OBJECTIVE = Objective(...)``; the package discovers them, so adding one is adding a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Metrics = Mapping[str, float]


@dataclass(frozen=True)
class Objective:
    """A stage-1 objective (always maximised).

    Attributes:
        name: the directive's ``stage1.objective`` value.
        score: metrics of one scenario -> a finite number, or NaN when it is undefined.
        penalty_weight: default penalty (in the objective's units) for a trial with no trades at all;
            the penalty shrinks linearly to 0 at ``min_trades``.
        description: one line for ``--help`` and docs.
    """

    name: str
    score: Callable[[Metrics], float]
    penalty_weight: float
    description: str


class ObjectiveError(ValueError):
    """The objective could not be computed from a trial's metrics (the trial is recorded FAIL)."""


def metric(metrics: Metrics, name: str) -> float:
    """Return ``metrics[name]`` as a float, or raise naming the missing metric."""
    try:
        return float(metrics[name])
    except KeyError:
        raise ObjectiveError(f"metric {name!r} missing from the backtest metrics {sorted(metrics)}") from None


def finite_or_zero(value: float) -> float:
    """Return ``value``, or 0.0 for NaN (e.g. a Sharpe ratio of a flat equity curve: no trades, no risk)."""
    return 0.0 if math.isnan(value) else value


def stage1_value(objective: Objective, metrics: Metrics, *, min_trades: int, penalty_weight: float) -> float:
    """Return the stage-1 value of one trial: objective minus the thin-sample penalty.

    ``value = score - (1 - trades / min_trades) * penalty_weight`` when ``trades < min_trades``, else
    ``score``. A score that is undefined (NaN) with no trades counts as 0 before the penalty; any other
    non-finite score raises ``ObjectiveError`` so the trial is recorded FAIL, never given a fake value.
    """
    trades = metric(metrics, "trades")
    raw_score = objective.score(metrics)
    if math.isnan(raw_score) and trades == 0:
        raw_score = 0.0
    if not math.isfinite(raw_score):
        raise ObjectiveError(f"objective {objective.name!r} is not finite ({raw_score!r}) with {trades:g} trades")
    if min_trades > 0 and trades < min_trades:
        raw_score -= (1.0 - trades / min_trades) * penalty_weight
    return float(raw_score)
