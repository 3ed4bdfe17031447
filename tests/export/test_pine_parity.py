"""Parity: the exported Pine script, run in the offline Pine runtime, trades as the engine does.

For every bundled strategy, on backtesting.py's 5,000 EURUSD H1 bars: the engine under
``intrabar="tradingview"`` with the ``zero`` broker, and the script ``tradescan export pine`` writes
for the same parameters run by PyneCore (TradingView's broker emulator, ``tests/pine_runtime.py``).
Positions must be identical — side, entry time and entry price — and so must every exit: time,
price to the tick, reason, and the share of the position it closed (to one contract, as Pine
floors ``qty_percent`` legs to whole contracts), and position sizes agree to 0.1 % (Pine floors
orders to whole units). Two documented differences are normalised before comparing: a signal exit or a time
stop closes the position in one Pine trade row where the engine writes one row per open leg, and
the engine's ``EOD`` is TradingView's still-open trade at the last close.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.pine_runtime import PineSymbol, require_pine_runtime, run_pine_strategy
from tradescan import Signals, Strategy, instruments
from tradescan.engine.api import backtest
from tradescan.export.pine import render_pine, settings_for
from tradescan.registry import get_strategy

backtesting = pytest.importorskip("backtesting", reason="backtesting.py ships the EURUSD bars: pip install -e .[dev]")

EURUSD_TICK = 1e-5  # price_precision 5: prices are compared in whole ticks
PINE_REASONS = {"SL": "SL", "TP": "TP", "SIGNAL": "SIGNAL", "TIME": "TIME", "Open": "EOD"}

# (strategy, parameters, stops_from, max_hold_bars): every bundled strategy, both level references,
# time stops, single targets, a three-target plan with break-even, trailing stops and exit signals.
CASES = [
    ("S1_TREND_EMA_ATR_ADX", {}, "fill", 96),
    ("S1_TREND_EMA_ATR_ADX", {"use_tp": False, "adx_th": 20.0}, "signal_close", 24),
    ("S2_MR_ZSCORE_EMA_REGIME", {"k_tp": 1.5, "z_entry": 1.5, "adx_max": 25.0, "slope_th": 0.1}, "fill", 48),
    ("S3_BREAKOUT_ATR_REGIME_EMA200", {"k_tp": 2.0, "compression_z_low": 0.0, "breakout_window": 20},
     "signal_close", 96),
    ("S4_TREND_PULLBACK_TRAIL_TARGETS", {}, "fill", 96),
    ("S4_TREND_PULLBACK_TRAIL_TARGETS", {"rsi_pullback": 45.0, "k_trail": 2.0, "ema_slow": 60, "break_even": False},
     "signal_close", 48),
]


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    raw = pd.read_csv(Path(backtesting.__file__).parent / "test" / "EURUSD.csv", index_col=0)
    times = pd.to_datetime(raw.index).tz_localize("UTC").as_unit("ns")
    columns = {name.lower(): raw[name].to_numpy(np.float64) for name in ("Open", "High", "Low", "Close", "Volume")}
    return pd.DataFrame({"time": times, **columns})


def _ticks(prices: Any, tick: float = EURUSD_TICK) -> np.ndarray:
    return np.rint(np.asarray(prices, dtype=np.float64) / tick).astype(np.int64)


def engine_exits(trades: pd.DataFrame, tick: float = EURUSD_TICK) -> pd.DataFrame:
    """One row per (position, exit time, exit price, reason) with the share of the position it closed."""
    frame = pd.DataFrame(
        {
            "side": np.where(trades["side"] > 0, "long", "short"),
            "entry_time": trades["entry_time"].to_numpy(),
            "entry_ticks": _ticks(trades["entry_price"], tick),
            "exit_time": trades["exit_time"].to_numpy(),
            "exit_ticks": _ticks(trades["exit_price"], tick),
            "reason": trades["exit_reason"].to_numpy(),
            "share": trades["fraction"].to_numpy(),
        }
    )
    return _grouped(frame)


def pine_exits(trades: pd.DataFrame, tick: float = EURUSD_TICK) -> pd.DataFrame:
    """The runtime's trade rows in the same shape; a share is the row's contracts over the position's."""
    position = trades.groupby(["entry_time", "entry_price"])["contracts"].transform("sum")
    frame = pd.DataFrame(
        {
            "side": trades["side"].to_numpy(),
            "entry_time": trades["entry_time"].to_numpy(),
            "entry_ticks": _ticks(trades["entry_price"], tick),
            "exit_time": trades["exit_time"].to_numpy(),
            "exit_ticks": _ticks(trades["exit_price"], tick),
            # a leg filled by a gap at the open carries its order id instead of the comment
            "reason": trades["exit_signal"].map(PINE_REASONS).fillna("?").to_numpy(),
            "share": (trades["contracts"] / position).to_numpy(),
        }
    )
    return _grouped(frame)


