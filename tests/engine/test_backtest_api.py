"""The public ``backtest`` call and ``BacktestSession``: frames, metrics, scenarios and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_helpers import ArrayStrategy, make_bars, random_walk_frame, signal_at

import tradescan
from tradescan import instruments
from tradescan.bars import Bars
from tradescan.engine import BacktestSession, backtest
from tradescan.engine.result import TRADE_COLUMNS
from tradescan.errors import ConfigError, TradeScanError, UnknownNameError
from tradescan.metrics import METRIC_NAMES

S1 = "S1_TREND_EMA_ATR_ADX"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_walk_frame(3000, seed=11)


@pytest.fixture(scope="module")
def result(frame: pd.DataFrame) -> tradescan.BacktestResult:
    return tradescan.backtest(frame, S1, {"ema_fast": 10, "adx_th": 15}, symbol="EURUSD")


def test_trades_frame_has_the_documented_columns(result: tradescan.BacktestResult) -> None:
    trades = result.trades
    assert tuple(trades.columns) == TRADE_COLUMNS
    assert len(trades) > 20
    assert set(trades["scenario"]) == {"A", "B", "C"}
    assert set(trades["side"]) <= {1, -1}
    assert set(trades["exit_reason"]) <= {"SL", "TP", "TIME", "EOD"}
    assert str(trades["entry_time"].dt.tz) == "UTC"
    assert (trades["signal_time"] < trades["entry_time"]).all()
    assert (trades["entry_time"] <= trades["exit_time"]).all()
    assert trades["regime"].str.fullmatch(r"VOL=(UNKNOWN|LOW|MID|HIGH)\|SPIKE=[01]").all()
    assert (trades["symbol"] == "EURUSD").all()


def test_equity_frame_is_indexed_by_bar_time(result: tradescan.BacktestResult, frame: pd.DataFrame) -> None:
    equity = result.equity
    assert list(equity.columns) == ["A", "B", "C"]
    assert len(equity) == len(frame)
    assert (equity.index == pd.DatetimeIndex(frame["time"])).all()
    for name in "ABC":
        scenario_pnl = result.trades.loc[result.trades["scenario"] == name, "pnl"].sum()
        assert equity[name].iloc[-1] == pytest.approx(10000.0 + scenario_pnl)


def test_metrics_per_scenario_never_mix(result: tradescan.BacktestResult) -> None:
    assert set(result.metrics) == {"A", "B", "C"}
    for name, values in result.metrics.items():
        assert set(METRIC_NAMES) <= set(values)
        scenario_trades = result.trades[result.trades["scenario"] == name]
        assert values["trades"] == len(scenario_trades)
        assert values["net_pips"] == pytest.approx(scenario_trades["net_pips"].sum())
    assert result.metrics["A"]["net_pips"] > result.metrics["B"]["net_pips"] > result.metrics["C"]["net_pips"]


def test_params_are_returned_with_defaults(result: tradescan.BacktestResult) -> None:
    assert result.params["ema_fast"] == 10 and result.params["ema_slow"] == 50


def test_breakdown_groups_within_scenarios(result: tradescan.BacktestResult) -> None:
    table = result.breakdown("exit_reason")
    assert table.index.names == ["scenario", "exit_reason"]
    assert table.loc["B"]["trades"].sum() == result.metrics["B"]["trades"]


def test_evaluate_matches_run(frame: pd.DataFrame, result: tradescan.BacktestResult) -> None:
    bars = Bars.from_frame(frame, instruments.get("EURUSD"))
    session = BacktestSession(bars)
    params = {"ema_fast": 10, "adx_th": 15}
    evaluated = session.evaluate(S1, params)
    assert evaluated.keys() == {"A", "B", "C"}
    for name in "ABC":
        assert evaluated[name] == pytest.approx(result.metrics[name], nan_ok=True)
    only_b = session.evaluate(S1, params, scenarios=("B",))
    assert only_b == {"B": pytest.approx(result.metrics["B"], nan_ok=True)}
    assert ("ema", 10) in bars._cache  # the indicator cache persists across calls


def test_evaluate_twice_gives_the_same_numbers(frame: pd.DataFrame) -> None:
    session = BacktestSession(Bars.from_frame(frame, instruments.get("EURUSD")), scenarios=("B", "C"))
    first = session.evaluate(S1, None)
    second = session.evaluate(S1, None, scenarios=("C", "B"))
    assert second["B"] == pytest.approx(first["B"], nan_ok=True)
    assert second["C"] == pytest.approx(first["C"], nan_ok=True)


def test_bars_are_accepted_and_must_match_the_symbol(frame: pd.DataFrame) -> None:
    bars = Bars.from_frame(frame, instruments.get("EURUSD"))
    assert len(backtest(bars, S1, symbol="EURUSD", scenarios=("A",)).equity) == len(frame)
    with pytest.raises(TradeScanError, match="does not match"):
        backtest(bars, S1, symbol="GBPUSD")


def test_a_strategy_instance_and_timeframe(frame: pd.DataFrame) -> None:
    strategy = ArrayStrategy(signal_at(len(frame), b100=1, b200=-1), 0.0020, 0.0030)
    res = backtest(frame, strategy, symbol="EURUSD", scenarios=("A",), timeframe="H1", max_hold_bars=None)
    assert len(res.trades) == 2
    assert res.settings["timeframe"] == "H1"
    assert res.strategy == "TEST_ARRAYS"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scenarios": ("A", "X")}, ConfigError,
         r"^scenarios=\('A', 'X'\): unknown cost scenario of broker 'default' 'X'\. Known: A, B, C$"),
        ({"max_hold_bars": 0}, ConfigError, r"^max_hold_bars=0: Input should be greater than 0$"),
        ({"max_hold_bars": True}, ConfigError, r"^max_hold_bars=True: expected an integer, got true$"),
        ({"stops_from": "open"}, ConfigError, r"^stops_from='open': Input should be 'fill' or 'signal_close'$"),
        ({"broker": "nope"}, ConfigError, r"^broker='nope': unknown broker profile 'nope'"),
        ({"capital": {"risk_per_trade": 1.0}}, ConfigError, r"^capital\.risk_per_trade=1\.0: Input should be less"),
        ({"symbol": "EURUSX"}, UnknownNameError, r"unknown symbol 'EURUSX'"),
    ],
)
def test_bad_settings_raise_user_errors(frame: pd.DataFrame, kwargs: dict, error: type, message: str) -> None:
    arguments = {"symbol": "EURUSD", **kwargs}
    with pytest.raises(error, match=message):
        backtest(frame, S1, **arguments)


def test_unknown_strategy_and_parameter_are_named(frame: pd.DataFrame) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown strategy 'S1_TREND'"):
        backtest(frame, "S1_TREND", symbol="EURUSD")
    with pytest.raises(UnknownNameError, match=r"did you mean 'ema_fast'"):
        backtest(frame, S1, {"ema_fats": 5}, symbol="EURUSD")


def test_session_rejects_scenarios_it_did_not_prepare(frame: pd.DataFrame) -> None:
    session = BacktestSession(Bars.from_frame(frame, instruments.get("EURUSD")), scenarios=("B",))
    with pytest.raises(UnknownNameError, match="scenario of this session"):
        session.evaluate(S1, None, scenarios=("C",))


def test_bad_signals_are_reported() -> None:
    bars = make_bars([[1.1, 1.2, 1.0, 1.1]] * 5)
    with pytest.raises(TradeScanError, match=r"Signals.entry must be -1, 0 or \+1"):
        BacktestSession(bars).run(ArrayStrategy([0, 2, 0, 0, 0]))


def test_too_few_bars() -> None:
    with pytest.raises(TradeScanError, match="at least 2 bars"):
        BacktestSession(make_bars([[1.1, 1.2, 1.0, 1.1]]))


def test_no_trades_gives_zero_metrics() -> None:
    bars = make_bars([[1.1, 1.2, 1.0, 1.1]] * 30)
    result = BacktestSession(bars).run(ArrayStrategy(np.zeros(30)))
    assert result.trades.empty and tuple(result.trades.columns) == TRADE_COLUMNS
    assert result.metrics["B"]["trades"] == 0
    assert (result.equity.to_numpy() == 10000.0).all()
