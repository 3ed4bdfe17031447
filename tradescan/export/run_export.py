"""Export one finalist of a stored run as a Pine script: the run's strategy, parameters and settings.

Everything comes from the run (``tradescan.load_run``): the strategy and its folders, the finalist's
parameters from stage 2, and the backtest settings of the resolved directive (broker, capital,
``max_hold_bars``, ``stops_from``); the costs are those of the stage-1 scenario unless another one is
named, so the script backtests what the sweep optimised.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from tradescan.errors import TradeScanError
from tradescan.export.pine import render_pine, settings_for
from tradescan.registry import get_strategy


def export_run_pine(
    run_id: str,
    symbol: str,
    rank: int,
    *,
    results_dir: str | os.PathLike[str] | None = None,
    scenario: str | None = None,
) -> str:
    """Return the Pine v6 script of finalist ``rank`` of ``symbol`` in run ``run_id``.

    Args:
        run_id: the run (see ``tradescan runs``).
        symbol: a symbol of the run.
        rank: the finalist's stage-2 rank (1 = best).
        results_dir: the results folder (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``).
        scenario: the cost scenario to reproduce (default: the run's stage-1 scenario).

    Raises:
        TradeScanError: no such run, symbol or rank, or a strategy without a Pine template.
    """
    results = _results_package()
    run = results.load_run(run_id, results_dir=results_dir)
    finalist = results.top_finalists(run, symbol=symbol, rank=rank)[0]
    directive: Mapping[str, Any] = run.manifest.directive
    settings = importlib.import_module("tradescan.results.reproduce").backtest_settings(run.manifest)
    strategy = get_strategy(str(directive["strategy"]), tuple(run.manifest.strategy_dirs))
    chosen = scenario or str(directive.get("stage1", {}).get("scenario", "B"))
    price, price_note = _typical_price(run, symbol, rank)
    pine_settings = settings_for(
        symbol,
        stops_from=settings.get("stops_from", "fill"),
        max_hold_bars=settings.get("max_hold_bars", 96),
        capital=settings.get("capital"),
        broker=settings.get("broker", "default"),
        scenario=chosen,
        price=price,
        title=f"{strategy.name} {symbol} #{rank}",
    )
    header = (
        f"run {run_id}, {symbol} finalist rank {rank} (trial {finalist.trial}), "
        f"timeframe {directive.get('timeframe')}, costs of scenario {chosen} of broker {_broker_name(settings)}",
        *((price_note,) if price_note else ()),
    )
    return render_pine(strategy, dict(finalist.params), pine_settings, header_lines=header)


def _results_package() -> Any:
    try:
        return importlib.import_module("tradescan.results")
    except ModuleNotFoundError as exc:
        if exc.name != "tradescan.results":
            raise
        raise TradeScanError(
            "export pine reads stored runs with tradescan.load_run (tradescan.results), which this "
            "installation lacks"
        ) from None


def _typical_price(run: Any, symbol: str, rank: int) -> tuple[float, str | None]:
    """Return the finalist's last entry price (to turn basis-point costs into ticks), else 1.0, and a
    header note when it comes from another finalist (the run did not store this one's trades)."""
    stored_trades = importlib.import_module("tradescan.results.stored_trades")
    trades = run.table(importlib.import_module("tradescan.results.tables").TRADES)
    if trades.empty or "entry_price" not in trades:
        return 1.0, None
    symbol_trades = trades[trades["symbol"] == symbol]
    mine = symbol_trades[symbol_trades["rank"] == rank]["entry_price"].to_numpy(np.float64)
    if len(mine) or stored_trades.trades_stored(run.manifest, symbol, rank):
        return (float(mine[-1]) if len(mine) else 1.0), None
    others = symbol_trades.sort_values(["rank"], kind="stable")
    if others.empty:
        return 1.0, f"typical price 1.0: {stored_trades.not_stored_text(run.manifest, symbol, rank)}"
    other = int(others["rank"].iloc[0])
    price = float(others[others["rank"] == other]["entry_price"].to_numpy(np.float64)[-1])
    return price, (f"typical price (basis points to ticks) from finalist #{other}'s last entry: "
                   f"the run did not store the trades of #{rank}")


def _broker_name(settings: Mapping[str, Any]) -> str:
    broker = settings.get("broker", "default")
    return str(broker.get("name", "custom")) if isinstance(broker, Mapping) else str(broker)
