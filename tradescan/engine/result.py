"""``BacktestResult``: the pandas view of one backtest (trades, equity, metrics, params).

The kernel's ``TRADE_DTYPE`` records and equity matrix stay available (``records``,
``equity_values``) for code that wants NumPy; the frames use the labels users read (scenario names,
``SL``/``TP``/``TIME``/``EOD``/``SIGNAL``, regime labels, UTC times) and are built on first access. One
row is one leg of a position (DESIGN §4, multi-target plans); a position without a plan is one row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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


_UTC = pd.DatetimeTZDtype(unit="ns", tz="UTC")


def _utc_index(times: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"), dtype=_UTC)


def _utc_times(times: np.ndarray, index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    # Only the trades' bars become timestamps (a DatetimeIndex of every bar costs more than the frame).
    return pd.array(np.asarray(times, dtype="datetime64[ns]")[index], dtype=_UTC)


def _strings(names: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    # Arrow's take builds the str column directly; from Python objects pandas would scan each string.
    return pd.array(pa.array(list(names), type=pa.string()).take(pa.array(codes)), dtype="str")


def trades_frame(
    records: np.ndarray, scenarios: Sequence[str], bars: Bars, regime_labels: np.ndarray
) -> pd.DataFrame:
    """Return one row per leg with DESIGN §11's columns (plus symbol, levels, legs and costs in money)."""
    labels = np.asarray(regime_labels, dtype=object)[records["signal_idx"]]
    columns: dict[str, Any] = {
        "scenario": _strings(scenarios, records["scenario"].astype(np.int64)),
        "symbol": _strings([bars.symbol], np.zeros(len(records), dtype=np.int64)),
        "position_id": records["position_id"].astype(np.int64),
        "leg": records["leg"].astype(np.int64),
        "side": records["side"].astype(np.int64),
        "signal_time": _utc_times(bars.time, records["signal_idx"]),
        "entry_time": _utc_times(bars.time, records["entry_idx"]),
        "exit_time": _utc_times(bars.time, records["exit_idx"]),
        "exit_reason": _strings(EXIT_REASON_NAMES, records["exit_reason"].astype(np.int64)),
        "bars_held": records["bars_held"].astype(np.int64),
        "regime": pd.array(pa.array(labels, type=pa.string()), dtype="str"),
    }
    for name in (*_COPIED_FIELDS, *_NUMERIC_FIELDS):
        columns[name] = records[name].astype(np.float64)
    return pd.DataFrame({name: columns[name] for name in TRADE_COLUMNS}, copy=False)


def equity_frame(equity: np.ndarray, scenarios: Sequence[str], bars: Bars) -> pd.DataFrame:
    """Return the equity curve: indexed by bar time (UTC), one column per scenario."""
    frame = pd.DataFrame(
        {name: equity[row] for row, name in enumerate(scenarios)}, index=_utc_index(bars.time)
    )
    frame.index.name = "time"
    return frame


RegimeLabels = np.ndarray | Callable[[], np.ndarray]


@dataclass(frozen=True)
class BacktestResult:
    """The outcome of one backtest over one symbol, for one or more cost scenarios.

    ``trades`` and ``equity`` are pandas views of ``records`` and ``equity_values``, built on first
    access and then kept: a caller who only reads ``metrics`` (a sweep, a quick screen) never pays
    for the frames, and the numbers are the same either way.

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
        equity_values: float64[n_scenarios, n_bars], the equity matrix behind ``equity``.
    """

    metrics: dict[str, dict[str, float]]
    params: dict[str, Any]
    strategy: str
    symbol: str
    scenarios: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    records: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    equity_values: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    bars: Bars | None = field(default=None, repr=False, compare=False)
    regime_labels: RegimeLabels | None = field(default=None, repr=False, compare=False)

    @cached_property
    def trades(self) -> pd.DataFrame:
        """Return one row per trade (built on first access)."""
        if self.bars is None:
            raise ValueError("this BacktestResult holds no bars to label its trades with")
        labels = self.regime_labels() if callable(self.regime_labels) else self.regime_labels
        if labels is None:
            labels = np.full(len(self.bars), None, dtype=object)
        return trades_frame(self.records, self.scenarios, self.bars, labels)

    @cached_property
    def equity(self) -> pd.DataFrame:
        """Return the equity curve per scenario, indexed by bar time (built on first access)."""
        if self.bars is None:
            raise ValueError("this BacktestResult holds no bars to index its equity with")
        return equity_frame(self.equity_values, self.scenarios, self.bars)

    @classmethod
    def build(
        cls,
        *,
        records: np.ndarray,
        equity: np.ndarray,
        scenarios: Sequence[str],
        bars: Bars,
        regime_labels: RegimeLabels,
        metrics: dict[str, dict[str, float]],
        params: dict[str, Any],
        strategy_name: str,
        settings: dict[str, Any],
    ) -> BacktestResult:
        """Assemble a result from the kernel's output (``regime_labels``: per bar, or a function giving them)."""
        return cls(
            metrics=metrics,
            params=params,
            strategy=strategy_name,
            symbol=bars.symbol,
            scenarios=tuple(scenarios),
            settings=settings,
            records=records,
            equity_values=equity,
            bars=bars,
            regime_labels=regime_labels,
        )

    def breakdown(self, by: str) -> pd.DataFrame:
        """Return trade metrics per ``by`` (scenario, symbol, regime, side, exit_reason), per scenario."""
        return breakdown(self.trades, by)

    def stats(self) -> pd.DataFrame:
        """Return the metrics as a frame: one row per scenario, one column per metric (notebooks)."""
        from tradescan.report.notebook import backtest_stats

        return backtest_stats(self)

    def plot(self, bars: pd.DataFrame | None = None) -> Any:
        """Return an interactive plotly figure: price with the trades, equity and drawdown per scenario.

        Args:
            bars: the backtested bars (``time`` and ``close``) to draw the price line; without them the
                price panel shows the trades' entries and exits only.
        """
        from tradescan.report.notebook import backtest_figure

        return backtest_figure(self, bars)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}: {int(self.metrics[name]['trades'])}" for name in self.scenarios)
        return f"<BacktestResult {self.strategy} {self.symbol} trades {{{counts}}}>"
