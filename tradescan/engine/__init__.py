"""The backtest engine: compiled bar loop, cost scenarios, capital model and their pandas façade.

``backtest`` is the one-call API; ``BacktestSession`` keeps one symbol's precomputed arrays for many
parameter sets (the sweep's evaluator holds one per symbol); ``BacktestConfig`` holds every setting of a
backtest but the strategy and its parameters. DESIGN §4 defines the semantics.
"""

from __future__ import annotations

from tradescan.engine.api import backtest
from tradescan.engine.broker import (
    DEFAULT_SCENARIOS,
    BrokerProfile,
    ScenarioCosts,
    SlippageModel,
    available_brokers,
    load_broker,
)
from tradescan.engine.capital import CapitalConfig, parse_capital, price_value
from tradescan.engine.config import BacktestConfig, ExecutionSettings
from tradescan.engine.costs import cost_pips_per_bar
from tradescan.engine.records import EXIT_REASON_NAMES, TRADE_DTYPE
from tradescan.engine.result import BacktestResult
from tradescan.engine.session import BacktestSession

__all__ = [
    "DEFAULT_SCENARIOS",
    "EXIT_REASON_NAMES",
    "TRADE_DTYPE",
    "BacktestConfig",
    "BacktestResult",
    "BacktestSession",
    "BrokerProfile",
    "CapitalConfig",
    "ExecutionSettings",
    "ScenarioCosts",
    "SlippageModel",
    "available_brokers",
    "backtest",
    "cost_pips_per_bar",
    "load_broker",
    "parse_capital",
    "price_value",
]
