"""Trade_Scan: a read-only research grid for trading strategies.

The public API (DESIGN §11) is re-exported here; heavy modules load on first use so that
``import tradescan`` and the CLI stay quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from tradescan.bars import Bars
from tradescan.errors import TradeScanError
from tradescan.strategy import Signals, Strategy

__version__ = "0.1.0"

_LAZY_ATTRIBUTES = {
    "backtest": ("tradescan.engine", "backtest"),
    "BacktestResult": ("tradescan.engine", "BacktestResult"),
    "check_lookahead": ("tradescan.lookahead", "check_lookahead"),
    "get_strategy": ("tradescan.registry", "get_strategy"),
    "load_run": ("tradescan.results", "load_run"),
}
_LAZY_MODULES = {
    "data", "guards", "indicators", "instruments", "engine", "metrics", "regime", "sweep", "registry", "results",
}

__all__ = [
    "BacktestResult",
    "Bars",
    "Signals",
    "Strategy",
    "TradeScanError",
    "backtest",
    "check_lookahead",
    "data",
    "get_strategy",
    "guards",
    "indicators",
    "instruments",
    "load_run",
    "results",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRIBUTES:
        module_name, attribute = _LAZY_ATTRIBUTES[name]
        return getattr(importlib.import_module(module_name), attribute)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"tradescan.{name}")
    raise AttributeError(f"module 'tradescan' has no attribute {name!r}")
