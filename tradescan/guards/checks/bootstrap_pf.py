"""Lower bound of the stationary-bootstrap confidence interval of the profit factor (DESIGN §7)."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import TradeSample
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.bootstrap import profit_factor_interval


def _measure(sample: TradeSample, settings: GuardSettings) -> Measurement:
    options = settings.bootstrap
    if len(sample.pnl) < options.min_trades:
        raise UndefinedStatistic(f"{len(sample.pnl)} trades under {sample.scenario}, fewer than {options.min_trades}")
    interval = profit_factor_interval(
        sample.pnl,
        seed=settings.derive_seed("bootstrap_pf"),
        confidence=options.confidence,
        n_resamples=options.n_resamples,
        block_length=options.block_length,
    )
    detail = (
        f"PF {interval.estimate:.3f} over {len(sample.pnl)} trades ({sample.scenario}); "
        f"{options.confidence:.0%} CI [{interval.lower:.3f}, {interval.upper:.3f}], "
        f"mean block {interval.block_length:.2f} trades, {interval.share_no_loss:.1%} of resamples without a loss"
    )
    return Measurement(interval.lower, detail)


GUARD = Guard(
    name="bootstrap_pf",
    measures="lower bound of the 95 % stationary-bootstrap CI of the profit factor (ratio)",
    comparison=">",
    thresholds={"validate": 1.0},
    critical_in=frozenset({"validate"}),
    input_type=TradeSample,
    evidence="trades",
    measure=_measure,
)
