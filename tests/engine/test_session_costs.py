"""BacktestSession's cost arrays: made on first use, from the strategy's ATR(14), equal to costs.py."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan import indicators, instruments
from tradescan.bars import Bars
from tradescan.data import synthesize
from tradescan.engine import BacktestSession
from tradescan.engine.broker import resolve_scenarios
from tradescan.engine.costs import cost_fraction_per_bar, cost_pips_per_bar, tr_atr_ratio_from_prices
from tradescan.errors import TradeScanError

BPS_BROKER = {"name": "bps", "spread_bps": {"*": 2.0}, "slippage": {"base_bps": 0.5, "atr_k_bps": 0.0}}


def _bars() -> Bars:
    return Bars.from_frame(synthesize("EURUSD", "M15", 600, seed=9), instruments.get("EURUSD"))


def _expected(session: BacktestSession) -> tuple[np.ndarray, np.ndarray]:
    bars = session.bars
    atr14 = indicators.atr(bars.high, bars.low, bars.close, 14)
    ratio = tr_atr_ratio_from_prices(bars.high, bars.low, bars.close, atr14)
    spread, slippage = session.broker.symbol_spread("EURUSD"), session.broker.slippage_for("EURUSD")
    scenarios = resolve_scenarios(session.broker, session.scenarios)
    return (cost_pips_per_bar(np.empty(0), atr14, spread.pips, slippage, scenarios, ratio=ratio),
            cost_fraction_per_bar(np.empty(0), atr14, spread.bps, slippage, scenarios, ratio=ratio))


def test_strategy_runs_first_and_the_session_shares_its_atr14() -> None:
    bars = _bars()
    session = BacktestSession(bars, scenarios=("A", "B"))
    assert not bars.is_cached(("atr", 14))  # the constructor computes no per-bar array
    session.evaluate("S1_TREND_EMA_ATR_ADX", None)
    assert session.atr14 is bars.cached(("atr", 14), lambda: np.empty(0))
    pips, fraction = _expected(session)
    assert np.array_equal(session.cost_pips, pips) and np.array_equal(session.cost_fraction, fraction)
    assert not session.cost_pips.flags.writeable


def test_pip_broker_runs_without_a_fraction_array_bps_broker_with_it() -> None:
    pip_session = BacktestSession(_bars(), scenarios=("A", "B", "C"))
    assert pip_session._rows(("B",))[2] is None and pip_session._fraction is None
    bps_session = BacktestSession(_bars(), broker=BPS_BROKER, scenarios=("A", "C"))
    fraction = bps_session._rows(("C",))[2]
    assert fraction is not None
    assert np.array_equal(fraction, _expected(bps_session)[1][[1]])


def test_bad_scenario_fails_before_the_strategy_runs() -> None:
    bars = _bars()
    session = BacktestSession(bars, scenarios=("B",))
    with pytest.raises(TradeScanError, match="scenario"):
        session.evaluate("S1_TREND_EMA_ATR_ADX", None, scenarios=("A",))
    assert not bars.is_cached(("adx", 14))
