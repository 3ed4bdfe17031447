"""The run's table files and their column names, declared once (DESIGN §11).

Each table is one Parquet file in ``runs/<run_id>/``; the sweep writes the first four, the guard
stage writes ``guards.parquet``. ``param_<name>`` columns hold a trial's parameters and the metric
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
