"""Indicators: equal to TA-Lib where TA-Lib gives a value, NaN warm-up, documented NaN handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan import indicators as ind
from tradescan import instruments
from tradescan.bars import Bars

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
    kernels = [name for name in ind.__all__ if name.endswith("_nb")]
    assert {"ema_nb", "rsi_nb", "macd_nb", "stochastic_nb", "cci_nb", "kama_nb", "supertrend_nb"} <= set(kernels)
    for name in kernels:
        assert hasattr(getattr(ind, name), "py_func"), name


def test_atr_distance_is_the_larger_of_k_atr_and_the_pip_floor() -> None:
    from tradescan.indicators import atr_distance

    atr_values = np.array([np.nan, 0.0005, 0.0020])
    distance = atr_distance(atr_values, 2.0, 8.0, 0.0001)  # floor 8 pips = 0.0008
    np.testing.assert_array_equal(distance, [np.nan, 0.0010, 0.0040])
    np.testing.assert_array_equal(atr_distance(atr_values, 1.0, 8.0, 0.0001), [np.nan, 0.0008, 0.0020])
    assert np.isnan(atr_distance(atr_values, None, 8.0, 0.0001)).all()


# --- RSI, MACD, Bollinger Bands, stochastic, CCI, KAMA, Donchian -----------------------------------


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("period", PERIODS)
def test_oscillators_and_bands_equal_talib(series: str, period: int) -> None:
    _, high, low, close = SERIES[series]()
    _assert_same(ind.rsi(close, period), talib.RSI(close, period))
    _assert_same(ind.kama(close, period), talib.KAMA(close, period))
    _assert_same(ind.cci(high, low, close, period), talib.CCI(high, low, close, period))
    bands = ind.bollinger_bands(close, period, 2.0)
    for actual, expected in zip(bands, talib.BBANDS(close, period, 2.0, 2.0, 0), strict=True):
        _assert_same(actual, expected)
    channel = ind.donchian(high, low, period)
    _assert_same(channel.upper, talib.MAX(high, period))
    _assert_same(channel.lower, talib.MIN(low, period))
    _assert_same(channel.middle, (talib.MAX(high, period) + talib.MIN(low, period)) / 2)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 1), (2, 3, 2), (5, 50, 20)])
def test_macd_equals_talib(series: str, fast: int, slow: int, signal: int) -> None:
    _, _, _, close = SERIES[series]()
    for actual, expected in zip(
        ind.macd(close, fast, slow, signal), talib.MACD(close, fast, slow, signal), strict=True
    ):
        _assert_same(actual, expected)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("fastk", "slowk", "slowd"), [(5, 3, 3), (14, 3, 3), (1, 1, 1), (9, 1, 5)])
def test_stochastic_equals_talib(series: str, fastk: int, slowk: int, slowd: int) -> None:
    _, high, low, close = SERIES[series]()
    slow_k, slow_d = talib.STOCH(high, low, close, fastk, slowk, 0, slowd, 0)
    result = ind.stochastic(high, low, close, fastk, slowk, slowd)
    _assert_same(result.k, slow_k)
    _assert_same(result.d, slow_d)


def test_defaults_are_talib_defaults_except_bollinger() -> None:
    _, high, low, close = _random_bars(400, seed=10)
    _assert_same(ind.rsi(close), talib.RSI(close))
    _assert_same(ind.kama(close), talib.KAMA(close))
    _assert_same(ind.cci(high, low, close), talib.CCI(high, low, close))
    _assert_same(ind.macd(close).histogram, talib.MACD(close)[2])
    _assert_same(ind.stochastic(high, low, close).d, talib.STOCH(high, low, close)[1])
    _assert_same(ind.bollinger_bands(close).upper, talib.BBANDS(close, 20)[0])  # Bollinger's 20, not TA-Lib's 5


def test_new_warmup_lengths() -> None:
    _, high, low, close = _random_bars(100, seed=11)

    def first(values: np.ndarray) -> int:
        return int(np.flatnonzero(~np.isnan(values))[0])

    assert first(ind.rsi(close, 14)) == 14
    assert first(ind.kama(close, 30)) == 30
    assert first(ind.cci(high, low, close, 14)) == 13
    assert [first(line) for line in ind.macd(close, 12, 26, 9)] == [33, 33, 33]
    assert [first(band) for band in ind.bollinger_bands(close, 20)] == [19, 19, 19]
    assert [first(line) for line in ind.stochastic(high, low, close, 5, 3, 3)] == [8, 8]
    assert [first(line) for line in ind.donchian(high, low, 20)] == [19, 19, 19]
    assert [first(line) for line in ind.supertrend(high, low, close, 3.0, 10)] == [9, 9]
    assert first(ind.atr_tradingview(high, low, close, 14)) == 13


def test_new_indicators_skip_leading_nans_like_talib() -> None:
    _, high, low, close = _random_bars(500, seed=4)
    close[:9] = np.nan
    high[:3] = np.nan
    _assert_same(ind.rsi(close, 14), talib.RSI(close, 14))
    _assert_same(ind.kama(close, 10), talib.KAMA(close, 10))
    _assert_same(ind.cci(high, low, close, 14), talib.CCI(high, low, close, 14))
    for actual, expected in zip(ind.macd(close), talib.MACD(close), strict=True):
        _assert_same(actual, expected)
    for actual, expected in zip(ind.bollinger_bands(close, 20), talib.BBANDS(close, 20), strict=True):
        _assert_same(actual, expected)
    for actual, expected in zip(ind.stochastic(high, low, close), talib.STOCH(high, low, close), strict=True):
        _assert_same(actual, expected)
    _assert_same(ind.donchian(high, low, 5).upper, talib.MAX(high, 5))
    assert np.flatnonzero(~np.isnan(ind.rsi(close, 14)))[0] == 9 + 14


def test_interior_nan_poisons_recursions_and_leaves_windows() -> None:
    _, high, low, close = _random_bars(300, seed=12)
    close[150] = np.nan
    for values in (ind.rsi(close, 14), ind.kama(close, 10), ind.macd(close).signal, ind.bollinger_bands(close).middle):
        assert np.isfinite(values[120:150]).all() and np.isnan(values[150:]).all()
    assert talib.RSI(close, 14)[299] == 0.0  # where TA-Lib reads 0 off a NaN, rsi says NaN
    for values in (ind.stochastic(high, low, close).k, *ind.supertrend(high, low, close)):
        assert np.isfinite(values[120:150]).all() and np.isnan(values[150:]).all()
    for values, window in ((ind.cci(high, low, close, 14), 14), (ind.donchian(high, close, 5).lower, 5)):
        assert np.isfinite(values[120:150]).all()
        assert np.isnan(values[150 : 150 + window]).all() and np.isfinite(values[150 + window :]).all()


def test_rsi_on_a_hand_made_series() -> None:
    # period 2: gains 1, 1 -> 100; then a loss of 1 -> (0.5, 0.5) -> 50; a gain of 1 -> (0.75, 0.25) -> 75
    np.testing.assert_array_equal(ind.rsi([1.0, 2.0, 3.0, 2.0, 3.0], 2), [np.nan, np.nan, 100.0, 50.0, 75.0])
    assert (ind.rsi(np.full(20, 1.5), 5)[5:] == 0.0).all()  # flat: no gain, no loss -> 0, as TA-Lib


def test_donchian_includes_the_current_bar() -> None:
    channel = ind.donchian([1.0, 3.0, 2.0, 5.0, 4.0], [0.0, 1.0, 1.0, 2.0, 3.0], 3)
    np.testing.assert_array_equal(channel.upper, [np.nan, np.nan, 3.0, 5.0, 5.0])
    np.testing.assert_array_equal(channel.lower, [np.nan, np.nan, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(channel.middle, [np.nan, np.nan, 1.5, 3.0, 3.0])


def test_bollinger_uses_the_population_std() -> None:
    bands = ind.bollinger_bands([1.0, 2.0, 3.0, 4.0, 5.0], 5, 2.0)  # population std of 1..5 is sqrt(2)
    assert bands.middle[4] == 3.0
    assert bands.upper[4] == pytest.approx(3.0 + 2.0 * np.sqrt(2.0), rel=1e-15)
    assert bands.lower[4] == pytest.approx(3.0 - 2.0 * np.sqrt(2.0), rel=1e-15)
    assert np.isnan(bands.upper[:4]).all()


def test_bollinger_keeps_its_digits_on_large_prices() -> None:
    values = 40_000.0 + np.array([0.0, 0.5, -0.5, 1.0, -1.0] * 40)
    expected = np.array([values[t - 19 : t + 1].std() for t in range(19, len(values))])
    width = (ind.bollinger_bands(values, 20, 1.0).upper - ind.bollinger_bands(values, 20, 1.0).middle)[19:]
    np.testing.assert_allclose(width, expected, rtol=1e-9)


def test_stochastic_of_a_flat_range_is_zero() -> None:
    flat = np.full(12, 2.0)
    result = ind.stochastic(flat, flat, flat, 5, 3, 3)
    assert (result.k[8:] == 0.0).all() and (result.d[8:] == 0.0).all()
    closes_at_high = ind.stochastic([2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0, 1.0], [2.0, 3.0, 4.0, 5.0], 2, 1, 1)
    np.testing.assert_array_equal(closes_at_high.k, [np.nan, 100.0, 100.0, 100.0])


def test_kama_moves_fully_on_a_straight_line() -> None:
    values = np.arange(1.0, 12.0)  # efficiency ratio 1: smoothing (2/3)^2 toward each new value
    expected = values[4] + (values[5] - values[4]) * (2.0 / 3.0) ** 2
    assert ind.kama(values, 5)[5] == pytest.approx(expected, rel=1e-15)


def test_new_bad_arguments_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="fast_period < slow_period must hold, got fast_period=26, slow_period=12"):
        ind.macd(np.ones(50), 26, 12)
    with pytest.raises(ValueError, match="period must be an integer >= 2, got 1"):
        ind.rsi(np.ones(50), 1)
    with pytest.raises(ValueError, match=r"num_std must be a number > 0, got -1\.0"):
        ind.bollinger_bands(np.ones(50), 20, -1.0)
    with pytest.raises(ValueError, match="factor must be a number > 0, got nan"):
        ind.supertrend(np.ones(5), np.ones(5), np.ones(5), float("nan"), 3)
    with pytest.raises(ValueError, match="slowd_period must be an integer >= 1, got 0"):
        ind.stochastic(np.ones(5), np.ones(5), np.ones(5), 5, 3, 0)
    with pytest.raises(ValueError, match="inputs must have the same length"):
        ind.donchian(np.ones(5), np.ones(4), 2)


# --- TradingView: ta.atr and ta.supertrend -----------------------------------------------------------


def test_supertrend_on_hand_made_bars() -> None:
    # ATR(2) of TradingView: 2, 2, 2.5, 2.5, 2.5 from bar 1; bands hl2 ± ATR; the close of bar 3 crosses
    # the upper band (12) -> up-trend (-1) on the lower band 9.5, which holds on bar 4 (close 10.5) and
    # breaks on bar 5 (close 8.5 < 9.5) -> down-trend (+1) on the new upper band 9 + 2.5.
    high = [11.0, 11.0, 11.0, 13.0, 12.0, 10.0]
    low = [9.0, 9.0, 9.0, 11.0, 10.0, 8.0]
    close = [10.0, 10.0, 10.0, 12.5, 10.5, 8.5]
    np.testing.assert_array_equal(ind.atr_tradingview(high, low, close, 2), [np.nan, 2.0, 2.0, 2.5, 2.5, 2.5])
    result = ind.supertrend(high, low, close, 1.0, 2)
    np.testing.assert_array_equal(result.line, [np.nan, 12.0, 12.0, 9.5, 9.5, 11.5])
    np.testing.assert_array_equal(result.direction, [np.nan, 1.0, 1.0, -1.0, -1.0, 1.0])
    assert (ind.SUPERTREND_UP, ind.SUPERTREND_DOWN) == (-1.0, 1.0)


def _pine_reference_supertrend(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, factor: float, atr_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pine's reference ``pine_supertrend`` from the ta.supertrend manual page, line by line (nz -> 0)."""
    n_bars = len(close)
    true_range = [high[0] - low[0]] + [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, n_bars)
    ]
    atr_values = [np.nan] * n_bars
    for i in range(atr_period - 1, n_bars):
        atr_values[i] = (
            sum(true_range[:atr_period]) / atr_period
            if i == atr_period - 1
            else (atr_values[i - 1] * (atr_period - 1) + true_range[i]) / atr_period
        )
    lower_band, upper_band, line, direction = [0.0] * n_bars, [0.0] * n_bars, [np.nan] * n_bars, [np.nan] * n_bars
    for i in range(n_bars):
        hl2 = (high[i] + low[i]) / 2
        lower, upper = hl2 - factor * atr_values[i], hl2 + factor * atr_values[i]
        previous_lower = np.nan_to_num(lower_band[i - 1]) if i else 0.0  # nz(lowerBand[1])
        previous_upper = np.nan_to_num(upper_band[i - 1]) if i else 0.0
        previous_close = close[i - 1] if i else np.nan
        lower_band[i] = lower if (lower > previous_lower or previous_close < previous_lower) else previous_lower
        upper_band[i] = upper if (upper < previous_upper or previous_close > previous_upper) else previous_upper
        if i == 0 or np.isnan(atr_values[i - 1]):
            direction[i] = 1.0
        elif line[i - 1] == previous_upper:
            direction[i] = -1.0 if close[i] > upper_band[i] else 1.0
        else:
            direction[i] = 1.0 if close[i] < lower_band[i] else -1.0
        line[i] = lower_band[i] if direction[i] == -1.0 else upper_band[i]
    return np.array(line), np.array(direction)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("factor", "atr_period"), [(3.0, 10), (2.0, 7), (1.5, 2), (0.7, 14)])
