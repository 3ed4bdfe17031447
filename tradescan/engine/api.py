"""``backtest``: the one-call public entry point (DESIGN §11)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tradescan import instruments
from tradescan.bars import Bars
from tradescan.engine.broker import BrokerProfile
from tradescan.engine.capital import CapitalConfig
from tradescan.engine.config import UNSET, BacktestConfig
from tradescan.engine.result import BacktestResult
from tradescan.engine.session import BacktestSession
from tradescan.errors import TradeScanError
from tradescan.regime import RegimeSettings
from tradescan.strategy import Strategy


def as_bars(bars: pd.DataFrame | Bars, symbol: str) -> Bars:
    """Return ``bars`` as ``Bars`` of ``symbol`` (a DataFrame gets the symbol's instrument)."""
    if isinstance(bars, Bars):
        if bars.symbol != symbol:
            raise TradeScanError(f"symbol={symbol!r} does not match the Bars' instrument {bars.symbol!r}")
        return bars
    if not isinstance(bars, pd.DataFrame):
        kind = type(bars).__name__
        raise TradeScanError(f"bars must be a DataFrame (as tradescan.data.load returns) or Bars, got {kind}")
    frame = bars if "time" in bars.columns else bars.reset_index()
    try:
        return Bars.from_frame(frame, instruments.get(symbol))
    except ValueError as exc:
        raise TradeScanError(f"{symbol}: bars frame: {exc}") from None


def backtest(
    bars: pd.DataFrame | Bars,
    strategy: str | Strategy,
    params: Mapping[str, Any] | BaseModel | None = None,
    *,
    symbol: str,
    scenarios: Sequence[str] | Any = UNSET,
    broker: str | Mapping[str, Any] | BrokerProfile | Any = UNSET,
    capital: CapitalConfig | Mapping[str, Any] | Any | None = UNSET,
    max_hold_bars: int | Any | None = UNSET,
    stops_from: str | Any = UNSET,
    timeframe: str | None = None,
    regime: RegimeSettings | Mapping[str, Any] | Any | None = UNSET,
    intrabar: str | Any = UNSET,
    conversion: np.ndarray | None = None,
    config: BacktestConfig | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on one symbol's bars under one or more cost scenarios.

    The settings are those of ``config`` (``None`` = ``BacktestConfig``'s defaults: broker
    ``"default"``, scenarios A, B, C, 10000 USD at 0.2 % risk compounding, a 96-bar time stop, stops
    from the fill), each overridden by the keyword of the same name when given.

    Args:
        bars: a DataFrame with ``time`` (UTC) and OHLC columns, as ``tradescan.data.load`` returns,
            or ``Bars``.
        strategy: a registered strategy name or a ``Strategy`` instance.
        params: strategy parameters (mapping, model or ``None`` for the defaults).
        symbol: the symbol of the bars (instrument facts come from ``configs/instruments.yaml``).
        scenarios: cost scenarios to run, e.g. ``("B",)``.
        broker: broker profile name, path, mapping or ``BrokerProfile``.
        capital: capital settings (``CapitalConfig`` or a mapping of its fields).
        max_hold_bars: time stop in bars after the signal bar; ``None`` = none.
        stops_from: ``"fill"`` or ``"signal_close"`` (DESIGN §4).
        timeframe: the bars' timeframe, recorded in ``result.settings`` only.
        regime: regime settings for the trades' ``regime`` label.
        intrabar: ``"stop_first"`` or ``"tradingview"`` (DESIGN §4, intrabar order).
        conversion: optional per-bar value of one unit of quote currency in account currency.
        config: a ``BacktestConfig`` to start from (e.g. a sweep's, or one read from a params file).

    Returns:
        ``BacktestResult`` with ``trades``, ``equity``, ``metrics`` and ``params``.

    Raises:
        TradeScanError: bad bars, an unknown strategy or parameter, or a bad setting (every bad
            setting named at once).
    """
    resolved = BacktestConfig.resolve(
        config,
        scenarios=scenarios,
        broker=broker,
        capital=capital,
        max_hold_bars=max_hold_bars,
        stops_from=stops_from,
        regime=regime,
        intrabar=intrabar,
    )
    session = BacktestSession(as_bars(bars, symbol), resolved, conversion=conversion)
    result = session.run(strategy, params)
    if timeframe is not None:
        result.settings["timeframe"] = timeframe
    return result
