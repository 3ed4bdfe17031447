"""Share of the total net profit made by the 10 best trades: an edge that lives in a few trades."""

from __future__ import annotations

import numpy as np

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import TradeSample
from tradescan.guards._settings import GuardSettings

TOP_TRADES = 10


def _measure(sample: TradeSample, settings: GuardSettings) -> Measurement:
    total = float(sample.pnl.sum())
    if not total > 0:
        raise UndefinedStatistic(f"total net profit is {total:.6g} <= 0 over {len(sample.pnl)} trades")
    best = np.sort(sample.pnl)[::-1][:TOP_TRADES]
    share = float(best.sum()) / total
    top = float(best.sum())
    detail = f"the {len(best)} best of {len(sample.pnl)} trades ({sample.scenario}) make {top:.6g} of {total:.6g}"
    return Measurement(share, detail)


GUARD = Guard(
    name="top10_share",
    measures="share of the total net profit from the 10 best trades (fraction)",
    comparison="<",
    thresholds={"validate": 0.40},
    critical_in=frozenset({"validate"}),
    input_type=TradeSample,
    evidence="trades",
    measure=_measure,
)
