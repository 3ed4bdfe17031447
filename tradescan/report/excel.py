"""Excel workbooks regenerated from the results store (seeds 000/001): never kept by hand.

* ``AK_Trade_Report_<run>_<symbol>.xlsx`` in the run's folder: a ``Summary`` sheet (one row per
  finalist × scenario with its key metrics and verdict), a ``Run`` sheet (what was run, when) and one
  sheet of trades per finalist and scenario (``R1_A``, ``R1_B``…), each with a frozen header,
  number formats, column widths and an auto-filter.
* ``Strategy_Master_Filter.xlsx`` in the results folder: one row per run × symbol × finalist across
  every run of the store, with the key metrics per scenario and the verdict when the guard stage
  ran; auto-filter on. Runs that cannot be read are listed on a ``Skipped`` sheet with their error.

Workbooks are built in memory and written atomically; their document time is the run's (or the
newest run's) manifest time, so the same store gives the same workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from tradescan.atomic import folder_lock
from tradescan.errors import TradeScanError
from tradescan.report.api import refuse_frozen_target, write_atomically
from tradescan.report.frames import finalist_rows
from tradescan.report.inputs import ReportInputs, read_inputs
from tradescan.report.validation import verdict
from tradescan.results.manifest import RunManifest
from tradescan.results.run import load_run
from tradescan.results.store import ResultsStore
from tradescan.results.stored_trades import policy_text, trades_stored

MASTER_FILTER_FILE = "Strategy_Master_Filter.xlsx"
SUMMARY_SHEET = "Summary"
RUN_SHEET = "Run"
MASTER_SHEET = "Master"
SKIPPED_SHEET = "Skipped"
KEY_METRICS = ("trades", "sharpe", "profit_factor", "net_pnl", "max_drawdown_pct", "win_rate", "expectancy_r")
TRADE_SHEET_COLUMNS = (
    "side", "signal_time", "entry_time", "entry_price", "exit_time", "exit_price", "entry_fill", "exit_fill",
    "stop_price", "target_price", "exit_reason", "size", "gross_pips", "cost_pips", "net_pips", "pnl",
    "r_multiple", "bars_held", "regime",
)
TIME_COLUMNS = frozenset({"signal_time", "entry_time", "exit_time"})
PRICE_COLUMNS = frozenset({"entry_price", "exit_price", "entry_fill", "exit_fill", "stop_price", "target_price"})
FORMATS = {
    "header": {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"},
    "time": {"num_format": "yyyy-mm-dd hh:mm"},
    "price": {"num_format": "0.00000###"},
    "money": {"num_format": "#,##0.00"},
    "number": {"num_format": "0.00"},
    "fraction": {"num_format": "0.00%"},
    "count": {"num_format": "0"},
    "label": {"bold": True},
}
MAX_COLUMN_WIDTH = 40


def trade_report_name(run_id: str, symbol: str) -> str:
    """Return the file name of a run's trade report for ``symbol``."""
    return f"AK_Trade_Report_{run_id}_{symbol}.xlsx"


def trade_sheet_name(rank: int, scenario: str) -> str:
    """Return the sheet of one finalist's trades under one scenario, e.g. ``R1_B``."""
    return f"R{rank}_{scenario}"[:31]


