"""CLI: ``tradescan report RUN_ID [--out F] [--no-excel] [--json]``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from report_helpers import SweptRun

from tradescan.cli import main


def test_report_writes_html_only_with_no_excel(swept: SweptRun, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "page.html"
    code = main(["report", swept.run_id, "--out", str(out), "--no-excel", "--json",
                 "--results-dir", str(swept.results_dir)])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"html": [str(out)], "excel": []}
    assert out.read_bytes() == (swept.run_dir / "report.html").read_bytes()


def test_report_writes_the_page_and_the_workbooks_by_default(swept: SweptRun, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    shutil.copytree(swept.results_dir, results)
    for stale in [*results.glob("runs/*/*.xlsx"), *results.glob("runs/*/report.html"), *results.glob("*.xlsx")]:
        stale.unlink()
    assert main(["report", swept.run_id, "--results-dir", str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        f"wrote {results}/runs/{swept.run_id}/report.html",
        f"wrote {results}/runs/{swept.run_id}/AK_Trade_Report_{swept.run_id}_EURUSD.xlsx",
        f"wrote {results}/runs/{swept.run_id}/AK_Trade_Report_{swept.run_id}_GBPUSD.xlsx",
        f"wrote {results}/Strategy_Master_Filter.xlsx",
    ]
    assert all(line.endswith(" MB)") for line in lines)


def test_unknown_run_is_one_line_naming_the_known_runs(swept: SweptRun, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "NOPE-1", "--results-dir", str(swept.results_dir)])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("tradescan: error: unknown run") and swept.run_id in err


def test_unwritable_out_is_one_line(swept: SweptRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["report", swept.run_id, "--out", str(blocker / "r.html"), "--no-excel",
                 "--results-dir", str(swept.results_dir)])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and f"{blocker / 'r.html'}: cannot write" in err
