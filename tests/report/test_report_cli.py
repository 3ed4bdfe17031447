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


def _frozen_copy(swept: SweptRun, tmp_path: Path) -> Path:
    results = tmp_path / "results"
    shutil.copytree(swept.results_dir, results)
    assert main(["freeze", swept.run_id, "--results-dir", str(results)]) == 0
    return results


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("extra", [[], ["--no-excel"]])
def test_report_on_a_frozen_run_is_refused_and_changes_nothing(swept: SweptRun, tmp_path: Path, extra: list[str],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    results = _frozen_copy(swept, tmp_path)
    run_dir = results / "runs" / swept.run_id
    capsys.readouterr()
    before, master = _files(run_dir), (results / "Strategy_Master_Filter.xlsx").read_bytes()
    assert "report.html" in before and any(name.endswith(".xlsx") for name in before)
    code = main(["report", swept.run_id, *extra, "--results-dir", str(results)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (f"tradescan: error: run {swept.run_id} is frozen (immutable): {run_dir / 'report.html'} is "
                   f"inside it and cannot be written; write the report elsewhere with --out PATH\n")
    assert _files(run_dir) == before
    assert (results / "Strategy_Master_Filter.xlsx").read_bytes() == master


def test_report_of_a_frozen_run_to_out_elsewhere_writes_there_only(swept: SweptRun, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    results = _frozen_copy(swept, tmp_path)
    run_dir = results / "runs" / swept.run_id
    before = _files(run_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    capsys.readouterr()
    assert main(["report", swept.run_id, "--out", str(elsewhere / "page.html"), "--json",
                 "--results-dir", str(results)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "html": [str(elsewhere / "page.html")],
        "excel": [str(elsewhere / f"AK_Trade_Report_{swept.run_id}_EURUSD.xlsx"),
                  str(elsewhere / f"AK_Trade_Report_{swept.run_id}_GBPUSD.xlsx"),
                  str(results / "Strategy_Master_Filter.xlsx")],
    }
    assert (elsewhere / "page.html").read_bytes() == before["report.html"]
    assert _files(run_dir) == before


def test_report_of_a_frozen_run_to_out_inside_it_is_refused(swept: SweptRun, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    results = _frozen_copy(swept, tmp_path)
    run_dir = results / "runs" / swept.run_id
    before = _files(run_dir)
    capsys.readouterr()
    code = main(["report", swept.run_id, "--out", str(run_dir / "other.html"), "--results-dir", str(results)])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert f"run {swept.run_id} is frozen (immutable): {run_dir / 'other.html'} is inside it" in err
    assert _files(run_dir) == before
