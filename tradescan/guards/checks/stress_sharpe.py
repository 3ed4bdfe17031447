"""Sharpe ratio under the stress cost scenario C (DESIGN §7, seed 002's "Stress1 Sharpe")."""

from __future__ import annotations

import math

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import ScenarioSharpe
from tradescan.guards._settings import GuardSettings


def _measure(stress: ScenarioSharpe, settings: GuardSettings) -> Measurement:
    if stress.trades == 0:
        raise UndefinedStatistic(f"no trades under scenario {stress.scenario}")
    if math.isnan(stress.sharpe):
        raise UndefinedStatistic(f"the Sharpe ratio under scenario {stress.scenario} is NaN")
    return Measurement(stress.sharpe, f"Sharpe {stress.sharpe:.3f} over {stress.trades} trades under {stress.scenario}")


GUARD = Guard(
    name="stress_sharpe",
    measures="annualised Sharpe ratio under cost scenario C",
    comparison=">",
    thresholds={"validate": 1.0},
    critical_in=frozenset({"validate"}),
    input_type=ScenarioSharpe,
    evidence="stress",
    measure=_measure,
)
