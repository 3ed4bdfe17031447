"""Synthetic bars: determinism, price scale, precision, calendar, realism, validity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradescan.data import synthesize, validate_bars, write_dataset
from tradescan.data.store import parquet_bytes
from tradescan.data.timeframes import timeframe_ns
from tradescan.errors import DataError, UnknownNameError
from tradescan.instruments import get


def test_same_seed_same_bytes_different_seed_differs():
    first = synthesize("EURUSD", "H1", 2000, seed=7)
    again = synthesize("EURUSD", "H1", 2000, seed=7)
    other = synthesize("EURUSD", "H1", 2000, seed=8)
    assert parquet_bytes(first) == parquet_bytes(again)
    assert parquet_bytes(first) != parquet_bytes(other)
    assert not np.array_equal(first["close"], other["close"])


def test_same_seed_same_file_hash(tmp_path):
    hashes = {
        write_dataset(synthesize("BTCUSDT", "M15", 500, seed=3), "BTCUSDT", "M15", tmp_path / f"d{i}").sha256
        for i in range(2)
    }
    assert len(hashes) == 1


def test_symbols_with_the_same_seed_do_not_share_a_path():
    eurusd = synthesize("EURUSD", "H1", 500, seed=1)["close"]
    gbpusd = synthesize("GBPUSD", "H1", 500, seed=1)["close"]
    assert not np.allclose(eurusd / eurusd.iloc[0], gbpusd / gbpusd.iloc[0])


@pytest.mark.parametrize(
    ("symbol", "start_price", "max_factor"),
    [("EURUSD", 1.1, 1.5), ("USDJPY", 150.0, 1.5), ("XAUUSD", 2000.0, 1.6), ("BTCUSDT", 40_000.0, 2.5),
     ("US500", 4800.0, 1.6)],
)  # fmt: skip
def test_price_scale_per_instrument(symbol, start_price, max_factor):
    bars = synthesize(symbol, "H1", 3000, seed=11)
    assert bars["open"].iloc[0] == start_price
    assert start_price / max_factor < bars["low"].min() and bars["high"].max() < start_price * max_factor


@pytest.mark.parametrize("symbol", ["EURUSD", "USDJPY", "XAUUSD", "BTCUSDT", "DOGEUSDT"])
def test_prices_are_rounded_to_the_instrument_precision(symbol):
    bars = synthesize(symbol, "M15", 1000, seed=5)
    precision = get(symbol).price_precision
    for name in ("open", "high", "low", "close"):
        assert np.array_equal(bars[name].to_numpy(), np.round(bars[name].to_numpy(), precision))


@pytest.mark.parametrize(
    ("symbol", "timeframe"), [("EURUSD", "M1"), ("XAUUSD", "H4"), ("BTCUSDT", "D1"), ("US30", "M5")]
)
def test_passes_validation(symbol, timeframe):
    bars = synthesize(symbol, timeframe, 3000, seed=2)
    validate_bars(bars, timeframe_ns=timeframe_ns(timeframe))
    assert len(bars) == 3000
    assert bars.dtypes.astype(str).tolist() == ["datetime64[ns, UTC]"] + ["float64"] * 5


def test_fx_skips_weekends_crypto_trades_every_day():
    fx_days = set(synthesize("EURUSD", "H1", 500, seed=1)["time"].dt.day_of_week)
    crypto_days = set(synthesize("BTCUSDT", "H1", 500, seed=1)["time"].dt.day_of_week)
    assert fx_days == {0, 1, 2, 3, 4}
    assert crypto_days == {0, 1, 2, 3, 4, 5, 6}


def test_times_start_on_the_grid_and_step_by_the_timeframe():
    bars = synthesize("BTCUSDT", "M15", 4, seed=1, start="2021-03-04 10:07")
    assert bars["time"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2021-03-04 10:15", "2021-03-04 10:30", "2021-03-04 10:45", "2021-03-04 11:00",
    ]  # fmt: skip
    assert synthesize("EURUSD", "D1", 1, seed=1, start="2024-01-06")["time"].iloc[0] == pd.Timestamp(
        "2024-01-08", tz="UTC"
    )  # a Saturday start moves to Monday


def test_bars_look_like_bars():
    bars = synthesize("EURUSD", "M15", 5000, seed=4)
    same_open = (bars["open"].to_numpy()[1:] == bars["close"].to_numpy()[:-1]).mean()
    assert 0.9 < same_open < 1.0  # opens usually equal the previous close, with occasional gaps
    upper_wick = bars["high"] > bars[["open", "close"]].max(axis=1)
    lower_wick = bars["low"] < bars[["open", "close"]].min(axis=1)
    assert upper_wick.mean() > 0.7 and lower_wick.mean() > 0.7
    ranges = (bars["high"] - bars["low"]) / bars["close"]
    assert 1e-4 < ranges.median() < 2e-3  # a few pips for an M15 EURUSD bar


def test_volatility_scales_with_timeframe():
    minute = synthesize("EURUSD", "M1", 3000, seed=9)
    hourly = synthesize("EURUSD", "H1", 3000, seed=9)
    minute_returns = np.diff(np.log(minute["close"]))
    hourly_returns = np.diff(np.log(hourly["close"]))
    assert 4 < hourly_returns.std() / minute_returns.std() < 16  # sqrt(60) = 7.7


def test_volatility_clusters():
    returns = np.diff(np.log(synthesize("BTCUSDT", "H1", 20_000, seed=3)["close"].to_numpy()))
    absolute = np.abs(returns)
    assert np.corrcoef(absolute[:-1], absolute[1:])[0, 1] > 0.1


def test_bad_arguments():
    with pytest.raises(UnknownNameError, match="unknown symbol 'EURUSX'"):
        synthesize("EURUSX", "H1", 10, seed=1)
    with pytest.raises(DataError, match="n_bars must be a whole number >= 1, got 0"):
        synthesize("EURUSD", "H1", 0, seed=1)
    with pytest.raises(DataError, match="unknown timeframe 'W1'"):
        synthesize("EURUSD", "W1", 10, seed=1)
    with pytest.raises(DataError, match="cannot read start 'someday'"):
        synthesize("EURUSD", "H1", 10, seed=1, start="someday")
