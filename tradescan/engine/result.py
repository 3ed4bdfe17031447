"""``BacktestResult``: the pandas view of one backtest (trades, equity, metrics, params).

The kernel's ``TRADE_DTYPE`` records and equity matrix stay available (``records``,
``equity_values``) for code that wants NumPy; the frames use the labels users read (scenario names,
``SL``/``TP``/``TIME``/``EOD``/``SIGNAL``, regime labels, UTC times). One row is one leg of a position
(DESIGN §4, multi-target plans); a position without a plan is one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradescan.bars import Bars
from tradescan.engine.records import EXIT_REASON_NAMES
from tradescan.metrics import breakdown

TRADE_COLUMNS = (
    "scenario",
    "symbol",
    "position_id",
    "leg",
    "side",
    "signal_time",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "entry_fill",
    "exit_fill",
    "stop_price",
    "target_price",
    "exit_reason",
    "size",
    "fraction",
    "gross_pips",
    "cost_pips",
    "net_pips",
    "cost",
    "commission",
    "cost_bps",
    "pnl",
    "r_multiple",
    "bars_held",
    "regime",
)
_COPIED_FIELDS = (
    "entry_price",
    "exit_price",
    "entry_fill",
    "exit_fill",
    "stop_price",
    "target_price",
)
_NUMERIC_FIELDS = (
    "size", "fraction", "gross_pips", "cost_pips", "net_pips", "cost", "commission", "cost_bps", "pnl", "r_multiple",
)


def _utc_index(times: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]")).tz_localize("UTC")


def trades_frame(
    records: np.ndarray, scenarios: Sequence[str], bars: Bars, regime_labels: np.ndarray
) -> pd.DataFrame:
    """Return one row per leg with DESIGN §11's columns (plus symbol, levels, legs and costs in money)."""
    times = _utc_index(bars.time)
    scenario_names = np.asarray(scenarios, dtype=object)
    reason_names = np.asarray(EXIT_REASON_NAMES, dtype=object)
    columns: dict[str, Any] = {
        "scenario": scenario_names[records["scenario"].astype(np.int64)],
        "symbol": np.full(len(records), bars.symbol, dtype=object),
        "position_id": records["position_id"].astype(np.int64),
        "leg": records["leg"].astype(np.int64),
        "side": records["side"].astype(np.int64),
        "signal_time": times[records["signal_idx"]],
        "entry_time": times[records["entry_idx"]],
        "exit_time": times[records["exit_idx"]],
        "exit_reason": reason_names[records["exit_reason"].astype(np.int64)],
        "bars_held": records["bars_held"].astype(np.int64),
        "regime": np.asarray(regime_labels, dtype=object)[records["signal_idx"]],
    }
    for name in (*_COPIED_FIELDS, *_NUMERIC_FIELDS):
        columns[name] = records[name].astype(np.float64)
    return pd.DataFrame({name: columns[name] for name in TRADE_COLUMNS})


def equity_frame(equity: np.ndarray, scenarios: Sequence[str], bars: Bars) -> pd.DataFrame:
    """Return the equity curve: indexed by bar time (UTC), one column per scenario."""
    frame = pd.DataFrame(
        {name: equity[row] for row, name in enumerate(scenarios)}, index=_utc_index(bars.time)
    )
    frame.index.name = "time"
    return frame


@dataclass(frozen=True)
class BacktestResult:
    """The outcome of one backtest over one symbol, for one or more cost scenarios.

    Attributes:
        trades: one row per leg of each position (see ``TRADE_COLUMNS``); a position's legs share
            ``position_id`` (numbered per scenario); scenarios never mixed within a row.
        equity: equity in account currency marked at each bar's close, one column per scenario.
        metrics: ``{scenario: {metric: value}}`` from ``tradescan.metrics.compute_metrics``.
        params: the strategy parameters used, defaults filled in.
        strategy: the strategy's registered name.
        symbol: the traded symbol.
        scenarios: the scenario names, in the order of ``equity``'s columns.
        settings: broker, capital and execution settings used.
        records: the kernel's ``TRADE_DTYPE`` records (``scenario`` = index into ``scenarios``).
    """

    trades: pd.DataFrame
    equity: pd.DataFrame
    metrics: dict[str, dict[str, float]]
    params: dict[str, Any]
    strategy: str
    symbol: str
    scenarios: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    records: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @classmethod
    def build(
        cls,
        *,
        records: np.ndarray,
        equity: np.ndarray,
        scenarios: Sequence[str],
        bars: Bars,
        regime_labels: np.ndarray,
        metrics: dict[str, dict[str, float]],
        params: dict[str, Any],
        strategy_name: str,
        settings: dict[str, Any],
    ) -> BacktestResult:
        """Assemble the frames from the kernel's output."""
        return cls(
            trades=trades_frame(records, scenarios, bars, regime_labels),
            equity=equity_frame(equity, scenarios, bars),
            metrics=metrics,
            params=params,
            strategy=strategy_name,
            symbol=bars.symbol,
            scenarios=tuple(scenarios),
            settings=settings,
            records=records,
        )

    def breakdown(self, by: str) -> pd.DataFrame:
        """Return trade metrics per ``by`` (scenario, symbol, regime, side, exit_reason), per scenario."""
        return breakdown(self.trades, by)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}: {int(self.metrics[name]['trades'])}" for name in self.scenarios)
        return f"<BacktestResult {self.strategy} {self.symbol} trades {{{counts}}}>"