def test_supertrend_equals_pines_reference_script(series: str, factor: float, atr_period: int) -> None:
    _, high, low, close = (values[:1500] for values in SERIES[series]())
    expected_line, expected_direction = _pine_reference_supertrend(high, low, close, factor, atr_period)
    result = ind.supertrend(high, low, close, factor, atr_period)
    first = atr_period - 1  # the reference script reports 0 with direction 1 during the ATR's warm-up
    assert np.isnan(result.line[:first]).all() and np.isnan(result.direction[:first]).all()
    np.testing.assert_allclose(result.line[first:], expected_line[first:], rtol=1e-12)
    np.testing.assert_array_equal(result.direction[first:], expected_direction[first:])
    assert set(np.unique(result.direction[first:])) == {-1.0, 1.0}


def test_tradingview_atr_converges_to_talib_atr() -> None:
    _, high, low, close = _random_bars(3000, seed=13)
    tradingview, wilder = ind.atr_tradingview(high, low, close, 14), ind.atr(high, low, close, 14)
    assert not np.isclose(tradingview[14], wilder[14], rtol=1e-6)  # other seed, one bar earlier
    np.testing.assert_allclose(tradingview[1000:], wilder[1000:], rtol=1e-10)


# --- the bars' cache ---------------------------------------------------------------------------------


