"""Probability of backtest overfitting: CSCV over every trial's daily returns, S = 16 blocks (DESIGN §7).

PBO is a property of the symbol's whole search, so every finalist of a symbol gets the same value.
"""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._inputs import TrialReturns
from tradescan.guards._settings import GuardSettings


def _measure(trials: TrialReturns, settings: GuardSettings) -> Measurement:
    result = trials.pbo(settings.pbo.n_splits)
    detail = (
        f"{result.n_trials} trials x {result.n_obs} days, {result.n_combinations} splits; "
        f"OOS-loss probability {result.prob_oos_loss:.2f}, degradation slope {result.degradation_slope:.3f}"
    )
    return Measurement(result.pbo, detail)


GUARD = Guard(
    name="pbo",
    measures="probability of backtest overfitting (CSCV share of splits whose IS best ranks at/below the OOS median)",
    comparison="<",
    thresholds={"validate": 0.5},
    critical_in=frozenset({"validate"}),
    input_type=TrialReturns,
    evidence="trials",
    measure=_measure,
)
