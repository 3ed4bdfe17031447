"""One contract suite, parametrised over every discovered strategy (bundled and on the search path).

The helpers ``random_walk_frame`` and ``assert_strategy_contract`` are also used by the scaffold
tests on a freshly generated strategy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from tradescan import Bars, Strategy, instruments
from tradescan.errors import TradeScanError, UnknownNameError
from tradescan.lookahead import check_lookahead
from tradescan.registry import discover, get_strategy

BUNDLED = (
    "S1_TREND_EMA_ATR_ADX",
    "S2_MR_ZSCORE_EMA_REGIME",
    "S3_BREAKOUT_ATR_REGIME_EMA200",
    "S4_TREND_PULLBACK_TRAIL_TARGETS",
)


def random_walk_frame(n_bars: int = 3000, seed: int = 7, price: float = 1.10) -> pd.DataFrame:
    """Return hourly bars from a seeded random walk whose drift and volatility switch regimes."""
    rng = np.random.default_rng(seed)
    regime_length = 250
    n_regimes = -(-n_bars // regime_length)
    drift = np.repeat(rng.normal(0, 0.0004, n_regimes), regime_length)[:n_bars]
    volatility = np.repeat(rng.uniform(0.0005, 0.003, n_regimes), regime_length)[:n_bars]
    close = price * np.exp(np.cumsum(drift + volatility * rng.standard_normal(n_bars)))
    open_ = np.concatenate(([price], close[:-1]))
    wick = np.abs(rng.normal(0, 0.5, (2, n_bars))) * volatility
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-01-04", periods=n_bars, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wick[0]),
            "low": np.minimum(open_, close) * (1 - wick[1]),
            "close": close,
            "volume": rng.integers(100, 1000, n_bars).astype(np.float64),
        }
    )


def _bars(frame: pd.DataFrame, symbol: str = "EURUSD") -> Bars:
    return Bars.from_frame(frame, instruments.get(symbol))


def _neighbours(strategy: Strategy, params: BaseModel) -> list[BaseModel]:
    """Valid parameter sets one step away from ``params`` (+1 for ints, x1.1 for floats)."""
    found = []
    for name, value in params.model_dump().items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        moved = value + 1 if isinstance(value, int) else value * 1.1 + 0.01
        try:
            found.append(strategy.parse_params({**params.model_dump(), name: moved}))
        except TradeScanError:
            continue
    return found


def assert_strategy_contract(strategy: Strategy, frame: pd.DataFrame) -> None:
    """Assert everything DESIGN §3 asks of a strategy, on the bars in ``frame``."""
    assert strategy.name and strategy.name == strategy.name.strip()
    params = strategy.parse_params({})
    assert params == strategy.Params(), "Params() defaults must be valid"
    warmup = strategy.warmup(params)
    assert isinstance(warmup, int) and 0 <= warmup < len(frame)

    bars = _bars(frame)
    raw = strategy.signals(bars, params)
    for array in (raw.entry, raw.stop_distance):
        assert isinstance(array, np.ndarray) and array.shape == (len(bars),)
    for optional in (raw.target_distance, raw.exit, raw.trail_distance):  # None = not used
        assert optional is None or (isinstance(optional, np.ndarray) and optional.shape == (len(bars),))
    assert raw.targets is None or np.shape(raw.targets)[0] == len(bars)
    assert raw.stop_distance.dtype == np.float64
    assert raw.target_distance is None or raw.target_distance.dtype == np.float64
    assert raw.entry.dtype.kind in "iu", "entry must be an integer array"
    signals = raw.validated(len(bars), strategy_name=strategy.name)  # -1/0/+1, distances > 0 or NaN
    assert not signals.entry[:warmup].any(), "entries inside the warm-up"
    assert not signals.entry[0], "a signal on bar 0"

    # The indicator cache must not leak between parameter sets: keys carry every argument.
    for other in _neighbours(strategy, params):
        warm = strategy.signals(bars, other).validated(len(bars))
        cold = strategy.signals(_bars(frame), other).validated(len(bars))
        for label in ("entry", "stop_distance", "target_distance", "exit", "trail_distance", "targets"):
            np.testing.assert_array_equal(getattr(warm, label), getattr(cold, label), err_msg=str(other))

    report = check_lookahead(strategy, bars, params)
    assert report.ok, str(report)

    first_field = next(iter(strategy.Params.model_fields))
    with pytest.raises(UnknownNameError, match=rf"did you mean '{first_field}'"):
        strategy.parse_params({first_field + "x": 1})


STRATEGY_NAMES = sorted(discover())


def test_bundled_strategies_are_discovered() -> None:
    assert set(BUNDLED) <= set(STRATEGY_NAMES)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_contract(name: str) -> None:
    assert_strategy_contract(get_strategy(name), random_walk_frame())


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_strategies_trade_both_sides_with_stops(name: str) -> None:
    strategy = get_strategy(name)
    params = strategy.parse_params({})
    bars = _bars(random_walk_frame(6000, seed=3))
    signals = strategy.signals(bars, params).validated(len(bars))
    assert (signals.entry == 1).any() and (signals.entry == -1).any()
    entries = signals.entry != 0
    assert np.isfinite(signals.stop_distance[entries]).all()
    # Stops are at least the pip floor, in price units.
    assert (signals.stop_distance[entries] >= params.min_sl_pips * 0.0001 - 1e-15).all()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_strategies_pass_lookahead_on_real_bars(name: str) -> None:
    backtesting_test = pytest.importorskip("backtesting.test")
    frame = backtesting_test.EURUSD.rename(columns=str.lower).rename_axis("time").reset_index()
    report = check_lookahead(name, frame, symbol="EURUSD")
    assert report.ok, str(report)


def test_s1_rules_by_hand() -> None:
    strategy = get_strategy("S1_TREND_EMA_ATR_ADX")
    params = strategy.parse_params({"ema_fast": 5, "ema_slow": 12, "adx_th": 20, "use_tp": False})
    bars = _bars(random_walk_frame(1500, seed=9))
    from tradescan.indicators import adx, atr, ema

    fast, slow = ema(bars.close, 5), ema(bars.close, 12)
    adx_values = adx(bars.high, bars.low, bars.close, 14)
    expected = np.where(adx_values > 20, np.sign(fast - slow), 0)
    expected = np.nan_to_num(expected).astype(np.int8)
    expected[: strategy.warmup(params)] = 0
    signals = strategy.signals(bars, params)
    np.testing.assert_array_equal(signals.entry, expected)
    stop = np.maximum(2.5 * atr(bars.high, bars.low, bars.close, 14), 8 * 0.0001)
    np.testing.assert_array_equal(signals.stop_distance, stop)
    assert np.isnan(signals.target_distance).all()
    assert strategy.warmup(params) == 27


def test_s1_pip_floor_uses_the_instrument_pip() -> None:
    strategy = get_strategy("S1_TREND_EMA_ATR_ADX")
    params = strategy.parse_params({"min_sl_pips": 1000, "min_tp_pips": 2000})
    frame = random_walk_frame(600, seed=2, price=150.0)
    signals = strategy.signals(_bars(frame, "USDJPY"), params)
    valid = ~np.isnan(signals.stop_distance)
    assert np.allclose(signals.stop_distance[valid], 10.0) and np.allclose(signals.target_distance[valid], 20.0)


def test_s1_fast_must_be_below_slow() -> None:
    with pytest.raises(TradeScanError, match=r"ema_fast < ema_slow must hold, but got \(ema_fast=60, ema_slow=50\)"):
        get_strategy("S1_TREND_EMA_ATR_ADX").parse_params({"ema_fast": 60})


def test_s2_fades_extremes_only_in_the_quiet_regime() -> None:
    strategy = get_strategy("S2_MR_ZSCORE_EMA_REGIME")
    params = strategy.parse_params({"ema_base": 50, "k_tp": 1.0})
    bars = _bars(random_walk_frame(4000, seed=5))
    from tradescan.indicators import adx, atr, ema, rolling_zscore

    base = ema(bars.close, 50)
    z_values = rolling_zscore(bars.close - base, 30)
    atr_values = atr(bars.high, bars.low, bars.close, 14)
    flat = np.abs(base - np.concatenate((np.full(20, np.nan), base[:-20]))) / 20 / atr_values < 0.05
    quiet = (adx(bars.high, bars.low, bars.close, 14) < 20) & flat
    signals = strategy.signals(bars, params)
    assert (signals.entry[quiet & (z_values >= 2)] == -1).all()
    assert (signals.entry[quiet & (z_values <= -2)] == 1).all()
    assert (signals.entry[~quiet] == 0).all()
    assert np.isfinite(signals.target_distance[signals.entry != 0]).all()


def test_s3_breaks_the_previous_range_with_the_trend() -> None:
    strategy = get_strategy("S3_BREAKOUT_ATR_REGIME_EMA200")
    params = strategy.parse_params({"compression_z_low": 10.0})  # always "compressed": test the breakout
    bars = _bars(random_walk_frame(3000, seed=8))
    from tradescan.indicators import ema

    signals = strategy.signals(bars, params)
    trend = ema(bars.close, 200)
    for t in np.flatnonzero(signals.entry):
        previous_high = bars.high[t - 55 : t].max()
        previous_low = bars.low[t - 55 : t].min()
        if signals.entry[t] == 1:
            assert bars.close[t] > previous_high and bars.close[t] > trend[t]
        else:
            assert bars.close[t] < previous_low and bars.close[t] < trend[t]
    assert np.isnan(signals.target_distance).all()  # k_tp defaults to None
    assert strategy.warmup(params) == max(14 + 100 - 1, 55, 200 - 1)


def test_s4_rules_by_hand() -> None:
    strategy = get_strategy("S4_TREND_PULLBACK_TRAIL_TARGETS")
    params = strategy.parse_params({"ema_fast": 5, "ema_slow": 30, "rsi_pullback": 45.0})
    bars = _bars(random_walk_frame(6000, seed=3))
    from tradescan.indicators import atr, ema, rsi

    fast, slow = ema(bars.close, 5), ema(bars.close, 30)
    rsi_values = rsi(bars.close, 14)
    crossed_up = (np.roll(rsi_values, 1) < 45.0) & (rsi_values >= 45.0)
    crossed_down = (np.roll(rsi_values, 1) > 55.0) & (rsi_values <= 55.0)
    expected = np.where((fast > slow) & crossed_up, 1, np.where((fast < slow) & crossed_down, -1, 0)).astype(np.int8)
    expected[: strategy.warmup(params)] = 0
    signals = strategy.signals(bars, params).validated(len(bars))
    np.testing.assert_array_equal(signals.entry, expected)
    assert (expected == 1).sum() > 2 and (expected == -1).sum() > 2
    np.testing.assert_array_equal(signals.exit, np.where(fast < slow, 1, np.where(fast > slow, -1, 0)))
    atr_values = atr(bars.high, bars.low, bars.close, 14)
    stop = np.maximum(2.0 * atr_values, 5.0 * 0.0001)
    np.testing.assert_array_equal(signals.stop_distance[30:], stop[30:])
    np.testing.assert_array_equal(signals.trail_distance[30:], np.maximum(3.0 * atr_values, 5.0 * 0.0001)[30:])
    assert signals.targets is not None and signals.targets.shape == (6000, 3)
    np.testing.assert_array_equal(signals.targets[30:], np.column_stack([stop, 2.0 * stop, 3.5 * stop])[30:])
    assert signals.target_fractions == (0.4, 0.3, 0.3) and signals.break_even is True


def test_s4_refuses_targets_that_do_not_progress() -> None:
    strategy = get_strategy("S4_TREND_PULLBACK_TRAIL_TARGETS")
    with pytest.raises(TradeScanError, match=r"r_tp1 < r_tp2 < r_tp3 must hold .*r_tp1=2.0, r_tp2=2.0"):
        strategy.parse_params({"r_tp1": 2.0, "r_tp2": 2.0})
