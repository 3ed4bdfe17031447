"""Parameter sensitivity: coefficient of variation of the objective over a finalist and its neighbours."""

from __future__ import annotations

import numpy as np

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import SensitivityScores
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.sensitivity import coefficient_of_variation


def _measure(scores: SensitivityScores, settings: GuardSettings) -> Measurement:
    if not scores.neighbours:
        raise UndefinedStatistic("no neighbour parameter set (no numeric parameter could move within bounds)")
    values = np.concatenate(([scores.centre], scores.scores))
    variation = coefficient_of_variation(values)
    worst = scores.neighbours[int(np.argmin(scores.scores))]
    detail = (
        f"CV {variation:.2%} over the centre and {len(scores.neighbours)} neighbours; objective "
        f"{scores.centre:.4g} at the centre, lowest {float(scores.scores.min()):.4g} ({worst.param}={worst.value!r})"
    )
    return Measurement(variation, detail)


GUARD = Guard(
    name="sensitivity",
    measures="coefficient of variation (std/mean) of the objective over the centre and its ±10 % neighbours (fraction)",
    comparison="<",
    thresholds={"validate": 0.10},
    critical_in=frozenset({"validate"}),
    input_type=SensitivityScores,
    evidence="sensitivity",
    measure=_measure,
)
