"""The run's table files and their column names, declared once (DESIGN §11).

The sweep's four tables are stored per symbol, each symbol's part written once when the symbol
finishes: ``runs/<run_id>/<table>/<SYMBOL>.parquet`` (``trials/``, ``stage2/``, ``trades/``,
``equity/``; see ``symbol_file``), so a many-symbol sweep never rewrites earlier symbols and any
Parquet reader takes a table as ``<table>/*.parquet``. A run written before that layout has one file per
table (``Table.file``); readers accept both. The guard stage writes ``guards.parquet``.
``param_<name>`` columns hold a trial's parameters and the metric
columns (``tradescan.metrics.METRIC_NAMES``) follow the fixed ones.
"""

from __future__ import annotations

from typing import NamedTuple

PARAM_PREFIX = "param_"
MANIFEST_FILE = "manifest.json"


class Table(NamedTuple):
    """One table: its attribute on ``Run``, its file and its leading (fixed) columns."""

    name: str
    file: str
    columns: tuple[str, ...]


TRIALS = Table(
    "trials", "trials.parquet",
    ("symbol", "trial", "state", "value", "error", "reason"),  # then param_<name>…, then stage-1 metrics
)
STAGE2 = Table(
    "stage2", "stage2.parquet",
    ("symbol", "rank", "trial", "scenario", "stage1_value", "error", "params_json"),  # then param_…, metrics
)
TRADES = Table("trades", "finalists_trades.parquet", ("symbol", "rank"))  # then the engine's trade columns
EQUITY = Table("equity", "finalists_equity.parquet", ("symbol", "rank", "time"))  # then one column per scenario
GUARDS = Table(
    "guards", "guards.parquet",
    ("symbol", "rank", "guard", "value", "threshold", "passed", "critical", "detail"),
)

GUARD_SERIES = Table("guard_series", "guard_series.parquet", ("symbol", "rank", "series", "i", "value"))
WALK_FORWARD = Table(
    "walk_forward", "walk_forward.parquet",
    ("symbol", "rank", "fold", "train_start", "train_end", "test_start", "test_end", "is_return", "oos_return",
     "oos_sharpe", "oos_trades", "params"),
)
GUARD_TABLES: tuple[Table, ...] = (GUARDS, GUARD_SERIES, WALK_FORWARD)

TABLES: tuple[Table, ...] = (TRIALS, STAGE2, TRADES, EQUITY, GUARDS, GUARD_SERIES, WALK_FORWARD)
SWEEP_TABLES: tuple[Table, ...] = (TRIALS, STAGE2, TRADES, EQUITY)
TABLE_BY_FILE = {table.file: table for table in TABLES}
TABLE_BY_NAME = {table.name: table for table in TABLES}
PER_SYMBOL_TABLES: tuple[Table, ...] = SWEEP_TABLES
PART_SUFFIX = ".parquet"

# Integer counts among the metrics: Parquet stores every metric as float64, readers show these as ints.
COUNT_METRICS = frozenset({"trades", "max_win_streak", "max_loss_streak", "max_drawdown_bars"})


def param_column(name: str) -> str:
    """Return the column of parameter ``name`` (``param_<name>``)."""
    return f"{PARAM_PREFIX}{name}"


def param_name(column: str) -> str | None:
    """Return the parameter a ``param_<name>`` column holds, or ``None`` for other columns."""
    return column[len(PARAM_PREFIX):] if column.startswith(PARAM_PREFIX) else None


def metric_columns(table: Table, columns: list[str]) -> list[str]:
    """Return the metric columns of a table: neither fixed nor parameters."""
    fixed = set(table.columns)
    return [c for c in columns if c not in fixed and not c.startswith(PARAM_PREFIX)]


def symbol_file(table: Table, symbol: str) -> str:
    """Return the file of ``symbol``'s part of a per-symbol table, relative to the run folder."""
    return f"{table.name}/{symbol}{PART_SUFFIX}"


def table_of_file(name: str) -> Table | None:
    """Return the table a run-relative file belongs to (a whole-table file or a symbol's part), else ``None``."""
    if name in TABLE_BY_FILE:
        return TABLE_BY_FILE[name]
    folder, _, part = name.partition("/")
    table = TABLE_BY_NAME.get(folder)
    if table in PER_SYMBOL_TABLES and part.endswith(PART_SUFFIX) and "/" not in part and len(part) > len(PART_SUFFIX):
        return table
    return None


def table_parts(table: Table, files: list[str], symbols: list[str]) -> list[str]:
    """Return the files that make up ``table`` among ``files`` (a manifest's), in ``symbols`` order.

    The whole-table file of an older run comes first, then each symbol's part in the run's symbol order
    (parts of symbols the manifest no longer names follow, sorted), so the frame's row order is fixed.
    """
    parts = [name for name in files if name != table.file and table_of_file(name) == table]
    order = {symbol_file(table, symbol): index for index, symbol in enumerate(symbols)}
    parts.sort(key=lambda name: (order.get(name, len(order)), name))
    return ([table.file] if table.file in files else []) + parts
