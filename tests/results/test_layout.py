"""The per-symbol table layout: parts written once, read back as one frame, readable without Trade_Scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from results_helpers import make_manifest

from tradescan.results import ResultsStore, load_run
from tradescan.results.errors import ResultsWriteError
from tradescan.results.tables import EQUITY, TRIALS, symbol_file, table_of_file, table_parts
from tradescan.sweep.equity import daily_rows


def _trials(symbol: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": [symbol] * len(values), "trial": list(range(len(values))),
                         "state": ["COMPLETE"] * len(values), "value": values, "error": [None] * len(values),
                         "reason": [None] * len(values), "param_fast": [10 * (i + 1) for i in range(len(values))]})


def _two_symbol_run(tmp_path: Path) -> ResultsStore:
    """GBPUSD's part is committed first, EURUSD's second (as parallel symbols may finish)."""
    store = ResultsStore(tmp_path)
    manifest = make_manifest(symbols={"EURUSD": make_manifest().symbols["EURUSD"],
                                      "GBPUSD": make_manifest().symbols["EURUSD"]})
    manifest = store.commit("R-1", manifest, {symbol_file(TRIALS, "GBPUSD"): _trials("GBPUSD", [0.1, 0.2, 0.3])})
    store.commit("R-1", manifest, {symbol_file(TRIALS, "EURUSD"): _trials("EURUSD", [1.0, 2.0])})
    return store


def test_part_names() -> None:
    assert symbol_file(TRIALS, "EURUSD") == "trials/EURUSD.parquet"
    assert symbol_file(EQUITY, "BTC-USD") == "equity/BTC-USD.parquet"
    assert table_of_file("trials/EURUSD.parquet") is TRIALS
    assert table_of_file("trials.parquet") is TRIALS
    assert table_of_file("guards/EURUSD.parquet") is None  # guards stay one file
    assert table_of_file("trials/.parquet") is None
    assert table_of_file("trials/a/b.parquet") is None
    files = ["trials/GBPUSD.parquet", "trials/ZZZ.parquet", "stage2/EURUSD.parquet", "trials/EURUSD.parquet"]
    assert table_parts(TRIALS, files, ["EURUSD", "GBPUSD"]) == [
        "trials/EURUSD.parquet", "trials/GBPUSD.parquet", "trials/ZZZ.parquet"]


def test_parts_written_once_and_read_in_symbol_order(tmp_path: Path) -> None:
    store = _two_symbol_run(tmp_path)
    run_dir = tmp_path / "runs" / "R-1"
    assert sorted(p.name for p in (run_dir / "trials").iterdir()) == ["EURUSD.parquet", "GBPUSD.parquet"]
    assert not (run_dir / "trials.parquet").exists()
    manifest = store.read_manifest("R-1")
    assert manifest.tables["trials/GBPUSD.parquet"].rows == 3
    assert manifest.tables["trials/EURUSD.parquet"].rows == 2
    # the second commit did not rewrite GBPUSD's part: it keeps the first commit's token
    assert manifest.tables["trials/GBPUSD.parquet"].commit != manifest.tables["trials/EURUSD.parquet"].commit
    trials = load_run("R-1", tmp_path).trials
    assert trials["symbol"].tolist() == ["EURUSD", "EURUSD", "GBPUSD", "GBPUSD", "GBPUSD"]
    assert trials["value"].tolist() == [1.0, 2.0, 0.1, 0.2, 0.3]
    assert trials["param_fast"].tolist() == [10, 20, 10, 20, 30]
    assert trials["param_fast"].dtype == np.int64
    assert load_run("R-1", tmp_path).equity.columns.tolist() == list(EQUITY.columns)  # none stored: empty


def test_duckdb_reads_the_parts_without_tradescan(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    _two_symbol_run(tmp_path)
    pattern = str(tmp_path / "runs" / "R-1" / "trials" / "*.parquet")
    rows = duckdb.sql(f"SELECT symbol, count(*), sum(value) FROM read_parquet('{pattern}') "
                      f"GROUP BY symbol ORDER BY symbol").fetchall()
    assert [(s, n, round(v, 9)) for s, n, v in rows] == [("EURUSD", 2, 3.0), ("GBPUSD", 3, 0.6)]
    assert len(pd.read_parquet(tmp_path / "runs" / "R-1" / "trials")) == 5  # pandas/pyarrow: the folder


def test_unknown_part_name_refused(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    with pytest.raises(ResultsWriteError, match=r"unknown table file\(s\) \['nonsense/EURUSD.parquet'\]"):
        store.commit("R-1", make_manifest(), {"nonsense/EURUSD.parquet": _trials("EURUSD", [1.0])})


def test_daily_rows_keep_first_bar_and_each_days_last() -> None:
    times = pd.DatetimeIndex(["2024-01-01 22:00", "2024-01-01 23:00", "2024-01-02 00:00", "2024-01-02 01:00",
                              "2024-01-04 05:00"], tz="UTC")
    assert daily_rows(times).tolist() == [0, 1, 3, 4]
    assert daily_rows(times[:1]).tolist() == [0]
    assert daily_rows(pd.DatetimeIndex([], tz="UTC")).tolist() == []
