"""The Pine indicator library of the export equals tradescan.indicators bit for bit, in the Pine runtime.

Exact equality (not a tolerance) is what makes the exported strategies' warm-up and thresholds match
the engine's: TA-Lib's seeds for EMA/ATR/ADX/RSI, the engine's anchored sums for the z-score, and
exact comparisons (Pine's own compare with a 1e-10 tolerance, which moves the ADX on real bars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.pine_runtime import run_pine_indicator
from tradescan import indicators as ind
from tradescan.export.pine import LIBRARY_FILE

backtesting = pytest.importorskip("backtesting", reason="backtesting.py ships the EURUSD bars: pip install -e .[dev]")

PLOTS = """
plot(ts_ema(close, 20), "ema")
plot(ts_atr(14), "atr")
plot(ts_adx(14), "adx")
plot(ts_rsi(close, 14), "rsi")
plot(ts_zscore(close - ts_ema(close, 50), 30), "z")
plot(ts_zscore(ts_atr(14) / close * 100.0, 100), "z_atr_pct")
plot(ts_gt(high - high[1], low[1] - low) ? 1 : 0, "exact_gt")
plot(high - high[1] > low[1] - low ? 1 : 0, "pine_gt")
"""


def test_the_library_equals_the_engines_indicators_exactly() -> None:
    raw = pd.read_csv(Path(backtesting.__file__).parent / "test" / "EURUSD.csv", index_col=0)
    times = pd.to_datetime(raw.index).tz_localize("UTC").as_unit("ns")
    columns = {name.lower(): raw[name].to_numpy(np.float64) for name in ("Open", "High", "Low", "Close")}
    bars = pd.DataFrame({"time": times, **columns})
    script = '//@version=6\nindicator("library")\nPIP_SIZE = 0.0001\n' + LIBRARY_FILE.read_text() + PLOTS
    plots = run_pine_indicator(script, bars)
    high, low, close = (bars[name].to_numpy() for name in ("high", "low", "close"))
    expected = {
        "ema": ind.ema(close, 20),
        "atr": ind.atr(high, low, close, 14),
        "adx": ind.adx(high, low, close, 14),
        "rsi": ind.rsi(close, 14),
        "z": ind.rolling_zscore(close - ind.ema(close, 50), 30),
        "z_atr_pct": ind.rolling_zscore(ind.atr(high, low, close, 14) / close * 100.0, 100),
    }
    for name, values in expected.items():
        np.testing.assert_array_equal(plots[name].to_numpy(), values, err_msg=name)
    up, down = np.diff(high), -np.diff(low)
    np.testing.assert_array_equal(plots["exact_gt"].to_numpy()[1:], (up > down).astype(float))
    tolerant = plots["pine_gt"].to_numpy()[1:] != (up > down)
    assert tolerant.sum() >= 1  # Pine's own `>` differs where the moves differ by less than 1e-10
