"""The results store and what is read from it (DESIGN §8, §11).

* ``store``     ``ResultsStore``: run folders, ``commit`` (tables + manifest as one set), ``lock``, freeze;
* ``manifest``  ``RunManifest`` and its parts, typed and frozen;
* ``tables``    the table files and their column names (trials, stage2, trades, equity, guards);
* ``run``       ``load_run(run_id, results_dir=None)`` -> ``Run`` (``.manifest .trials .stage2 .trades
  .equity .guards``);
* ``query``     ``top_finalists(run, symbol=, k=, rank=)`` -> ``FinalistSummary`` per finalist;
* ``stored_trades`` which finalists' trades a run keeps (the best 10 per symbol unless ``--all-trades``)
  and what readers say about the others (``TradesNotStored``, ``Run.finalist_trades``);
* ``reproduce`` ``params_file_entry`` / ``backtest_settings``: what ``backtest --params-file`` needs;
* ``commit``, ``lock``, ``catalog``, ``files``, ``errors``: how the store writes and fails.
"""

from __future__ import annotations

from tradescan.results.errors import FrozenRunError, ResultsFileError, ResultsWriteError, RunLockedError
from tradescan.results.manifest import RunManifest, SymbolEntry
from tradescan.results.query import FinalistSummary, top_finalists
from tradescan.results.run import Run, load_run
from tradescan.results.store import ResultsStore

__all__ = [
    "FinalistSummary",
    "FrozenRunError",
    "ResultsFileError",
    "ResultsStore",
    "ResultsWriteError",
    "Run",
    "RunLockedError",
    "RunManifest",
    "SymbolEntry",
    "load_run",
    "top_finalists",
]
