from __future__ import annotations

import pytest

from tradescan import instruments
from tradescan.errors import ConfigError, TradeScanError, UnknownNameError

REQUIRED_SYMBOLS = [
    "EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "NZDUSD", "USDCAD", "USDCHF", "EURJPY",
    "GBPJPY", "EURGBP", "AUDNZD", "EURCHF", "XAUUSD", "US500", "GER40", "BTCUSDT",
    "ETHUSDT", "BNBUSDT", "SOLUSDT", "ADAUSDT", "DOGEUSDT", "XRPUSDT",
]


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADESCAN_INSTRUMENTS", raising=False)


@pytest.mark.parametrize("symbol", REQUIRED_SYMBOLS)
def test_bundled_symbols_are_known(symbol: str) -> None:
    assert instruments.get(symbol).symbol == symbol


def test_fields_of_eurusd_usdjpy_and_btc() -> None:
    eurusd = instruments.get("EURUSD")
    assert (eurusd.pip_size, eurusd.price_precision, eurusd.contract_size) == (0.0001, 5, 100000)
    assert (eurusd.base, eurusd.quote, eurusd.asset_class, eurusd.days_per_year) == ("EUR", "USD", "fx", 252)
    assert instruments.get("USDJPY").pip_size == 0.01
    btc = instruments.get("BTCUSDT")
    assert (btc.asset_class, btc.days_per_year) == ("crypto", 365)


def test_unknown_symbol_lists_closest_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown symbol 'EURUSDX'; did you mean 'EURUSD'"):
        instruments.get("EURUSDX")


@pytest.mark.parametrize("symbol", ["../etc", "a/b", ".hidden", "a\\b", "", "x" * 65, "EUR USD", ".."])
def test_path_like_symbols_are_refused(symbol: str) -> None:
    with pytest.raises(TradeScanError, match="invalid symbol"):
        instruments.validate_symbol(symbol)


def test_user_file_is_merged_over_bundled(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file = tmp_path / "mine.yaml"
    user_file.write_text(
        "EURUSD: {contract_size: 1000}\n"
        "MYCOIN: {pip_size: 0.001, price_precision: 3, contract_size: 1, base: MYC, quote: USDT,"
        " asset_class: crypto, days_per_year: 365}\n"
    )
    monkeypatch.setenv("TRADESCAN_INSTRUMENTS", str(user_file))
    assert instruments.get("EURUSD").contract_size == 1000
    assert instruments.get("EURUSD").pip_size == 0.0001
    assert instruments.get("MYCOIN").quote == "USDT"


def test_bad_user_file_names_file_symbol_and_field(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file = tmp_path / "bad.yaml"
    user_file.write_text("EURUSD: {pip_size: -1}\n")
    monkeypatch.setenv("TRADESCAN_INSTRUMENTS", str(user_file))
    with pytest.raises(ConfigError, match=r"bad.yaml: EURUSD.pip_size=-1: Input should be greater than 0"):
        instruments.get("EURUSD")
