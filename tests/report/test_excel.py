"""Excel workbooks of a real run, read back with pandas and openpyxl: sheets, columns, row counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report_helpers import SYMBOLS, SweptRun

import tradescan
from tradescan.report import MASTER_FILTER_FILE, trade_report_name, write_excel, write_master_filter
from tradescan.report.excel import KEY_METRICS, TRADE_SHEET_COLUMNS

SCENARIOS = ("A", "B", "C")
TRADE_SHEET_HEADER = ["trade", *TRADE_SHEET_COLUMNS, "cum_pnl"]


def test_trade_report_has_a_summary_a_run_sheet_and_one_sheet_per_finalist_and_scenario(swept: SweptRun) -> None:
    run = tradescan.load_run(swept.run_id, swept.results_dir)
    for symbol in SYMBOLS:
        sheets = pd.read_excel(swept.run_dir / trade_report_name(swept.run_id, symbol), sheet_name=None)
        assert list(sheets) == ["Summary", "Run", *(f"R{r}_{s}" for r in (1, 2) for s in SCENARIOS)]
        summary = sheets["Summary"]
        assert list(summary.columns) == ["rank", "trial", "scenario", "stage1_value", *KEY_METRICS, "params"]
        stage2 = run.stage2[run.stage2["symbol"] == symbol].sort_values(["rank", "scenario"])
        assert summary["trades"].tolist() == stage2["trades"].astype(int).tolist()
        for rank in (1, 2):
            for scenario in SCENARIOS:
                sheet = sheets[f"R{rank}_{scenario}"]
                stored = run.trades[(run.trades["symbol"] == symbol) & (run.trades["rank"] == rank)
                                    & (run.trades["scenario"] == scenario)]
                expected = int(stage2[(stage2["rank"] == rank) & (stage2["scenario"] == scenario)]["trades"].iloc[0])
                assert list(sheet.columns) == TRADE_SHEET_HEADER
                assert len(sheet) == len(stored) == expected
                assert sheet["trade"].tolist() == list(range(1, expected + 1))
                assert sheet["cum_pnl"].iloc[-1] == pytest.approx(stored["pnl"].sum())
                assert sheet["entry_time"].iloc[0] == stored["entry_time"].iloc[0].tz_localize(None)


def test_trade_sheets_are_formatted_with_frozen_header_and_auto_filter(swept: SweptRun) -> None:
    book = openpyxl.load_workbook(swept.run_dir / trade_report_name(swept.run_id, "EURUSD"))
    sheet = book["R1_B"]
    rows = sheet.max_row
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(TRADE_SHEET_HEADER))}{rows}"
    header = [cell.value for cell in sheet[1]]
    assert header == TRADE_SHEET_HEADER
    assert sheet.cell(2, header.index("entry_time") + 1).number_format == "yyyy-mm-dd hh:mm"
    assert sheet.cell(2, header.index("entry_price") + 1).number_format == "0.00000###"
    assert sheet.cell(2, header.index("pnl") + 1).number_format == "#,##0.00"
    assert sheet.column_dimensions["C"].width > 10
    assert book["Summary"].auto_filter.ref is not None


def test_master_filter_has_one_row_per_run_symbol_and_finalist(swept: SweptRun) -> None:
    master = pd.read_excel(swept.results_dir / MASTER_FILTER_FILE, sheet_name=None)
    assert list(master) == ["Master"]
    rows = master["Master"]
    assert rows[["symbol", "rank"]].values.tolist() == [[s, r] for s in SYMBOLS for r in (1, 2)]
    assert set(rows["run_id"]) == {swept.run_id}
    assert [f"{m}_{s}" for s in SCENARIOS for m in KEY_METRICS] == [c for c in rows.columns if c[-2:] in
                                                                     ("_A", "_B", "_C")]
    assert "prod_ready" not in rows.columns  # no guard stage yet
    book = openpyxl.load_workbook(swept.results_dir / MASTER_FILTER_FILE)
    assert book["Master"].auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(rows.columns))}5"


def test_master_filter_shows_the_verdict_once_the_guard_stage_ran(guarded: SweptRun) -> None:
    write_excel(guarded.run_id, guarded.results_dir)
    rows = pd.read_excel(guarded.results_dir / MASTER_FILTER_FILE)
    by_finalist = {(r.symbol, r.rank): r for r in rows.itertuples()}
    assert (by_finalist["EURUSD", 1].guards, bool(by_finalist["EURUSD", 1].prod_ready)) == ("3/3", True)
    assert (by_finalist["EURUSD", 2].guards, bool(by_finalist["EURUSD", 2].prod_ready)) == ("1/3", False)
    assert by_finalist["EURUSD", 2].failed == "dsr, top10_share (soft)"
    assert pd.isna(by_finalist["GBPUSD", 1].guards)
    summary = pd.read_excel(guarded.run_dir / trade_report_name(guarded.run_id, "EURUSD"), sheet_name="Summary")
    assert summary["guards"].tolist() == ["3/3"] * 3 + ["1/3"] * 3


def test_master_filter_lists_an_unreadable_run_on_its_own_sheet(swept: SweptRun, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(swept.results_dir, results)
    (results / "catalog.json").unlink()  # rebuilt from the run folders, the broken one included
    broken = results / "runs" / "BROKEN-1"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    path = write_master_filter(results)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["Master", "Skipped"]
    assert len(sheets["Master"]) == 4
    skipped = sheets["Skipped"]
    assert skipped["run_id"].tolist() == ["BROKEN-1"] and "manifest.json" in skipped["error"].iloc[0]


def test_workbooks_are_the_same_bytes_when_rebuilt(swept: SweptRun, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(swept.results_dir, results)
    before = [p.read_bytes() for p in write_excel(swept.run_id, results)]
    after = [p.read_bytes() for p in write_excel(swept.run_id, results)]
    assert before == after
