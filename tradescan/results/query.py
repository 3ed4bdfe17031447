"""The "top finalists" query: a run's stage-2 finalists per symbol, best stage-1 value first.

``top_finalists(run)`` turns ``stage2.parquet`` (one row per finalist × scenario) into one
``FinalistSummary`` per finalist with its exact parameters and its metrics per scenario; counts
(``trades``, streaks, drawdown bars) come back as ints. The CLI's ``top`` and ``quickstart`` print
these; scripts can use them the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from tradescan.errors import TradeScanError
from tradescan.results.manifest import RunManifest
from tradescan.results.run import Run
from tradescan.results.stored_trades import trades_stored
from tradescan.results.tables import COUNT_METRICS, STAGE2, metric_columns


@dataclass(frozen=True)
class FinalistSummary:
    """One stage-2 finalist of one symbol.

    Attributes:
        symbol: the symbol.
        rank: 1 = the best stage-1 value of the symbol.
        trial: its stage-1 trial number.
        stage1_value: its stage-1 value (objective minus the min-trades penalty).
        params: its parameters, exactly as the strategy received them.
        metrics: per stage-2 scenario, the metrics (empty when the finalist failed).
        error: why its stage-2 backtest failed, else ``None``.
        trades_stored: whether the run keeps its trades (``tradescan.results.stored_trades``).
    """

    symbol: str
    rank: int
    trial: int
    stage1_value: float
    params: dict[str, Any]
    metrics: dict[str, dict[str, float | int]] = field(default_factory=dict)
    error: str | None = None
    trades_stored: bool = True

    def as_json(self) -> dict[str, Any]:
        """Return ``{"symbol", "rank", "params", "metrics"}`` (DESIGN §11, ``top --format json``)."""
        return {"symbol": self.symbol, "rank": self.rank, "params": self.params, "metrics": self.metrics}


def top_finalists(
    run: Run, *, symbol: str | None = None, k: int = 10, rank: int | None = None
) -> list[FinalistSummary]:
    """Return the run's finalists, by symbol then rank: the best ``k`` of each, or only ``rank``.

    Raises:
        TradeScanError: ``symbol`` has no finalists in this run, or no finalist has ``rank``.
    """
    frame = run.stage2
    if frame.empty and symbol is None:
        return []  # no symbol reached stage 2
    if symbol is not None:
        frame = _only_symbol(frame, symbol, run.run_id)
    chosen = frame[frame["rank"] == rank] if rank is not None else frame[frame["rank"] <= k]
    if rank is not None and chosen.empty and not frame.empty:
        ranks = sorted({int(r) for r in frame["rank"]})
        raise TradeScanError(f"run {run.run_id} has no finalist of rank {rank}{_for(symbol)} (ranks: {ranks})")
    metric_names = metric_columns(STAGE2, list(frame.columns))
    finalists: dict[tuple[str, int], FinalistSummary] = {}
    rows = cast(list[dict[str, Any]], chosen.sort_values(["symbol", "rank"], kind="stable").to_dict("records"))
    for row in rows:
        key = (str(row["symbol"]), int(row["rank"]))
        if key not in finalists:
            finalists[key] = _summary(row, run.manifest)
        if not _present(row.get("error")):
            finalists[key].metrics[str(row["scenario"])] = _metrics(row, metric_names)
    return list(finalists.values())


def _for(symbol: str | None) -> str:
    return f" for {symbol}" if symbol else ""


def _only_symbol(frame: pd.DataFrame, symbol: str, run_id: str) -> pd.DataFrame:
    known = sorted(set(frame["symbol"])) if "symbol" in frame else []
    if symbol not in known:
        raise TradeScanError(f"run {run_id} has no finalists for {symbol!r} (symbols with finalists: "
                             f"{', '.join(known) or 'none'})")
    return frame[frame["symbol"] == symbol]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _summary(row: dict[str, Any], manifest: RunManifest) -> FinalistSummary:
    params_json = row.get("params_json")
    failed = _present(row.get("error"))
    return FinalistSummary(
        symbol=str(row["symbol"]),
        rank=int(row["rank"]),
        trial=int(row["trial"]),
        stage1_value=float(row["stage1_value"]),
        params=dict(json.loads(params_json)) if isinstance(params_json, str) else {},
        error=str(row["error"]) if failed else None,
        trades_stored=not failed and trades_stored(manifest, str(row["symbol"]), int(row["rank"])),
    )


def _metrics(row: dict[str, Any], names: list[str]) -> dict[str, float | int]:
    metrics: dict[str, float | int] = {}
    for name in names:
        value = row.get(name)
        if value is None:
            continue
        number = float(value)
        metrics[name] = int(number) if name in COUNT_METRICS and number.is_integer() else number
    return metrics
