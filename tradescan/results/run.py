"""``tradescan.load_run``: one stored run, its typed manifest and its tables as DataFrames (DESIGN §11).

``load_run`` reads the manifest once; each table is read on first use and checked against that
manifest (the commit that wrote it), so every frame of one ``Run`` belongs to the same commit. A run
that a sweep re-committed since it was loaded says so instead of mixing two states.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan.errors import TradeScanError
from tradescan.results.errors import ResultsFileError, TradeScanNotice
from tradescan.results.manifest import RunManifest
from tradescan.results.store import READ_ATTEMPTS, READ_PAUSE_S, ResultsStore, TableMismatch
from tradescan.results.stored_trades import TradesNotStored, not_stored_text, policy_text, stored_ranks, trades_stored
from tradescan.results.tables import EQUITY, GUARD_SERIES, GUARDS, STAGE2, TRADES, TRIALS, WALK_FORWARD, Table


class Run:
    """A stored run: ``manifest`` (``RunManifest``) and the tables ``trials``, ``stage2``, ``trades``,
    ``equity`` and ``guards`` as DataFrames (an empty frame with the table's columns when the run has
    none, e.g. ``guards`` before the guard stage ran).

    Attributes:
        run_id: the run's id.
        manifest: the typed manifest the tables are checked against.
        path: the run's folder.
    """

    def __init__(self, store: ResultsStore, manifest: RunManifest) -> None:
        self.store = store
        self.manifest = manifest
        self.run_id = manifest.run_id
        self.path: Path = store.run_dir(manifest.run_id)
        self._frames: dict[str, pd.DataFrame] = {}
        self._trades_noted = False

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, status={self.manifest.status!r}, symbols={list(self.manifest.symbols)})"

    @property
    def trials(self) -> pd.DataFrame:
        """Stage-1 trials: ``symbol, trial, state, value, error, reason, param_<name>…`` and the metrics."""
        return self.table(TRIALS)

    @property
    def stage2(self) -> pd.DataFrame:
        """One row per symbol × finalist × scenario: ``symbol, rank, trial, scenario, …, param_…`` and metrics."""
        return self.table(STAGE2)

    @property
    def trades(self) -> pd.DataFrame:
        """The stored finalists' trades with ``symbol`` and ``rank`` in front.

        A run keeps the trades of its best finalists only (``manifest.stored_trades``; ``--all-trades``
        keeps every finalist's): reading this table of such a run issues a ``TradeScanNotice`` saying
        so, and ``finalist_trades`` raises ``TradesNotStored`` for a finalist whose trades were not kept.
        """
        frame = self.table(TRADES)
        if not self._trades_noted and self._unstored_finalists():
            self._trades_noted = True
            warnings.warn(TradeScanNotice(
                f"run {self.run_id} keeps {policy_text(self.manifest)}; the trades of "
                f"{self._unstored_finalists()} other finalists were not stored (sweep with --all-trades to "
                f"keep every finalist's; Run.finalist_trades(symbol, rank) says how to re-create one)"), stacklevel=2)
        return frame

    def finalist_trades(self, symbol: str, rank: int) -> pd.DataFrame:
        """Return the trades of one finalist (every stage-2 scenario, ``scenario`` column).

        Raises:
            TradesNotStored: the run did not keep this finalist's trades (the message says how to get them).
            TradeScanError: the run has no such finalist.
        """
        if not self._is_finalist(symbol, rank):
            raise TradeScanError(f"run {self.run_id} has no finalist {symbol} #{rank} "
                                 f"(see 'tradescan top {self.run_id}')")
        entry = self.manifest.symbols.get(symbol)
        if entry is not None and entry.stage2 is not None and rank in entry.stage2.failed_ranks:
            raise TradeScanError(f"{symbol} finalist #{rank} of run {self.run_id} has no trades: its stage-2 "
                                 f"backtest failed (see 'tradescan top {self.run_id} --symbol {symbol}')")
        if not trades_stored(self.manifest, symbol, rank):
            raise TradesNotStored(not_stored_text(self.manifest, symbol, rank))
        frame = self.table(TRADES)
        if frame.empty:
            return frame
        return frame[(frame["symbol"] == symbol) & (frame["rank"] == rank)].reset_index(drop=True)

    def _is_finalist(self, symbol: str, rank: int) -> bool:
        stage2 = self.stage2
        return not stage2.empty and bool(((stage2["symbol"] == symbol) & (stage2["rank"] == rank)).any())

    def _unstored_finalists(self) -> int:
        """Return how many finalists that ran have no stored trades (the trades policy left them out)."""
        count = 0
        for symbol, entry in self.manifest.symbols.items():
            ranks = stored_ranks(self.manifest, symbol)
            if ranks is not None and entry.stage2 is not None:
                count += entry.stage2.finalists - len(entry.stage2.failed_ranks) - len(ranks)
        return count

    @property
    def equity(self) -> pd.DataFrame:
        """The finalists' equity: ``symbol, rank, time`` and one column per scenario."""
        return self.table(EQUITY)

    @property
    def guards(self) -> pd.DataFrame:
        """Guard results: ``symbol, rank, guard, value, threshold, passed, critical, detail``."""
        return self.table(GUARDS)

    def stats(self, symbol: str, rank: int = 1) -> pd.DataFrame:
        """Return a finalist's stage-2 metrics: one row per scenario, one column per metric (notebooks)."""
        from tradescan.report.notebook import finalist_stats

        return finalist_stats(self, symbol, rank)

    def plot(self, symbol: str, rank: int = 1, bars: pd.DataFrame | None = None) -> Any:
        """Return a finalist's plotly figure: price with its trades, equity and drawdown per scenario."""
        from tradescan.report.notebook import finalist_figure

        return finalist_figure(self, symbol, rank, bars)

    @property
    def guard_series(self) -> pd.DataFrame:
        """Guard distributions and curves (long): ``symbol, rank, series, i, value``."""
        return self.table(GUARD_SERIES)

    @property
    def walk_forward(self) -> pd.DataFrame:
        """Walk-forward folds: ``symbol, rank, fold``, the windows (UTC), IS/OOS returns, OOS Sharpe, trades."""
        return self.table(WALK_FORWARD)

    def trial_returns(self, symbol: str) -> pd.DataFrame:
        """Stage-1 daily returns of every COMPLETE trial of ``symbol``: index ``day``, columns ``t<number>``."""
        from tradescan.results.trial_returns import read_trial_returns

        return read_trial_returns(self.path, symbol)

    def table(self, table: Table) -> pd.DataFrame:
        """Return ``table`` as committed with this run's manifest (read once, then kept)."""
        if table.name not in self._frames:
            self._frames[table.name] = self._read(table)
        return self._frames[table.name]

    def _read(self, table: Table) -> pd.DataFrame:
        for _ in range(READ_ATTEMPTS):
            try:
                frame = self.store.read_table(self.run_id, table.file, self.manifest)
            except TableMismatch:
                if self.store.read_manifest(self.run_id).commit != self.manifest.commit:
                    raise ResultsFileError(
                        f"run {self.run_id} was written again since it was loaded (commit "
                        f"{self.manifest.commit}); load it again with tradescan.load_run({self.run_id!r})"
                    ) from None
                time.sleep(READ_PAUSE_S)  # the same commit is still being published
                continue
            return frame if frame is not None else pd.DataFrame(columns=list(table.columns))
        raise ResultsFileError(
            f"{self.path / table.file}: written by another commit than manifest.json lists "
            f"({self.manifest.commit}); was a file copied in by hand? Re-run the sweep to rewrite the tables"
        )


def load_run(run_id: str, results_dir: str | os.PathLike[str] | None = None) -> Run:
    """Return a stored run: ``.manifest`` and the tables ``.trials .stage2 .trades .equity .guards``.

    Args:
        run_id: the run's id (see ``tradescan runs``).
        results_dir: the results folder (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``).

    Raises:
        UnknownNameError: no such run (the message lists the known ones).
        ResultsFileError: the manifest or a table is damaged, unreadable or from another commit.
    """
    store = ResultsStore(results_dir)
    return Run(store, store.read_manifest(run_id))
