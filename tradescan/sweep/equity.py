"""The finalists' equity at the resolution a report needs: the first bar and each UTC day's last bar.

A finalist's per-bar equity (bars x scenarios floats) is what made results big (50 finalists x 3
scenarios x 100k bars = 120 MB per symbol); the report draws daily equity, daily drawdown and monthly
returns, which these rows give exactly (the first bar keeps the initial capital for the first month).
The actors thin the curve before it leaves them, so the full curve never crosses the network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400_000_000_000


def daily_rows(times: pd.DatetimeIndex) -> np.ndarray:
    """Return the positions of the first bar and of the last bar of each UTC day, ascending."""
    if not len(times):
        return np.zeros(0, dtype=np.int64)
    days = times.as_unit("ns").asi8 // NS_PER_DAY  # bar times are UTC (tz-aware or naive)
    last = np.flatnonzero(np.r_[days[1:] != days[:-1], True])
    return np.unique(np.r_[0, last])


def daily_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """Return ``equity`` (indexed by bar time, one column per scenario) at the ``daily_rows`` only."""
    return equity.iloc[daily_rows(pd.DatetimeIndex(equity.index))]
