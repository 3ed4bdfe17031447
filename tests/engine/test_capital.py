"""Capital settings and the value of a price unit in account currency."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan import instruments
from tradescan.engine.capital import CapitalConfig, parse_capital, price_value
from tradescan.errors import ConfigError, TradeScanError


def test_none_means_the_defaults() -> None:
    capital = parse_capital(None)
    assert capital == CapitalConfig(initial=10000.0, currency="USD", risk_per_trade=0.002, compounding=True)


def test_mapping_is_parsed_and_frozen() -> None:
    capital = parse_capital({"initial": 5000, "currency": "eur", "compounding": False})
    assert (capital.initial, capital.currency, capital.compounding) == (5000.0, "EUR", False)
    with pytest.raises(Exception, match="frozen"):
        capital.initial = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"risk_per_trade": 0.2}, r"capital.risk_per_trade=0.2: .*less than or equal to 0.1"),
        ({"risk_per_trade": 0}, r"capital.risk_per_trade=0: .*greater than 0"),
        ({"initial": -5}, r"capital.initial=-5"),
        ({"leverage": 30}, r"capital.leverage=30: Extra inputs"),
        ({"currency": "U$"}, r"capital.currency"),
    ],
)
def test_bad_capital_fields_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_capital(raw)


def test_quote_currency_is_the_account_currency() -> None:
    value = price_value(instruments.get("EURUSD"), "USD", 3)
    assert value.quote_value.tolist() == [1.0, 1.0, 1.0] and not value.value_per_price


def test_base_currency_is_the_account_currency() -> None:
    value = price_value(instruments.get("USDJPY"), "USD", 2)
    assert value.quote_value.tolist() == [1.0, 1.0] and value.value_per_price


def test_cross_uses_the_fixed_quote_rate() -> None:
    value = price_value(instruments.get("EURGBP"), "USD", 2)
    assert value.quote_value.tolist() == [1.27, 1.27] and not value.value_per_price


def test_conversion_series_wins_over_the_fixed_rate() -> None:
    value = price_value(instruments.get("EURGBP"), "USD", 2, conversion=np.array([1.2, 1.3]))
    assert value.quote_value.tolist() == [1.2, 1.3]


def test_conversion_series_is_checked() -> None:
    with pytest.raises(TradeScanError, match=r"EURGBP: the conversion series must have one value per bar \(3\)"):
        price_value(instruments.get("EURGBP"), "USD", 3, conversion=np.array([1.2, 1.3]))
    with pytest.raises(TradeScanError, match=r"finite and > 0, got -1.0 at bar 1"):
        price_value(instruments.get("EURGBP"), "USD", 2, conversion=np.array([1.2, -1.0]))


def test_no_conversion_is_an_error_naming_symbol_currencies_and_fix() -> None:
    with pytest.raises(TradeScanError) as info:
        price_value(instruments.get("AUDNZD"), "GBP", 2)
    message = str(info.value)
    for fragment in ("AUDNZD", "GBP", "base (AUD)", "quote (NZD)", "quote_rate: {GBP:", "conversion series"):
        assert fragment in message
