"""The bundled crypto profile: fees on notional, bps costs, and cost scenarios that bite on BTC.

Issue 9: under the pip-based default profile a BTCUSDT strategy's Sharpe barely moves from A to C
(a BTC pip is 0.01 USDT); with ``crypto_spot`` the fees and bps slippage make C clearly harsher.
"""

from __future__ import annotations

import pytest

import tradescan
from tradescan import instruments
from tradescan.data import synthesize
from tradescan.engine.broker import load_broker

CRYPTO = [symbol for symbol, instrument in instruments.all_instruments().items() if instrument.asset_class == "crypto"]


def test_crypto_profile_prices_every_bundled_crypto_pair_in_bps() -> None:
    profile = load_broker("crypto_spot")
    assert (profile.commission_pct, profile.maker_pct) == (0.001, 0.0008)
    for symbol in CRYPTO:
        spread = profile.symbol_spread(symbol)
        assert spread.pips == 0.0 and spread.bps > 0, symbol
    assert profile.slippage.base_bps > 0 and profile.slippage.base_pips == 0.0


@pytest.fixture(scope="module")
def btc_sharpes() -> dict[str, dict[str, float]]:
    bars = synthesize("BTCUSDT", "H1", 20_000, seed=1)
    sharpes = {}
    for broker in ("crypto_spot", "default"):
        result = tradescan.backtest(bars, "S1_TREND_EMA_ATR_ADX", symbol="BTCUSDT", broker=broker)
        sharpes[broker] = {name: result.metrics[name]["sharpe"] for name in ("A", "B", "C")}
        sharpes[broker]["cost_bps_C"] = float(result.trades.loc[result.trades["scenario"] == "C", "cost_bps"].mean())
    return sharpes


def test_scenario_c_bites_with_the_crypto_profile(btc_sharpes: dict[str, dict[str, float]]) -> None:
    crypto = btc_sharpes["crypto_spot"]
    assert crypto["A"] > crypto["B"] > crypto["C"]
    assert crypto["A"] - crypto["C"] > 0.5  # measured: -1.748 / -1.899 / -2.791
    assert 30.0 < crypto["cost_bps_C"] < 45.0  # 18-20 bps of fees a round trip, the rest spread and slippage


def test_the_pip_profile_barely_moves_btc(btc_sharpes: dict[str, dict[str, float]]) -> None:
    default = btc_sharpes["default"]
    assert default["A"] - default["C"] < btc_sharpes["crypto_spot"]["A"] - btc_sharpes["crypto_spot"]["C"]
    assert default["cost_bps_C"] < 10.0
