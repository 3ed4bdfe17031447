"""Indicators: equal to TA-Lib where TA-Lib gives a value, NaN warm-up, documented NaN handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan import indicators as ind

talib = pytest.importorskip("talib", reason="TA-Lib is a dev extra: pip install -e .[dev]")
backtesting = pytest.importorskip("backtesting", reason="backtesting.py is a dev extra: pip install -e .[dev]")

PERIODS = (2, 3, 5, 14, 20, 50, 200)


def _random_bars(n_bars: int, seed: int, price: float = 1.1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.003, n_bars)))
    open_ = np.concatenate(([close[0]], close[:-1])) * np.exp(rng.normal(0, 0.0005, n_bars))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.001, n_bars)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.001, n_bars)))
    return open_, high, low, close


def _real_bars(name: str) -> tuple[np.ndarray, ...]:
    frame = pd.read_csv(Path(backtesting.__file__).parent / "test" / f"{name}.csv")
    return tuple(frame[column].to_numpy(np.float64) for column in ("Open", "High", "Low", "Close"))


def _assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.float64 and actual.shape == expected.shape
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), "NaN lead differs"
    np.testing.assert_allclose(actual, expected, rtol=1e-10, equal_nan=True)


SERIES = {
    "random_fx": lambda: _random_bars(3000, seed=1),
    "random_btc": lambda: _random_bars(3000, seed=2, price=40_000.0),
    "EURUSD_H1": lambda: _real_bars("EURUSD"),
    "GOOG_D1": lambda: _real_bars("GOOG"),
}


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("period", PERIODS)
def test_equal_to_talib(series: str, period: int) -> None:
    _, high, low, close = SERIES[series]()
    _assert_same(ind.ema(close, period), talib.EMA(close, period))
    _assert_same(ind.sma(close, period), talib.SMA(close, period))
    _assert_same(ind.atr(high, low, close, period), talib.ATR(high, low, close, period))
    _assert_same(ind.adx(high, low, close, period), talib.ADX(high, low, close, period))


@pytest.mark.parametrize("series", SERIES)
def test_true_range_equals_talib(series: str) -> None:
    _, high, low, close = SERIES[series]()
    _assert_same(ind.true_range(high, low, close), talib.TRANGE(high, low, close))


def test_warmup_lengths() -> None:
    _, high, low, close = _random_bars(100, seed=3)
    assert np.flatnonzero(~np.isnan(ind.ema(close, 20)))[0] == 19
    assert np.flatnonzero(~np.isnan(ind.atr(high, low, close, 14)))[0] == 14
    assert np.flatnonzero(~np.isnan(ind.adx(high, low, close, 14)))[0] == 27
    assert np.isnan(ind.ema(close[:5], 10)).all() and np.isnan(ind.adx(high[:27], low[:27], close[:27], 14)).all()


def test_leading_nans_are_skipped_like_talib() -> None:
    _, high, low, close = _random_bars(500, seed=4)
    close_nan = close.copy()
    close_nan[:9] = np.nan
    high_nan = high.copy()
    high_nan[:3] = np.nan
    _assert_same(ind.ema(close_nan, 20), talib.EMA(close_nan, 20))
    _assert_same(ind.atr(high_nan, low, close_nan, 14), talib.ATR(high_nan, low, close_nan, 14))
    _assert_same(ind.adx(high_nan, low, close, 14), talib.ADX(high_nan, low, close, 14))
    assert np.flatnonzero(~np.isnan(ind.ema(close_nan, 20)))[0] == 9 + 19


def test_interior_nan_poisons_talib_indicators_only() -> None:
    _, _, _, close = _random_bars(100, seed=5)
    close[50] = np.nan
    values = ind.ema(close, 10)
    assert np.isfinite(values[9:50]).all() and np.isnan(values[50:]).all()
    _assert_same(values, talib.EMA(close, 10))
    _assert_same(ind.sma(close, 10), talib.SMA(close, 10))
    z_values = ind.rolling_zscore(close, 10)
    assert np.isnan(z_values[50:60]).all() and np.isfinite(z_values[60:]).all()


def test_interior_nan_in_high_low_close_poisons_atr_and_adx_like_talib() -> None:
    _, high, low, close = _random_bars(300, seed=8)
    high[3], low[120], close[200] = np.nan, np.nan, np.nan
    for period in (5, 14):
        _assert_same(ind.atr(high, low, close, period), talib.ATR(high, low, close, period))
        _assert_same(ind.adx(high, low, close, period), talib.ADX(high, low, close, period))
    _assert_same(ind.true_range(high, low, close), talib.TRANGE(high, low, close))


def test_writable_and_read_only_inputs_share_one_compiled_version() -> None:
    _, _, _, close = _random_bars(200, seed=9)
    read_only = close.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(ind.ema(close, 10), ind.ema(read_only, 10))
    np.testing.assert_array_equal(ind.ema(close.tolist(), 10), ind.ema(read_only, 10))
    assert len(ind.ema_nb.signatures) == 1
    assert close.flags.writeable  # the caller's array is left as it was


def _two_pass_zscore(values: np.ndarray, window: int, ddof: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for t in range(window - 1, len(values)):
        chunk = values[t - window + 1 : t + 1]
        std = chunk.std(ddof=ddof)
        out[t] = 0.0 if std == 0 else (values[t] - chunk.mean()) / std
    return out


@pytest.mark.parametrize(("window", "ddof"), [(2, 0), (5, 0), (30, 1), (200, 0)])
def test_rolling_zscore_matches_the_definition(window: int, ddof: int) -> None:
    _, _, _, close = _random_bars(1500, seed=6, price=40_000.0)
    actual = ind.rolling_zscore(close, window, ddof=ddof)
    expected = _two_pass_zscore(close, window, ddof)
    assert np.array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-9)


def test_rolling_zscore_zero_std_and_nans() -> None:
    values = np.concatenate((np.full(10, 3.0), [4.0], np.full(10, 3.0)))
    z_values = ind.rolling_zscore(values, 5)
    assert (z_values[4:10] == 0.0).all() and z_values[10] == pytest.approx(2.0)
    assert (z_values[15:] == 0.0).all()
    values[12] = np.nan
    z_values = ind.rolling_zscore(values, 5)
    assert np.isnan(z_values[12:17]).all() and z_values[17] == 0.0
    with pytest.raises(ValueError, match="window must be > ddof"):
        ind.rolling_zscore(values, 1, ddof=1)


@pytest.mark.parametrize("window", [1, 3, 55])
def test_rolling_max_min_match_pandas(window: int) -> None:
    _, high, low, _ = _random_bars(800, seed=7)
    high[100] = np.nan
    expected_max = pd.Series(high).rolling(window).max().to_numpy()
    expected_min = pd.Series(low).rolling(window).min().to_numpy()
    np.testing.assert_array_equal(ind.rolling_max(high, window), expected_max)
    np.testing.assert_array_equal(ind.rolling_min(low, window), expected_min)


def test_slope_and_shift() -> None:
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    np.testing.assert_array_equal(ind.slope(values), [np.nan, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(ind.slope(values, lag=2), [np.nan, np.nan, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(ind.shift(values, 2), [np.nan, np.nan, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(ind.shift(values, 0), values)


def test_bad_arguments_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="period must be an integer >= 1, got 0"):
        ind.ema(np.ones(5), 0)
    with pytest.raises(ValueError, match=r"inputs must have the same length"):
        ind.atr(np.ones(5), np.ones(4), np.ones(5), 2)
    with pytest.raises(ValueError, match="one-dimensional"):
        ind.sma(np.ones((2, 2)), 2)


def test_kernels_are_compiled() -> None:
    for name in ("ema_nb", "sma_nb", "true_range_nb", "atr_nb", "adx_nb", "rolling_zscore_nb", "rolling_max_nb"):
        assert hasattr(getattr(ind, name), "py_func"), name


def test_atr_distance_is_the_larger_of_k_atr_and_the_pip_floor() -> None:
    from tradescan.indicators import atr_distance

    atr_values = np.array([np.nan, 0.0005, 0.0020])
    distance = atr_distance(atr_values, 2.0, 8.0, 0.0001)  # floor 8 pips = 0.0008
    np.testing.assert_array_equal(distance, [np.nan, 0.0010, 0.0040])
    np.testing.assert_array_equal(atr_distance(atr_values, 1.0, 8.0, 0.0001), [np.nan, 0.0008, 0.0020])
    assert np.isnan(atr_distance(atr_values, None, 8.0, 0.0001)).all()