def _bars(n_bars: int = 300) -> Bars:
    open_, high, low, close = _random_bars(n_bars, seed=14)
    times = np.datetime64("2024-01-01T00:00", "ns") + np.arange(n_bars) * np.timedelta64(1, "h")
    return Bars(
        time=times,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.zeros(n_bars),
        instrument=instruments.get("EURUSD"),
    )


def test_cached_derives_the_keys_strategies_write_by_hand() -> None:
    bars = _bars()
    by_hand = bars.cached(("ema", 20), lambda: ind.ema(bars.close, 20))
    assert ind.cached(bars, ind.ema, 20) is by_hand
    rsi_values = ind.cached(bars, ind.rsi)  # default period 14 is part of the key
    assert bars.cached(("rsi", 14), lambda: pytest.fail("recomputed")) is rsi_values
    _assert_same(rsi_values, ind.rsi(bars.close, 14))
    adx_values = ind.cached(bars, ind.adx, period=14)
    _assert_same(adx_values, ind.adx(bars.high, bars.low, bars.close, 14))
    assert ind.cached(bars, ind.adx, 14) is adx_values


def test_cached_stores_each_field_of_a_named_tuple() -> None:
    bars = _bars()
    result = ind.cached(bars, ind.macd, 12, 26, 9)
    assert isinstance(result, ind.MACD)
    _assert_same(result.histogram, ind.macd(bars.close).histogram)
    for field in ind.MACD._fields:
        assert bars.cached(("macd", 12, 26, 9, field), lambda: pytest.fail("recomputed")) is getattr(result, field)
    assert bars._cache_bytes == 3 * bars.close.nbytes  # the byte bound counts every line
    trend = ind.cached(bars, ind.supertrend, 3.0, 10)
    assert isinstance(trend, ind.SuperTrend) and not trend.line.flags.writeable
    assert ind.cached(bars, ind.supertrend, 3, atr_period=10).line is trend.line  # 3 == 3.0: one key


def test_cached_refuses_arguments_the_indicator_does_not_take() -> None:
    bars = _bars()
    with pytest.raises(TypeError, match="rsi: too many positional arguments"):
        ind.cached(bars, ind.rsi, 14, 3)
    with pytest.raises(TypeError, match=r"first parameter must be a bar column"):
        ind.cached(bars, ind.atr_distance, 1.0, 8.0, 0.0001)