def _grouped(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["side", "entry_time", "entry_ticks", "exit_time", "exit_ticks"]
    reasons = frame.groupby(keys)["reason"].agg(lambda values: "/".join(sorted(set(values))))
    shares = frame.groupby(keys)["share"].sum()
    return pd.concat([reasons, shares], axis=1).reset_index().sort_values(keys).reset_index(drop=True)


def _run_both(
    eurusd: pd.DataFrame, name: str, params: dict[str, Any], stops_from: str, max_hold: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    require_pine_runtime()
    strategy = get_strategy(name)
    settings = settings_for("EURUSD", stops_from=stops_from, max_hold_bars=max_hold, broker="zero")  # type: ignore[arg-type]
    script = render_pine(strategy, params, settings)
    pine = run_pine_strategy(script, eurusd, symbol=PineSymbol.of(instruments.get("EURUSD")))
    engine = backtest(
        eurusd, name, params, symbol="EURUSD", scenarios=("A",), broker="zero", intrabar="tradingview",
        stops_from=stops_from, max_hold_bars=max_hold,
    ).trades
    return engine, pine


@pytest.mark.parametrize(("name", "params", "stops_from", "max_hold"), CASES)
def test_the_exported_script_trades_as_the_engine(
    eurusd: pd.DataFrame, name: str, params: dict[str, Any], stops_from: str, max_hold: int
) -> None:
    engine, pine = _run_both(eurusd, name, params, stops_from, max_hold)
    assert engine["position_id"].nunique() >= 20, "too few positions to say anything"
    positions = engine.groupby("position_id").first()
    pine_positions = pine.drop_duplicates(["entry_time", "entry_price"])
    assert list(pine_positions["side"]) == list(np.where(positions["side"] > 0, "long", "short"))
    assert list(pine_positions["entry_time"]) == list(positions["entry_time"])
    assert list(_ticks(pine_positions["entry_price"])) == list(_ticks(positions["entry_price"]))

    ours, theirs = engine_exits(engine), pine_exits(pine)
    keys = ["side", "entry_time", "entry_ticks", "exit_time", "exit_ticks"]
    pd.testing.assert_frame_equal(ours[keys], theirs[keys])
    labelled = theirs["reason"] != "?"
    assert labelled.mean() > 0.95
    assert list(theirs.loc[labelled, "reason"]) == list(ours.loc[labelled, "reason"])
    # Pine floors each qty_percent leg to whole contracts (thousands per position here)
    np.testing.assert_allclose(theirs["share"], ours["share"], atol=1e-3)
    # Sizes: the same risk rule; Pine floors the order to whole units and its compounding equity
    # follows those floored sizes, so the two drift apart by a few units in ten thousand
    sizes = engine.groupby("position_id")["size"].sum().to_numpy()
    contracts = pine.groupby(["entry_time", "entry_price"], sort=False)["contracts"].sum().to_numpy()
    np.testing.assert_allclose(contracts, sizes, rtol=1e-3)
    assert (contracts == np.floor(contracts)).all()


def test_the_parity_cases_reach_every_rule(eurusd: pd.DataFrame) -> None:
    """The cases above exercise what they claim: each rule shows up in the engine's trades."""
    reasons: set[str] = set()
    moved_stops = multi_leg = same_open = 0
    for name, params, stops_from, max_hold in CASES:
        trades = backtest(
            eurusd, name, params, symbol="EURUSD", scenarios=("A",), broker="zero", intrabar="tradingview",
            stops_from=stops_from, max_hold_bars=max_hold,
        ).trades
        reasons |= set(trades["exit_reason"])
        stopped = trades[trades["exit_reason"] == "SL"]
        moved_stops += int((stopped["side"] * (stopped["exit_price"] - stopped["entry_price"]) >= 0).sum())
        multi_leg += int((trades.groupby("position_id")["exit_time"].nunique() > 1).sum())
        positions = trades.groupby("position_id").agg(entry=("entry_time", "first"), exit=("exit_time", "max"))
        same_open += int(positions["entry"].iloc[1:].isin(positions["exit"].iloc[:-1]).sum())
    assert reasons == {"SL", "TP", "SIGNAL", "TIME", "EOD"} or reasons == {"SL", "TP", "SIGNAL", "TIME"}
    assert moved_stops > 10  # trailed or break-even stops hit at or beyond the entry
    assert multi_leg > 10  # TP1 then the rest later
    assert same_open > 0  # a signal exit and the next entry at the same open


class _OneSignal(Strategy):
    """Long at the close of bar 2 with a stop and a target 20 pips away."""

    name = "PARITY_ONE_SIGNAL"

    def signals(self, bars: Any, params: Any) -> Signals:
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[2] = 1
        distance = np.full(len(bars), 0.0020)
        return Signals(entry=entry, stop_distance=distance, target_distance=distance)


TIE_SCRIPT = """//@version=6
strategy("tie", initial_capital=100000, default_qty_type=strategy.fixed, default_qty_value=1000,
     margin_long=0, margin_short=0, commission_value=0, slippage=0)
if bar_index == 2
    strategy.entry("L", strategy.long)
    strategy.exit("X", "L", loss=200, profit=200)
"""


def test_a_high_low_tie_goes_to_the_low_first_in_both() -> None:
    """The minimal case behind the kernel fix: high and low equally far from the open (a float tie).

    TradingView's emulator (PyneCore) walks open -> high first only when the high is strictly
    nearer; a tie goes open -> low first. The long's stop (20 pips below the 1.14534 fill) is hit
    before its target.
    """
    require_pine_runtime()
    open_, high, low = 1.14534, 1.14798, 1.14270
    assert high - open_ == open_ - low  # exactly, in floating point
    flat, after = (1.14534, 1.14540, 1.14530, 1.14534), (1.14676, 1.1468, 1.1467, 1.14676)
    rows = [flat] * 3 + [(open_, high, low, 1.14676)] + [after] * 2
    times = pd.date_range("2024-01-01", periods=len(rows), freq="h", tz="UTC").as_unit("ns")
    bars = pd.DataFrame(rows, columns=["open", "high", "low", "close"]).assign(time=times, volume=1.0)
    bars = bars[["time", "open", "high", "low", "close", "volume"]]
    pine = run_pine_strategy(TIE_SCRIPT, bars, symbol=PineSymbol.of(instruments.get("EURUSD")))
    engine = backtest(
        bars, _OneSignal(), symbol="EURUSD", scenarios=("A",), broker="zero", intrabar="tradingview"
    ).trades
    assert pine[["entry_bar", "exit_bar", "exit_price"]].values.tolist() == [[3, 3, 1.14334]]
    assert engine[["exit_reason", "exit_price"]].values.tolist() == [["SL", pytest.approx(1.14334, abs=1e-12)]]


PLUGIN_MODULE = '''
import numpy as np
from pydantic import BaseModel, ConfigDict
from tradescan import Signals, Strategy
from tradescan.indicators import atr, ema


class PluginCross(Strategy):
    name = "PLUGIN_CROSS_PINE"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        fast: int = 10
        slow: int = 40

    def warmup(self, params):
        return params.slow

    def signals(self, bars, params):
        fast, slow = ema(bars.close, params.fast), ema(bars.close, params.slow)
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[1:][(fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])] = 1
        entry[1:][(fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])] = -1
        entry[: params.slow] = 0
        distance = 1.5 * atr(bars.high, bars.low, bars.close, 14)
        entry[np.isnan(distance)] = 0
        return Signals(entry=entry, stop_distance=distance, target_distance=2.0 * distance)
'''
PLUGIN_TEMPLATE = """// PLUGIN_CROSS_PINE: EMA(fast) crossing EMA(slow); stop 1.5 ATR, target 3 ATR.
int warmup = slow
float fast_ema = ts_ema(close, fast)
float slow_ema = ts_ema(close, slow)
float atr_value = ts_atr(14)
float sig_stop = 1.5 * atr_value
float sig_tp1 = 2.0 * sig_stop
int sig_entry = 0
if ts_gt(fast_ema, slow_ema) and ts_le(fast_ema[1], slow_ema[1])
    sig_entry := 1
if ts_lt(fast_ema, slow_ema) and ts_ge(fast_ema[1], slow_ema[1])
    sig_entry := -1
if na(sig_stop) or bar_index < warmup
    sig_entry := 0
"""


def test_a_plugin_with_its_own_template_trades_as_the_engine(eurusd: pd.DataFrame, tmp_path: Path) -> None:
    """The documented plug-in way: ``<module>.pine`` beside the strategy's module."""
    require_pine_runtime()
    (tmp_path / "plugin_cross.py").write_text(PLUGIN_MODULE)
    (tmp_path / "plugin_cross.pine").write_text(PLUGIN_TEMPLATE)
    strategy = get_strategy("PLUGIN_CROSS_PINE", [tmp_path])
    script = render_pine(strategy, {"fast": 12}, settings_for("EURUSD", broker="zero"))
    pine = run_pine_strategy(script, eurusd, symbol=PineSymbol.of(instruments.get("EURUSD")))
    engine = backtest(eurusd, strategy, {"fast": 12}, symbol="EURUSD", scenarios=("A",), broker="zero",
                      intrabar="tradingview").trades
    assert len(engine) > 50
    pd.testing.assert_frame_equal(engine_exits(engine), pine_exits(pine))


# Other tick sizes and price scales: BTCUSDT (tick 0.01, pip 0.01) and USDJPY (tick 0.001, pip 0.01)
# on synthetic bars, whose prices lie on the instrument's tick grid as real quotes do.
OTHER_SYMBOLS = [
    ("BTCUSDT", "S4_TREND_PULLBACK_TRAIL_TARGETS", {}, "fill"),
    ("USDJPY", "S2_MR_ZSCORE_EMA_REGIME", {"k_tp": 1.5, "z_entry": 1.5, "adx_max": 25.0, "slope_th": 0.1},
     "signal_close"),
]


@pytest.mark.parametrize(("symbol", "name", "params", "stops_from"), OTHER_SYMBOLS)
def test_the_tick_grid_of_other_symbols(symbol: str, name: str, params: dict[str, Any], stops_from: str) -> None:
    require_pine_runtime()
    from tradescan.data.synth import synthesize

    instrument = instruments.get(symbol)
    tick = 10.0**-instrument.price_precision
    bars = synthesize(symbol, "H1", 3000, seed=5)
    settings = settings_for(symbol, stops_from=stops_from, broker="zero")  # type: ignore[arg-type]
    script = render_pine(get_strategy(name), params, settings)
    # BTC positions are fractions of a coin: let Pine trade a millionth of one (TradingView's lot)
    pine = run_pine_strategy(script, bars, symbol=PineSymbol.of(instrument, mincontract=1e-6))
    engine = backtest(bars, name, params, symbol=symbol, scenarios=("A",), broker="zero", intrabar="tradingview",
                      stops_from=stops_from).trades
    assert engine["position_id"].nunique() >= 15
    ours, theirs = engine_exits(engine, tick), pine_exits(pine, tick)
    keys = ["side", "entry_time", "entry_ticks", "exit_time", "exit_ticks"]
    pd.testing.assert_frame_equal(ours[keys], theirs[keys])
    labelled = theirs["reason"] != "?"
    assert list(theirs.loc[labelled, "reason"]) == list(ours.loc[labelled, "reason"])
