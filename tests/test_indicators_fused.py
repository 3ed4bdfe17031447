"""``ema_pair_atr_adx``: the one-pass EMA pair, ATR and ADX equal the four functions bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan import indicators as ind
from tradescan import instruments
from tradescan.bars import Bars
from tradescan.data import synthesize


def _random_hlc(n_bars: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.003, n_bars)))
    high = close * (1 + np.abs(rng.normal(0, 0.001, n_bars)))
    low = close * (1 - np.abs(rng.normal(0, 0.001, n_bars)))
    return high, low, close


def _assert_identical(high: np.ndarray, low: np.ndarray, close: np.ndarray, *periods: int) -> None:
    fast, slow, atr_period, adx_period = periods
    got = ind.ema_pair_atr_adx(high, low, close, *periods)
    want = (ind.ema(close, fast), ind.ema(close, slow), ind.atr(high, low, close, atr_period),
            ind.adx(high, low, close, adx_period))
    for name, actual, expected in zip(got._fields, got, want, strict=True):
        assert actual.dtype == np.float64 and actual.shape == expected.shape, name
        assert np.array_equal(actual, expected, equal_nan=True), f"{name} differs for periods {periods}"


@pytest.mark.parametrize("periods", [(20, 50, 14, 14), (5, 200, 7, 30), (1, 2, 1, 1), (50, 20, 14, 3)])
def test_one_pass_equals_the_four_functions(periods: tuple[int, int, int, int]) -> None:
    _assert_identical(*_random_hlc(3000, seed=7), *periods)


def test_equal_on_flat_bars_where_adx_skips_dx() -> None:
    high, low, close = _random_hlc(400, seed=3)
    high[100:140] = low[100:140] = close[100:140] = close[100]  # zero ranges: DX is skipped (TA-Lib)
    _assert_identical(high, low, close, 10, 30, 14, 14)


@pytest.mark.parametrize("n_bars", [2, 27, 28, 29, 51])
def test_short_series_fall_back_and_stay_equal(n_bars: int) -> None:
    _assert_identical(*_random_hlc(n_bars, seed=n_bars), 20, 50, 14, 14)


def test_nan_lead_and_interior_nan_stay_equal() -> None:
    high, low, close = _random_hlc(500, seed=11)
    high[:3] = np.nan  # the one-pass kernel needs no NaN lead: the fallback runs
    _assert_identical(high, low, close, 20, 50, 14, 14)
    high, low, close = _random_hlc(500, seed=12)
    close[250] = np.nan  # an interior NaN poisons every later value, in both forms alike
    _assert_identical(high, low, close, 20, 50, 14, 14)


def test_hand_made_values() -> None:
    close = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    high, low = close + 0.5, close - 0.5
    result = ind.ema_pair_atr_adx(high, low, close, 2, 3, 2, 2)
    # EMA(2): seed mean(1, 2) = 1.5 at bar 1, then k = 2/3: 1.5 + (3 - 1.5)·2/3 = 2.5, ...
    np.testing.assert_array_equal(result.ema_fast, [np.nan, 1.5, 2.5, 3.5, 4.5, 5.5])
    np.testing.assert_array_equal(result.ema_slow, [np.nan, np.nan, 2.0, 3.0, 4.0, 5.0])
    # TR = |high - previous close| = 1.5 on every bar after the first: ATR(2) = 1.5 from bar 2
    np.testing.assert_array_equal(result.atr, [np.nan, np.nan, 1.5, 1.5, 1.5, 1.5])
    # a steady rise: +DM only, so DX = 100 and ADX = 100 from bar 2·2 - 1 = 3
    np.testing.assert_array_equal(result.adx, [np.nan, np.nan, np.nan, 100.0, 100.0, 100.0])


def test_bad_period_is_named() -> None:
    with pytest.raises(ValueError, match="adx_period must be an integer >= 1, got 0"):
        ind.ema_pair_atr_adx(*_random_hlc(100, seed=1), 20, 50, 14, 0)


def test_s1_fills_the_bars_cache_with_the_same_arrays() -> None:
    from tradescan.registry import get_strategy

    bars = Bars.from_frame(synthesize("EURUSD", "M15", 2000, seed=5), instruments.get("EURUSD"))
    strategy = get_strategy("S1_TREND_EMA_ATR_ADX")
    params = strategy.parse_params(None)
    assert not bars.is_cached(("adx", 14))
    strategy.signals(bars, params)
    assert bars.is_cached(("adx", 14)) and bars.is_cached(("atr", 14)) and bars.is_cached(("ema", 50))
    assert np.array_equal(bars.cached(("adx", 14), lambda: np.empty(0)),
                          ind.adx(bars.high, bars.low, bars.close, 14), equal_nan=True)
    assert np.array_equal(bars.cached(("atr", 14), lambda: np.empty(0)),
                          ind.atr(bars.high, bars.low, bars.close, 14), equal_nan=True)
