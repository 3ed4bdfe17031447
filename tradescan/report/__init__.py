"""Reports of a stored run: one offline HTML page, Excel workbooks and notebook figures (DESIGN §11).

* ``api``         ``write_report(run_id, out=None, results_dir=None) -> Path`` (the HTML page);
* ``excel``       ``write_excel(run_id, results_dir=None, folder=None) -> list[Path]`` (trade reports +
  master filter), ``write_master_filter(results_dir=None) -> Path``; neither writes into a frozen run's
  folder (``FrozenRunError``; ``out`` / ``folder`` elsewhere is fine);
* ``notebook``    ``backtest_stats`` / ``backtest_figure`` (``BacktestResult.stats()/.plot()``),
  ``finalist_stats`` / ``finalist_figure`` (``Run.stats()/.plot()``);
* ``inputs``      ``read_inputs(run)``: the tables a report shows (the guard stage's files optional);
* ``document``    the page's sections in order (pure); ``html`` the page itself (plotly.js once);
* ``frames``      derived frames (daily equity, drawdown, monthly returns, parameter grids);
* ``landscape``, ``finalist``, ``validation``: the figures, built by pure functions from frames.
"""

from __future__ import annotations

from tradescan.report.api import REPORT_FILE, write_report
from tradescan.report.excel import MASTER_FILTER_FILE, trade_report_name, write_excel, write_master_filter

__all__ = [
    "MASTER_FILTER_FILE", "REPORT_FILE", "trade_report_name", "write_excel", "write_master_filter", "write_report",
]
