"""What a report is built from: a loaded run and the guard stage's optional files (the I/O edge).

``read_inputs(run)`` reads everything once; the page and the workbooks are built from the returned
``ReportInputs`` by pure functions. The guard stage's files (``guard_series.parquet``,
``walk_forward.parquet``; ``guards.parquet`` comes through ``Run.guards``) are optional: a run the
guard stage has not seen gets empty frames with the documented columns, and the report leaves those
sections out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan.results.errors import ResultsFileError
from tradescan.results.manifest import RunManifest
from tradescan.results.run import Run
from tradescan.results.tables import TRADES

GUARD_SERIES_FILE = "guard_series.parquet"
WALK_FORWARD_FILE = "walk_forward.parquet"
GUARD_SERIES_COLUMNS = ("symbol", "rank", "series", "i", "value")
WALK_FORWARD_COLUMNS = (
    "symbol", "rank", "fold", "train_start", "train_end", "test_start", "test_end",
    "is_return", "oos_return", "oos_sharpe", "oos_trades", "params",
)


@dataclass(frozen=True)
class ReportInputs:
    """The tables of one run that a report shows.

    Attributes:
        manifest: the run's manifest (directive, objective, symbols, times).
        trials: stage-1 trials.
        stage2: stage-2 finalists × scenarios.
        trades: the stored finalists' trades (``tradescan.results.stored_trades`` says which).
        equity: the finalists' equity curves.
        guards: guard results (empty before the guard stage).
        guard_series: distributions and curves of the guard stage (empty before it).
        walk_forward: walk-forward folds (empty before the guard stage).
    """

    manifest: RunManifest
    trials: pd.DataFrame
    stage2: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.DataFrame
    guards: pd.DataFrame
    guard_series: pd.DataFrame
    walk_forward: pd.DataFrame

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def symbols(self) -> list[str]:
        """The run's symbols in the directive's order."""
        return list(self.manifest.symbols) or list(self.manifest.directive.get("symbols", ()))

    @property
    def guards_summary(self) -> dict[str, Any]:
        """The manifest's ``guards`` section when the guard stage wrote one, else ``{}``."""
        section = getattr(self.manifest, "guards", None)
        if section is None:
            return {}
        return dict(section.model_dump(mode="json") if hasattr(section, "model_dump") else section)


def read_inputs(run: Run) -> ReportInputs:
    """Return everything the report of ``run`` shows (each table read once)."""
    return ReportInputs(
        manifest=run.manifest,
        trials=run.trials,
        stage2=run.stage2,
        trades=run.table(TRADES),  # the page says per finalist when its trades were not stored
        equity=run.equity,
        guards=run.guards,
        guard_series=_optional_table(run.path / GUARD_SERIES_FILE, GUARD_SERIES_COLUMNS),
        walk_forward=_optional_table(run.path / WALK_FORWARD_FILE, WALK_FORWARD_COLUMNS),
    )


def _optional_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=list(columns))
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{path}: not a readable Parquet table ({str(exc)[:200]}); "
                               f"re-run 'tradescan validate' to rewrite it") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsFileError(f"{path}: missing column(s) {missing}; expected {list(columns)}")
    return frame
