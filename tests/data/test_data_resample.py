"""Resampling agrees with a pandas reference and keeps only complete-enough bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradescan.data import infer_timeframe, resample, synthesize
from tradescan.data.timeframes import TIMEFRAME_MINUTES
from tradescan.errors import DataError

AGGREGATION = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def pandas_reference(bars: pd.DataFrame, source: str, target: str) -> pd.DataFrame:
    rule = f"{TIMEFRAME_MINUTES[target]}min"
    indexed = bars.set_index("time")
    grouped = indexed.resample(rule, label="left", closed="left")
    result = grouped.agg(AGGREGATION)
    counts = grouped["open"].count()
    expected = TIMEFRAME_MINUTES[target] // TIMEFRAME_MINUTES[source]
    return result[counts * 2 >= expected].reset_index()


def with_gaps(bars: pd.DataFrame, seed: int) -> pd.DataFrame:
    keep = np.random.default_rng(seed).random(len(bars)) > 0.3
    return bars[keep].reset_index(drop=True)


@pytest.mark.parametrize(
    ("symbol", "source", "target"),
    [
        ("EURUSD", "M1", "M5"),
        ("EURUSD", "M1", "M15"),
        ("BTCUSDT", "M5", "M30"),
        ("BTCUSDT", "M15", "H1"),
        ("EURUSD", "H1", "H4"),
        ("EURUSD", "H1", "D1"),
        ("BTCUSDT", "M30", "D1"),
    ],
)
@pytest.mark.parametrize("gappy", [False, True])
def test_matches_pandas_reference(symbol, source, target, gappy):
    bars = synthesize(symbol, source, 6000, seed=21, start="2021-06-03 13:00")
    if gappy:
        bars = with_gaps(bars, seed=5)
    result = resample(bars, target, from_timeframe=source)
    pd.testing.assert_frame_equal(result, pandas_reference(bars, source, target))
    assert len(result) > 0


def test_labels_by_open_time_and_drops_incomplete_bars():
    times = pd.to_datetime(
        ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 03:00",  # full H4 bar
         "2024-01-01 05:00", "2024-01-01 06:00",  # 2 of 4: kept (half)
         "2024-01-01 11:00"]  # 1 of 4: dropped
    ).tz_localize("UTC").as_unit("ns")  # fmt: skip
    bars = pd.DataFrame(
        {
            "time": times,
            "open": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "high": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
            "low": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
            "close": [1.2, 2.2, 3.2, 4.2, 5.2, 6.2, 7.2],
            "volume": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    result = resample(bars, "H4")
    expected = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 04:00"]).tz_localize("UTC").as_unit("ns"),
            "open": [1.0, 5.0],
            "high": [4.5, 6.5],
            "low": [0.5, 4.5],
            "close": [4.2, 6.2],
            "volume": [10.0, 11.0],
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_d1_bars_are_utc_days():
    bars = synthesize("BTCUSDT", "H1", 72, seed=1, start="2024-03-01 00:00")
    result = resample(bars, "D1")
    assert result["time"].tolist() == [pd.Timestamp(f"2024-03-0{day}", tz="UTC") for day in (1, 2, 3)]
    assert result["open"].tolist() == bars["open"].iloc[[0, 24, 48]].tolist()
    assert result["close"].tolist() == bars["close"].iloc[[23, 47, 71]].tolist()


def test_source_must_be_finer_and_divide_the_target():
    bars = synthesize("EURUSD", "H4", 20, seed=1)
    with pytest.raises(DataError, match=r"cannot resample H4 to H1: the source must be a finer timeframe"):
        resample(bars, "H1")
    with pytest.raises(DataError, match=r"cannot resample H4 to H4"):
        resample(bars, "H4", from_timeframe="H4")


def test_source_bars_off_the_grid_are_refused():
    bars = synthesize("BTCUSDT", "H1", 10, seed=1)
    shifted = bars.assign(time=bars["time"] + pd.Timedelta(minutes=30))
    with pytest.raises(DataError, match=r"bar 0 at 2020-01-01 00:30:00 is not on the H1 grid"):
        resample(shifted, "H4")


def test_declared_source_timeframe_must_fit_the_bars():
    bars = synthesize("BTCUSDT", "M1", 10, seed=1)
    with pytest.raises(DataError, match=r"only 1 min after row 0 .* bars of this timeframe are 5 min long"):
        resample(bars, "H1", from_timeframe="M5")


def test_infer_timeframe():
    assert infer_timeframe(synthesize("EURUSD", "M15", 50, seed=1)) == "M15"
    with pytest.raises(DataError, match="fewer than two bars"):
        infer_timeframe(synthesize("EURUSD", "M15", 1, seed=1))
    odd = synthesize("BTCUSDT", "M1", 10, seed=1)
    odd = odd.assign(time=pd.date_range("2024-01-01", periods=10, freq="7min", tz="UTC").as_unit("ns"))
    with pytest.raises(DataError, match="smallest gap between bars is 7 min, which is no known timeframe"):
        infer_timeframe(odd)


def test_nothing_complete_gives_an_empty_frame():
    bars = synthesize("BTCUSDT", "H1", 3, seed=1)
    result = resample(bars, "D1")
    assert result.empty
    assert result.dtypes.astype(str).tolist() == ["datetime64[ns, UTC]"] + ["float64"] * 5
