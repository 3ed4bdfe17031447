"""The HTML report of a real run: self-contained, deterministic, and drawn by a real browser."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import plotly.graph_objects as go
import pytest
from report_browser import render, screenshot
from report_helpers import SweptRun

import tradescan
from tradescan.cli import main
from tradescan.report import REPORT_FILE, write_report
from tradescan.report.document import build_page
from tradescan.report.html import Page, script_safe
from tradescan.report.inputs import read_inputs
from tradescan.results import SymbolEntry

PLOTLY_BANNER = re.compile(r"\* plotly\.js v\d+\.\d+\.\d+")


def test_the_sweep_wrote_the_report_and_the_workbooks(swept: SweptRun) -> None:
    reports = swept.sweep_output["reports"]
    assert reports[0] == str(swept.run_dir / REPORT_FILE) and Path(reports[0]).stat().st_size > 1_000_000
    assert [Path(p).name for p in reports[1:]] == [
        f"AK_Trade_Report_{swept.run_id}_EURUSD.xlsx", f"AK_Trade_Report_{swept.run_id}_GBPUSD.xlsx",
        "Strategy_Master_Filter.xlsx"]


def test_report_is_self_contained_with_plotly_inlined_once(swept: SweptRun, tmp_path: Path) -> None:
    text = write_report(swept.run_id, out=tmp_path / "r.html", results_dir=swept.results_dir).read_text()
    assert len(PLOTLY_BANNER.findall(text)) == 1
    assert "<script src" not in text and "<link" not in text
    figures = len(re.findall(r'<div class="ts-fig" id="fig-\d+"></div>', text))
    assert f'data-expected="{figures}"' in text
    # per symbol: history, importances, heatmaps; per finalist (2 each): equity/drawdown, R distribution
    assert figures == 2 * 3 + 4 * 2
    for symbol in ("EURUSD", "GBPUSD"):
        assert f'id="sym-{symbol}"' in text and f'id="sym-{symbol}-2"' in text
    assert "Verdict" not in text and "Walk-forward" not in text  # no guard stage: those sections are left out


def test_same_run_gives_the_same_bytes(swept: SweptRun, tmp_path: Path) -> None:
    first = write_report(swept.run_id, out=tmp_path / "a.html", results_dir=swept.results_dir).read_bytes()
    second = write_report(swept.run_id, out=tmp_path / "b.html", results_dir=swept.results_dir).read_bytes()
    assert first == second
    assert (swept.run_dir / REPORT_FILE).read_bytes() == first  # the sweep's own copy too


def test_guard_stage_sections_appear_when_its_files_exist(guarded: SweptRun, tmp_path: Path) -> None:
    text = write_report(guarded.run_id, out=tmp_path / "g.html", results_dir=guarded.results_dir).read_text()
    assert "Verdict: PROD-READY (3/3)" in text
    assert "Verdict: NOT READY (1/3): failed dsr, top10_share (soft)" in text
    assert "&lt;b&gt;not&lt;/b&gt; escaped?" in text and "<b>not</b>" not in text
    figures = len(re.findall(r'<div class="ts-fig" id="fig-\d+"></div>', text))
    # + PBO (EURUSD) and, per EURUSD finalist, MC1, MC2, permutation, sensitivity, folds, OOS equity
    assert figures == 2 * 3 + 4 * 2 + 1 + 2 * 6


@pytest.mark.parametrize("which", ["swept", "guarded"])
def test_chromium_draws_every_chart_without_console_errors(which: str, request: pytest.FixtureRequest,
                                                          tmp_path: Path) -> None:
    run: SweptRun = request.getfixturevalue(which)
    page = write_report(run.run_id, out=tmp_path / "report.html", results_dir=run.results_dir)
    rendered = render(page, tmp_path)
    expected = int(rendered.status["data-expected"])
    assert rendered.status["data-status"] == "ok", rendered.status
    assert int(rendered.status["data-rendered"]) == expected == rendered.plot_divs
    assert rendered.errors == [] and rendered.console == []
    shot = screenshot(page, tmp_path / "report.png", tmp_path)
    assert shot.stat().st_size > 50_000  # a blank 1400x3000 page compresses to a few kB


def test_page_ids_are_numbered_and_json_cannot_close_its_script() -> None:
    page = Page("t")
    page.figure(go.Figure(go.Scatter(x=[1], y=[2], name="</script><b>")))
    page.figure(go.Figure())
    text = page.render()
    assert '<div class="ts-fig" id="fig-0"></div>' in text and 'id="fig-1-spec"' in text
    assert text.count("</script>") == text.count("<script")
    assert script_safe('{"a": "</script>"}') == '{"a": "<\\/script>"}'


def test_a_blocked_symbol_gets_its_reason_and_no_charts(swept: SweptRun) -> None:
    run = tradescan.load_run(swept.run_id, swept.results_dir)
    inputs = read_inputs(run)
    symbols = {**run.manifest.symbols, "AUDUSD": SymbolEntry(status="BLOCK", reasons=("no data for AUDUSD H1",))}
    page = build_page(replace(inputs, manifest=run.manifest.model_copy(update={"symbols": symbols})))
    assert 'id="sym-AUDUSD"' in page and "AUDUSD: BLOCK — no data for AUDUSD H1" in page
    section = page[page.index('id="sym-AUDUSD"'):]
    assert "No complete stage-1 trials." in section and "No stage-2 finalists." in section
    assert 'class="ts-fig"' not in section


def test_sweep_with_no_report_writes_none(swept: SweptRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = swept.results_dir.parent
    results = tmp_path / "results"
    shutil.copytree(swept.results_dir, results)
    for written in [*results.glob("runs/*/*.xlsx"), *results.glob("runs/*/report.html"), *results.glob("*.xlsx")]:
        written.unlink()
    code = main(["sweep", str(root / "rep.yaml"), "--workers", "1", "--json", "--no-report",
                 "--data-dir", str(root / "data"), "--results-dir", str(results)])
    assert code == 0 and json.loads(capsys.readouterr().out)["reports"] == []
    assert not list(results.rglob("*.html")) and not list(results.rglob("*.xlsx"))
