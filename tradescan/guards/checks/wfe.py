"""Walk-forward efficiency: annualised OOS return / annualised IS return (DESIGN §7, seed 002)."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.walk_forward import WalkForwardResult


def _measure(result: WalkForwardResult, settings: GuardSettings) -> Measurement:
    efficiency = result.efficiency()
    detail = (
        f"OOS {result.out_of_sample_return():.2%}/yr / IS {result.in_sample_return():.2%}/yr "
        f"over {len(result.folds)} folds"
    )
    return Measurement(efficiency, detail)


GUARD = Guard(
    name="wfe",
    measures="walk-forward efficiency: annualised OOS return / annualised IS return (ratio)",
    comparison=">",
    thresholds={"screen": 0.5, "validate": 0.6},
    critical_in=frozenset({"screen", "validate"}),
    input_type=WalkForwardResult,
    evidence="walk_forward",
    measure=_measure,
)
