"""The trades policy on real sweeps (Ray, Parquet, DuckDB): which finalists' trades a run stores, what
every reader says about the others, and ``validate`` reproducing the guard numbers without them."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sweep_support import write_directive

import tradescan
from tradescan.cli import main
from tradescan.export import export_run_pine
from tradescan.preflight import prepare
from tradescan.report import trade_report_name, write_excel, write_report
from tradescan.results import ResultsStore
from tradescan.results.errors import TradeScanNotice
from tradescan.results.stored_trades import TRADES_TOP, TradesNotStored
from tradescan.sweep import run_sweep
from tradescan.sweep.driver import SweepDriver
from tradescan.sweep.validate import validate_run

pytestmark = pytest.mark.usefixtures("ray_cluster")

TOP_K = TRADES_TOP + 2
GUARDS_SECTION: dict[str, Any] = {
    "preset": "validate",
    "seed": 11,
    "walk_forward": {"folds": 3, "trials_per_fold": 8},
    "permutation": {"n_permutations": 4, "search_trials": 8},
    "bootstrap": {"n_resamples": 200},
    "pbo": {"n_splits": 8},
    "mc1": {"n_paths": 50},
    "mc2": {"n_paths": 50},
}


def _sweep_keeping(directive: Path, data_dir: Path, results: Path, trades_top: int, run_guards: bool) -> Any:
    """A sweep through the driver with a trades policy of ``trades_top`` (run_sweep offers 10 or all)."""
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results)
    store.root.mkdir(parents=True, exist_ok=True)
    with store.lock(plan.run_id):
        driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=2, run_guards=run_guards,
                             trades_top=trades_top)
        return driver.run()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, small_data_dir: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("stored_trades")
    directive = write_directive(folder, "KEEP", search={"sampler": "random", "trials": 32, "seed": 2},
                                stage1={"min_trades": 5}, stage2={"top_k": TOP_K})
    default = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=folder / "default")
    every = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=folder / "all", all_trades=True)
    guarded_directive = write_directive(folder, "GUARD", search={"sampler": "random", "trials": 16, "seed": 5},
                                        stage2={"top_k": 3}, guards=GUARDS_SECTION)
    guarded = _sweep_keeping(guarded_directive, small_data_dir, folder / "guarded", 1, True)
    plain = _sweep_keeping(guarded_directive, small_data_dir, folder / "plain", 1, False)
    return {"default": default, "all": every, "guarded": guarded, "plain": plain, "folder": folder,
            "data": small_data_dir}


def _load(result: Any) -> Any:
    return tradescan.load_run(result.run_id, result.run_dir.parent.parent)


def test_a_run_stores_the_trades_of_its_best_ten_finalists_under_every_scenario(runs: dict[str, Any]) -> None:
    run = _load(runs["default"])
    assert run.manifest.stored_trades.top == 10
    assert run.manifest.symbols["EURUSD"].stage2.finalists == TOP_K
    assert run.manifest.symbols["EURUSD"].stage2.trades_ranks == tuple(range(1, 11))
    with pytest.warns(TradeScanNotice, match=r"keeps the trades of finalists 1-10 of each symbol; the trades of 2 "
                                             r"other finalists were not stored \(sweep with --all-trades"):
        trades = run.trades
    assert sorted(set(trades["rank"])) == list(range(1, 11))
    assert set(trades.groupby("rank")["scenario"].unique().map(lambda s: tuple(sorted(s)))) == {("A", "B", "C")}
    # metrics and daily equity are kept for every finalist
    assert sorted(set(run.stage2["rank"])) == list(range(1, TOP_K + 1))
    assert sorted(set(run.equity["rank"])) == list(range(1, TOP_K + 1))
    part = run.path / "trades" / "EURUSD.parquet"
    assert pq.ParquetFile(part).metadata.row_group(0).column(0).compression == "ZSTD"


def test_duckdb_reads_the_stored_trades_without_tradescan(runs: dict[str, Any]) -> None:
    duckdb = pytest.importorskip("duckdb")
    run = _load(runs["default"])
    pattern = str(run.path / "trades" / "*.parquet")
    ranks = duckdb.sql(f"SELECT DISTINCT rank FROM read_parquet('{pattern}') ORDER BY rank").fetchall()
    assert [r for (r,) in ranks] == list(range(1, 11))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradeScanNotice)
        expected = len(run.trades)
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall() == [(expected,)]


def test_all_trades_keeps_every_finalists_and_the_same_rows_for_the_best_ten(runs: dict[str, Any]) -> None:
    every, default = _load(runs["all"]), _load(runs["default"])
    assert every.run_id == default.run_id  # the policy is not part of the run id
    assert every.manifest.stored_trades.top is None
    assert every.manifest.symbols["EURUSD"].stage2.trades_ranks == tuple(range(1, TOP_K + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TradeScanNotice)  # nothing left out: no notice
        all_trades = every.trades
    assert sorted(set(all_trades["rank"])) == list(range(1, TOP_K + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradeScanNotice)
        kept = default.trades
    pd.testing.assert_frame_equal(all_trades[all_trades["rank"] <= 10].reset_index(drop=True), kept)
    assert len(every.finalist_trades("EURUSD", TOP_K)) > 0


def test_readers_say_when_a_finalists_trades_were_not_stored(runs: dict[str, Any]) -> None:
    run = _load(runs["default"])
    run_id = run.run_id
    with pytest.raises(TradesNotStored) as caught:
        run.finalist_trades("EURUSD", 11)
    assert str(caught.value) == (
        f"the trades of EURUSD finalist #11 were not stored: run {run_id} keeps the trades of finalists 1-10 of "
        f"each symbol (sweep with --all-trades to keep every finalist's); to see them, run 'tradescan top {run_id} "
        f"--symbol EURUSD --rank 11 --format yaml > f.yaml' and 'tradescan backtest --params-file f.yaml --out DIR'")
    third = run.finalist_trades("EURUSD", 3)
    assert set(third["rank"]) == {3} and len(third) == run.stage2.query("rank == 3 and scenario == 'B'")[
        "trades"].iloc[0] + run.stage2.query("rank == 3 and scenario != 'B'")["trades"].sum()
    with pytest.raises(tradescan.errors.TradeScanError, match=r"has no finalist EURUSD #13"):
        run.finalist_trades("EURUSD", 13)
    # HTML report: the finalist's section says so; the workbook has no sheets for it and says why
    page = write_report(run_id, results_dir=run.path.parent.parent).read_text(encoding="utf-8")
    assert "Trades not stored: the trades of EURUSD finalist #11 were not stored" in page
    assert "Trades not stored: the trades of EURUSD finalist #10" not in page
    write_excel(run_id, results_dir=run.path.parent.parent)
    book = openpyxl.load_workbook(run.path / trade_report_name(run_id, "EURUSD"))
    assert "R10_B" in book.sheetnames and "R11_B" not in book.sheetnames and "R12_A" not in book.sheetnames
    facts = {row[0]: row[1] for row in book["Run"].iter_rows(values_only=True)}
    assert facts["trades"] == ("the run keeps the trades of finalists 1-10 of each symbol: no trade sheets for "
                               "ranks 11-12, whose trades were not stored (sweep with --all-trades to keep every "
                               "finalist's)")
    # Pine export of a finalist without trades: the basis-point price comes from another finalist, and says so
    script = export_run_pine(run_id, "EURUSD", 11, results_dir=run.path.parent.parent)
    assert "// typical price (basis points to ticks) from finalist #1's last entry: the run did not store the " \
           "trades of #11" in script


def test_top_marks_the_finalists_without_trades(runs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    run = _load(runs["default"])
    results = ["--results-dir", str(run.path.parent.parent)]
    assert main(["top", run.run_id, "--k", str(TOP_K), *results]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("EURUSD")]
    # the note column ("trades not stored", folded in a narrow table) marks ranks 11 and 12 only
    assert [line.rstrip().endswith(" trades") for line in rows] == [False] * 10 + [True] * 2, out
    assert "trades not stored: the run keeps the trades of finalists 1-10 of each symbol" in out
    assert main(["top", run.run_id, "--k", str(TOP_K), "--format", "csv", *results]) == 0
    frame = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert frame["trades_stored"].tolist() == [True] * 10 + [False] * 2


def test_validate_reproduces_the_sweeps_guards_when_trades_were_not_stored(runs: dict[str, Any]) -> None:
    guarded, plain = runs["guarded"], runs["plain"]
    assert plain.run_id == guarded.run_id and guarded.symbols["EURUSD"].stage2.trades_ranks == (1,)
    results = runs["folder"] / "plain"
    stored_before = sorted(p.name for p in (results / "runs" / plain.run_id / "trades").iterdir())
    result = validate_run(plain.run_id, workers=2, data_dir=runs["data"], results_dir=results)
    assert result.ran == ("EURUSD",)
    one = tradescan.load_run(plain.run_id, results)
    two = tradescan.load_run(guarded.run_id, runs["folder"] / "guarded")
    # finalists 2 and 3 had no stored trades: their bootstrap PF, top-10 share, MC1 and MC2 came from
    # re-running their backtests, and equal the sweep's (which read them from memory)
    assert set(two.guards["rank"]) == {1, 2, 3}
    assert two.guard_series.query("rank == 3")["series"].str.startswith("mc").any()
    pd.testing.assert_frame_equal(one.guards, two.guards)
    pd.testing.assert_frame_equal(one.guard_series, two.guard_series)
    strip = {k: v for k, v in one.manifest.guards["symbols"]["EURUSD"].items() if k != "seconds"}
    assert strip == {k: v for k, v in two.manifest.guards["symbols"]["EURUSD"].items() if k != "seconds"}
    # the re-run trades were not written: the run keeps its policy
    assert sorted(p.name for p in (one.path / "trades").iterdir()) == stored_before
    assert one.manifest.symbols["EURUSD"].stage2.trades_ranks == (1,)
    assert json.loads(json.dumps(result.as_json()))["symbols"]["EURUSD"]["finalists"][2]["rank"] == 3
