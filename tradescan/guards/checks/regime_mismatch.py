"""Share of bars whose regime label, computed bar by bar as a live feed would, differs from the backtest's."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._inputs import RegimeCheck
from tradescan.guards._settings import GuardSettings


def _measure(check: RegimeCheck, settings: GuardSettings) -> Measurement:
    options = settings.regime
    # cached on the check: every finalist of a symbol shares it, so the live labels are computed once
    mismatch = check.mismatch(options.method, options.checkpoint_every)
    where = "" if mismatch.first_mismatch is None else f", first at bar {mismatch.first_mismatch}"
    detail = f"{mismatch.n_mismatched} of {mismatch.n_compared} bars differ ({mismatch.method}){where}"
    return Measurement(mismatch.share, detail)


GUARD = Guard(
    name="regime_mismatch",
    measures="share of bars whose live-feed regime label differs from the backtest's (fraction)",
    comparison="<",
    thresholds={"validate": 0.01},
    critical_in=frozenset({"validate"}),
    input_type=RegimeCheck,
    evidence="regime",
    measure=_measure,
)
