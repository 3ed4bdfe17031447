"""Capital model: account currency, risk per trade, compounding, and the price-unit value.

Position size = risk amount / (risk distance in price × value of one price unit per unit of base,
in account currency). The value depends on how the symbol's currencies relate to the account's:

- quote currency == account currency: 1 (EURUSD in a USD account);
- base currency == account currency: 1 / price (USDJPY in a USD account; the entry fill sizes the
  trade, the exit fill converts its PnL, the bar's close marks it);
- otherwise: the value of one unit of the quote currency in account currency — a per-bar conversion
  series when one is given, else the instrument's fixed ``quote_rate[account_currency]``, else an
  error saying how to fix it.

The kernel receives this as ``quote_value[n_bars]`` plus a flag ``value_per_price`` (divide by the
price), so all three cases run through the same arithmetic. With a conversion series, a trade is
sized at the rate of its signal bar (the last rate known when the order is sent), its PnL converted
at the rate of its exit bar, and an open position marked at each bar's rate.

Sizing uses the strategy's stop distance at the signal bar in both ``stops_from`` modes (the risk
the strategy asked for); without a stop it uses ATR14 at the signal bar, and the R multiple is
measured against the same risk amount. Where neither exists (ATR14 still warming up) the trade is
taken with size 0: its pips count, its PnL is 0 and its R multiple NaN. An account whose equity has
fallen to zero or below risks nothing more (size 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field, ValidationError, field_validator

from tradescan.errors import ConfigError, TradeScanError, describe_validation_error
from tradescan.frozen import FrozenModel
from tradescan.instruments import Instrument


class CapitalConfig(FrozenModel):
    """Account settings; ``risk_per_trade`` is a fraction of equity (or of ``initial`` when fixed)."""

    initial: float = Field(default=10000.0, gt=0)
    currency: str = "USD"
    risk_per_trade: float = Field(default=0.002, gt=0, le=0.1)
    compounding: bool = True

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not isinstance(value, str) or not value.isalnum() or not 2 <= len(value) <= 10:
            raise ValueError(f"currency must be a code such as 'USD', got {value!r}")
        return value.upper()


def parse_capital(capital: CapitalConfig | Mapping[str, Any] | None) -> CapitalConfig:
    """Return ``capital`` as a ``CapitalConfig`` (``None`` = the defaults), or raise naming the field."""
    if capital is None:
        return CapitalConfig()
    if isinstance(capital, CapitalConfig):
        return capital
    if not isinstance(capital, Mapping):
        raise ConfigError(f"capital must be a mapping such as {{initial: 10000}}, got {capital!r}")
    try:
        return CapitalConfig(**dict(capital))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, prefix="capital.")) from None


@dataclass(frozen=True)
class PriceValue:
    """Value of one price unit per unit of base, in account currency, as the kernel reads it.

    Attributes:
        quote_value: per bar, the account-currency value of one unit of the quote currency.
        value_per_price: True when the value is additionally divided by the price (base == account).
    """

    quote_value: np.ndarray
    value_per_price: bool


def _conversion_array(conversion: np.ndarray | Any, n_bars: int, symbol: str) -> np.ndarray:
    values = np.ascontiguousarray(np.asarray(conversion, dtype=np.float64))
    if values.shape != (n_bars,):
        raise TradeScanError(
            f"{symbol}: the conversion series must have one value per bar ({n_bars}), got shape {values.shape}"
        )
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise TradeScanError(
            f"{symbol}: the conversion series must be finite and > 0, got {float(values[first])!r} at bar {first}"
        )
    return values


def price_value(
    instrument: Instrument,
    account_currency: str,
    n_bars: int,
    conversion: np.ndarray | None = None,
) -> PriceValue:
    """Return how one price unit of ``instrument`` converts into ``account_currency`` per bar.

    Args:
        instrument: the traded symbol.
        account_currency: the currency the account (and PnL) is kept in.
        n_bars: number of bars.
        conversion: optional per-bar value of one unit of the quote currency in account currency;
            used when neither currency is the account currency (it wins over ``quote_rate``).

    Raises:
        TradeScanError: no way to convert (names the symbol, the currencies and the fix).
    """
    if instrument.quote == account_currency:
        return PriceValue(np.ones(n_bars), value_per_price=False)
    if instrument.base == account_currency:
        return PriceValue(np.ones(n_bars), value_per_price=True)
    if conversion is not None:
        return PriceValue(_conversion_array(conversion, n_bars, instrument.symbol), value_per_price=False)
    if account_currency in instrument.quote_rate:
        rate = float(instrument.quote_rate[account_currency])
        return PriceValue(np.full(n_bars, rate), value_per_price=False)
    raise TradeScanError(
        f"{instrument.symbol}: cannot value its PnL in {account_currency}: neither base "
        f"({instrument.base}) nor quote ({instrument.quote}) is the account currency, no conversion "
        f"series was given and instruments.yaml has no quote_rate for {account_currency}; add "
        f"'quote_rate: {{{account_currency}: <value of 1 {instrument.quote} in {account_currency}>}}' "
        f"to {instrument.symbol}, pass a conversion series, or use an account currency of "
        f"{instrument.quote}"
    )