def write_excel(run_id: str, results_dir: str | os.PathLike[str] | None = None,
                folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the run's trade report per symbol and refresh the master filter; return the paths.

    ``folder`` is where the trade reports go (default the run's folder; the master filter always goes
    to the results folder).

    Raises:
        UnknownNameError: no such run.
        FrozenRunError: the run is frozen and the trade reports would go into its folder.
        ResultsFileError: a table of the run is damaged.
        ResultsWriteError: a workbook could not be written.
    """
    run = load_run(run_id, results_dir)
    target = Path(folder) if folder is not None else run.path
    refuse_frozen_target(run_id, run.path, target)
    inputs = read_inputs(run)
    paths = []
    for symbol in inputs.symbols:
        path = target / trade_report_name(run_id, symbol)
        write_atomically(path, trade_report_bytes(inputs, symbol))
        paths.append(path)
    paths.append(write_master_filter(results_dir))
    return paths


def write_master_filter(results_dir: str | os.PathLike[str] | None = None) -> Path:
    """Rebuild ``Strategy_Master_Filter.xlsx`` from every run of the results folder; return its path."""
    store = ResultsStore(results_dir)
    rows, skipped, times = [], [], []
    for run_id in sorted(store.list_runs()):
        try:
            run = load_run(run_id, store.root)
            rows += master_rows(run.manifest, run.stage2, run.guards)
        except TradeScanError as exc:
            skipped.append({"run_id": run_id, "error": str(exc)})
            continue
        times.append(run.manifest.finished or run.manifest.started)
    path = store.root / MASTER_FILTER_FILE
    with folder_lock(store.root, ".master_filter.lock"):
        write_atomically(path, master_filter_bytes(rows, skipped, max(times) if times else None))
    return path


# --- trade report ------------------------------------------------------------------------------------


def trade_report_bytes(inputs: ReportInputs, symbol: str) -> bytes:
    """Return the trade report workbook of one symbol of a run."""
    stage2 = inputs.stage2[inputs.stage2["symbol"] == symbol] if not inputs.stage2.empty else inputs.stage2
    rows = master_rows(inputs.manifest, stage2, inputs.guards, per_scenario=True)
    book = _Book(inputs.manifest.finished or inputs.manifest.started, f"Trade report {inputs.run_id} {symbol}")
    ranks = sorted({int(r) for r in stage2["rank"]}) if not stage2.empty else []
    unstored = [rank for rank in ranks if not trades_stored(inputs.manifest, symbol, rank)]
    _summary_sheet(book, inputs.manifest, symbol, rows, unstored)
    trades = inputs.trades
    for rank in ranks:
        if rank in unstored:
            continue  # no sheet rather than an empty one: the run sheet says why
        mine = finalist_rows(trades, symbol, rank) if not trades.empty else trades
        for scenario in sorted({str(s) for s in stage2.loc[stage2["rank"] == rank, "scenario"]}):
            chosen = mine[mine["scenario"] == scenario] if not mine.empty else mine
            book.table(trade_sheet_name(rank, scenario), trade_table(chosen))
    return book.close()


def trade_table(trades: pd.DataFrame) -> pd.DataFrame:
    """Return one scenario's trades as the sheet shows them: numbered, times in UTC, cumulative PnL."""
    table = trades.reindex(columns=list(TRADE_SHEET_COLUMNS)).reset_index(drop=True)
    for column in TIME_COLUMNS:
        table[column] = pd.DatetimeIndex(table[column]).tz_convert("UTC").tz_localize(None) if len(table) else []
    table.insert(0, "trade", np.arange(1, len(table) + 1))
    table["cum_pnl"] = table["pnl"].astype(np.float64).cumsum()
    return table


def _summary_sheet(book: _Book, manifest: RunManifest, symbol: str, rows: list[dict[str, Any]],
                   unstored: list[int]) -> None:
    book.table(SUMMARY_SHEET, pd.DataFrame(rows, columns=_summary_columns(rows)))
    directive = manifest.directive
    facts = [
        ("run", manifest.run_id), ("symbol", symbol), ("strategy", directive.get("strategy")),
        ("timeframe", directive.get("timeframe")), ("broker", directive.get("broker")),
        ("capital", json.dumps(directive.get("capital"), sort_keys=True)),
        ("objective", f"{manifest.objective.name} on {manifest.objective.scenario}"),
        ("status", manifest.symbols[symbol].status if symbol in manifest.symbols else manifest.status),
        ("started (UTC)", manifest.started.isoformat()),
        ("finished (UTC)", manifest.finished.isoformat() if manifest.finished else ""),
    ]
    if unstored:
        facts.append(("trades", f"the run keeps {policy_text(manifest)}: no trade sheets for ranks "
                                f"{_ranks_text(unstored)}, whose trades were not stored (sweep with --all-trades "
                                f"to keep every finalist's)"))
    book.table(RUN_SHEET, pd.DataFrame(facts, columns=["field", "value"]).astype(str))


def _ranks_text(ranks: list[int]) -> str:
    """Return ranks as ranges, e.g. ``11-50`` or ``3, 5-6``."""
    spans: list[list[int]] = []
    for rank in ranks:
        if spans and rank == spans[-1][1] + 1:
            spans[-1][1] = rank
        else:
            spans.append([rank, rank])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _summary_columns(rows: list[dict[str, Any]]) -> list[str]:
    fixed = ["rank", "trial", "scenario", "stage1_value", *KEY_METRICS, "guards", "prod_ready", "failed", "params"]
    return [c for c in fixed if not rows or c in rows[0]]


# --- master filter -----------------------------------------------------------------------------------


def master_rows(manifest: RunManifest, stage2: pd.DataFrame, guards: pd.DataFrame, *,
                per_scenario: bool = False) -> list[dict[str, Any]]:
    """Return the rows of a run's finalists: per finalist (metrics as ``<metric>_<scenario>``) or, with
    ``per_scenario``, per finalist × scenario; the verdict columns when the guard stage ran."""
    rows: list[dict[str, Any]] = []
    if stage2.empty:
        return rows
    for key, finalist in stage2.groupby(["symbol", "rank"], sort=True):
        symbol, rank = cast(tuple[str, int], key)
        first = finalist.iloc[0]
        head = {"run_id": manifest.run_id, "name": manifest.directive.get("name"),
                "strategy": manifest.directive.get("strategy"), "timeframe": manifest.directive.get("timeframe"),
                "symbol": str(symbol), "rank": int(rank), "trial": int(first["trial"]),
                "stage1_value": float(first["stage1_value"])}
        tail = {**_verdict_columns(guards, str(symbol), int(rank)), "params": str(first["params_json"])}
        by_scenario = finalist.sort_values("scenario", kind="stable")
        if per_scenario:
            rows += [{**head, "scenario": str(r["scenario"]), **{m: r.get(m) for m in KEY_METRICS}, **tail}
                     for r in by_scenario.to_dict("records")]
        else:
            metrics = {f"{m}_{r['scenario']}": r.get(m) for r in by_scenario.to_dict("records") for m in KEY_METRICS}
            rows.append({**head, "run_status": manifest.status, **metrics, **tail})
    return rows


def _verdict_columns(guards: pd.DataFrame, symbol: str, rank: int) -> dict[str, Any]:
    rows = finalist_rows(guards, symbol, rank) if not guards.empty else guards
    if rows.empty:
        return {}
    result = verdict(rows)
    failed = [*result.failed_critical, *(f"{name} (soft)" for name in result.failed_other)]
    return {"guards": f"{result.passed}/{result.total}", "prod_ready": result.prod_ready, "failed": ", ".join(failed)}


def master_filter_bytes(rows: list[dict[str, Any]], skipped: list[dict[str, str]],
                        newest: dt.datetime | None) -> bytes:
    """Return the master filter workbook: the finalists' rows, and the runs that could not be read."""
    book = _Book(newest, "Strategy master filter")
    columns = list(dict.fromkeys(name for row in rows for name in row))
    verdict_last = [c for c in columns if c not in ("guards", "prod_ready", "failed", "params")]
    ordered = [*verdict_last, *(c for c in ("guards", "prod_ready", "failed", "params") if c in columns)]
    book.table(MASTER_SHEET, pd.DataFrame(rows, columns=ordered or ["run_id"]))
    if skipped:
        book.table(SKIPPED_SHEET, pd.DataFrame(skipped, columns=["run_id", "error"]))
    return book.close()


# --- writing -----------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    worksheet: Worksheet
    widths: dict[int, float]


class _Book:
    """An in-memory xlsxwriter workbook with the report's formats and a table writer."""

    def __init__(self, created: dt.datetime | None, title: str) -> None:
        self._buffer = io.BytesIO()
        self._workbook = Workbook(self._buffer, {"in_memory": True})
        when = (created or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
        self._workbook.set_properties({"title": title, "author": "Trade_Scan", "created": when})
        self.formats = {name: self._workbook.add_format(spec) for name, spec in FORMATS.items()}
        self._sheets: dict[str, _Sheet] = {}

    def sheet(self, name: str) -> Worksheet:
        """Return the sheet ``name``, adding it on first use."""
        if name not in self._sheets:
            self._sheets[name] = _Sheet(self._workbook.add_worksheet(name), {})
        return self._sheets[name].worksheet

    def table(self, name: str, frame: pd.DataFrame, first_row: int = 0) -> None:
        """Write ``frame`` with a header at ``first_row``: frozen header, formats, widths, auto-filter."""
        sheet = self.sheet(name)
        columns = [str(c) for c in frame.columns]
        for column, title in enumerate(columns):
            sheet.write_string(first_row, column, title, self.formats["header"])
        for row, values in enumerate(frame.itertuples(index=False, name=None), start=first_row + 1):
            for column, value in enumerate(values):
                self._write(sheet, row, column, value, self._format(columns[column]))
        sheet.freeze_panes(first_row + 1, 0)
        sheet.autofilter(first_row, 0, first_row + len(frame), max(len(columns) - 1, 0))
        for column, title in enumerate(columns):
            sheet.set_column(column, column, _width(title, frame.iloc[:, column]), self._format(title))

    def _format(self, column: str) -> Any:
        base = column.rsplit("_", 1)[0] if column.rsplit("_", 1)[-1] in ("A", "B", "C") else column
        if column in TIME_COLUMNS:
            return self.formats["time"]
        if column in PRICE_COLUMNS:
            return self.formats["price"]
        if base in ("pnl", "cum_pnl", "net_pnl", "size"):
            return self.formats["money"]
        if base in ("win_rate",):
            return self.formats["fraction"]
        if base in ("trades", "trade", "rank", "trial", "bars_held", "side"):
            return self.formats["count"]
        return self.formats["number"]

    @staticmethod
    def _write(sheet: Worksheet, row: int, column: int, value: Any, number_format: Any) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            sheet.write_blank(row, column, None)
        elif isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, column, bool(value))
        elif isinstance(value, pd.Timestamp | dt.datetime):
            sheet.write_datetime(row, column, pd.Timestamp(value).to_pydatetime(), number_format)
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            if math.isinf(number):
                sheet.write_string(row, column, "inf" if number > 0 else "-inf")
            else:
                sheet.write_number(row, column, number, number_format)
        else:
            sheet.write_string(row, column, str(value))

    def close(self) -> bytes:
        """Finish the workbook and return its bytes."""
        if not self._sheets:
            self.sheet(SUMMARY_SHEET)
        self._workbook.close()
        return self._buffer.getvalue()


def _width(title: str, values: pd.Series | Sequence[Any]) -> float:
    sample = [len(str(v)) for v in list(values)[:200]]
    return float(min(max([len(title) + 2, *(min(n, 18) + 2 for n in sample)]), MAX_COLUMN_WIDTH))

