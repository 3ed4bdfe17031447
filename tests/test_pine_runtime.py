"""The offline Pine runtime helper (tests/pine_runtime.py), and SuperTrend/ATR against Pine's own."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.pine_runtime import PineSymbol, require_pine_runtime, run_pine_indicator, run_pine_strategy
from tradescan import indicators as ind
from tradescan import instruments

backtesting = pytest.importorskip("backtesting", reason="backtesting.py is a dev extra: pip install -e .[dev]")

SUPERTREND_SCRIPT = """//@version=6
indicator("SuperTrend check")
[st, dir] = ta.supertrend({factor}, {atr_period})
plot(st, "line")
plot(dir, "direction")
plot(ta.atr({atr_period}), "atr")
"""


def _real_bars(name: str) -> pd.DataFrame:
    raw = pd.read_csv(Path(backtesting.__file__).parent / "test" / f"{name}.csv", index_col=0)
    times = pd.to_datetime(raw.index).tz_localize("UTC").as_unit("ns")
    columns = {
        column.lower(): raw[column].to_numpy(np.float64) for column in ("Open", "High", "Low", "Close", "Volume")
    }
    return pd.DataFrame({"time": times, **columns})


@pytest.mark.parametrize("name", ["EURUSD", "GOOG"])
@pytest.mark.parametrize(("factor", "atr_period"), [(3.0, 10), (2.0, 7), (1.5, 2), (0.7, 14)])
def test_supertrend_and_atr_equal_the_pine_runtime(name: str, factor: float, atr_period: int) -> None:
    bars = _real_bars(name)
    plots = run_pine_indicator(SUPERTREND_SCRIPT.format(factor=factor, atr_period=atr_period), bars)
    high, low, close = (bars[column].to_numpy() for column in ("high", "low", "close"))
    result = ind.supertrend(high, low, close, factor, atr_period)
    first = max(atr_period - 1, 1)
    assert plots["line"].iloc[0] == 0.0  # TradingView's first-bar value, which we leave NaN
    assert np.isnan(result.line[:first]).all() and np.isnan(result.direction[:first]).all()
    np.testing.assert_allclose(result.line[first:], plots["line"].to_numpy()[first:], rtol=1e-12)
    np.testing.assert_array_equal(result.direction[first:], plots["direction"].to_numpy()[first:])
    assert (np.diff(result.direction[first:]) != 0).sum() > 10  # the trend flips: the test has teeth
    np.testing.assert_allclose(ind.atr_tradingview(high, low, close, atr_period), plots["atr"], rtol=1e-12)


HAND_MADE_BARS = [  # open, high, low, close
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 102.0, 99.0, 101.0),  # 1: long signal at the close
    (102.0, 104.0, 101.0, 103.0),  # 2: the long fills at the open, 102
    (103.0, 105.0, 102.0, 104.0),
    (104.0, 106.0, 103.0, 105.0),  # 4: close signal
    (106.0, 107.0, 104.0, 105.0),  # 5: the long exits at the open, 106; short signal, stop at 105 + 1
    (104.5, 105.5, 103.0, 104.0),  # 6: the short fills at 104.5; high 105.5 < 106
    (104.0, 107.0, 103.5, 106.5),  # 7: the stop at 106 is hit inside the bar
    (106.0, 107.0, 105.0, 106.0),
    (106.0, 107.0, 105.0, 106.0),
]
HAND_MADE_STRATEGY = """//@version=6
strategy("hand made", initial_capital=100000, default_qty_type=strategy.fixed, default_qty_value=2,
     margin_long=0, margin_short=0, commission_value=0, slippage=0)
if bar_index == 1
    strategy.entry("L", strategy.long)
if bar_index == 4
    strategy.close("L")
if bar_index == 5
    strategy.entry("S", strategy.short)
    strategy.exit("SX", "S", stop=close + 1.0)
"""


def _hand_made_bars() -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=len(HAND_MADE_BARS), freq="D", tz="UTC").as_unit("ns")
    frame = pd.DataFrame(HAND_MADE_BARS, columns=["open", "high", "low", "close"])
    return frame.assign(time=times, volume=1.0)[["time", "open", "high", "low", "close", "volume"]]


def test_run_pine_strategy_returns_the_trade_list() -> None:
    bars = _hand_made_bars()
    symbol = PineSymbol(ticker="TEST", currency="USD", basecurrency=None, type="stock", mintick=0.01)
    trades = run_pine_strategy(HAND_MADE_STRATEGY, bars, symbol=symbol)
    expected = pd.DataFrame(
        {
            "trade": [1, 2],
            "side": ["long", "short"],
            "entry_bar": [2, 6],
            "entry_time": bars["time"].iloc[[2, 6]].reset_index(drop=True),
            "entry_price": [102.0, 104.5],
            "entry_signal": ["L", "S"],
            "exit_bar": [5, 7],
            "exit_time": bars["time"].iloc[[5, 7]].reset_index(drop=True),
            "exit_price": [106.0, 106.0],
            "exit_signal": ["Close entry(s) order L", "SX"],  # TradingView's text for strategy.close
            "contracts": [2.0, 2.0],
            "profit": [8.0, -3.0],
            "open_at_end": [False, False],
        }
    )
    pd.testing.assert_frame_equal(trades, expected, check_dtype=False)
    again = run_pine_strategy(HAND_MADE_STRATEGY, bars, symbol=symbol)  # no state left from the first run
    pd.testing.assert_frame_equal(again, trades)


def test_a_trade_still_open_is_marked_and_settings_override_strategy_arguments() -> None:
    bars = _hand_made_bars()
    script = HAND_MADE_STRATEGY.replace('if bar_index == 4\n    strategy.close("L")\n', "").replace(
        "bar_index == 5", "bar_index == 50"
    )
    trades = run_pine_strategy(script, bars, settings={"default_qty_value": 3})
    assert trades[["entry_bar", "exit_bar", "exit_price", "contracts", "open_at_end"]].values.tolist() == [
        [2, 9, 106.0, 3.0, True]
    ]


def test_timeframe_and_symbol_come_from_the_bars_and_instrument() -> None:
    eurusd = PineSymbol.of(instruments.get("EURUSD"))
    assert (eurusd.ticker, eurusd.currency, eurusd.basecurrency, eurusd.type) == ("EURUSD", "USD", "EUR", "forex")
    assert eurusd.mintick == pytest.approx(1e-5, rel=1e-12)
    plots = run_pine_indicator('//@version=6\nindicator("tf")\nplot(timeframe.in_seconds(), "seconds")\n',
                               _real_bars("EURUSD").iloc[:50], symbol=eurusd)  # fmt: skip
    assert (plots["seconds"] == 3600.0).all()


def test_a_missing_runtime_skips_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pine2pyne", None)
    with pytest.raises(pytest.skip.Exception, match=r"pip install -e \.\[pine\]"):
        require_pine_runtime()
