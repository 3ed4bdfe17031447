"""Damaged, hand-edited or unreadable results files are one-line errors naming the file and the rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from results_helpers import committed_run

from tradescan.cli import main


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("tradescan: error: ") and err.count("\n") == 1, err
    assert len(err) < 600, err
    return err


def _edit_manifest(root: Path, **fields: object) -> Path:
    path = root / "runs" / "R-1" / "manifest.json"
    document = json.loads(path.read_text())
    document.update(fields)
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    committed_run(tmp_path)
    return tmp_path


def test_truncated_catalog(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    catalog = run_root / "catalog.json"
    catalog.write_text(catalog.read_text()[:40])
    err = _one_line_error(capsys, "runs", "--results-dir", str(run_root))
    assert f"{catalog}: not valid JSON (" in err and "(the file is cut off)" in err
    assert "remove it and tradescan rebuilds it" in err


def test_garbage_catalog_and_wrong_shape(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    catalog = run_root / "catalog.json"
    catalog.write_bytes(b"\x00\xff garbage")
    assert f"{catalog}: not UTF-8 text" in _one_line_error(capsys, "runs", "--results-dir", str(run_root))
    catalog.write_text('["R-1"]')
    assert "holds a JSON list; expected the catalog" in _one_line_error(capsys, "runs", "--results-dir", str(run_root))
    catalog.write_text('{"runs": {"R-1": {"status": 3, "path": "runs/R-1"}}}')
    err = _one_line_error(capsys, "runs", "--results-dir", str(run_root))
    assert "run 'R-1': status=3: Input should be a valid string" in err


def test_a_missing_catalog_is_rebuilt_from_the_manifests(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    (run_root / "catalog.json").unlink()
    code, out, _ = _cli(capsys, "runs", "--json", "--results-dir", str(run_root))
    assert code == 0 and [(r["run_id"], r["status"], r["symbols"]) for r in json.loads(out)] == [
        ("R-1", "complete", ["EURUSD", "GBPUSD"])]


def test_a_damaged_manifest_is_listed_with_its_error(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    (run_root / "catalog.json").unlink()
    (run_root / "runs" / "R-1" / "manifest.json").write_text("{")
    code, out, _ = _cli(capsys, "runs", "--json", "--results-dir", str(run_root))
    entry = json.loads(out)[0]
    assert code == 0 and entry["status"] == "unreadable" and "not valid JSON" in entry["error"]


def test_truncated_manifest(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    path = run_root / "runs" / "R-1" / "manifest.json"
    path.write_text(path.read_text()[:100])
    err = _one_line_error(capsys, "top", "R-1", "--results-dir", str(run_root))
    assert f"{path}: not valid JSON" in err and "cut off" in err and "the run manifest" in err


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "done"}, "status='done': Input should be 'running', 'complete'"),
        ({"workers": True}, "workers=True: Input should be a valid integer"),
        ({"started": "yesterday"}, "started='yesterday': Input should be a valid datetime"),
        ({"symbols": {"EURUSD": {"status": "DONE", "bars": -3}}}, "symbols.EURUSD.bars=-3"),
        ({"colour": "x" * 5000}, "colour="),
        ({"schema_version": None}, "schema_version=None, expected 1: written by another version"),
        ({"run_id": "R-2"}, "run_id='R-2', expected 'R-1' (the folder's name)"),
    ],
)
def test_hand_edited_manifest_fields(capsys: pytest.CaptureFixture[str], run_root: Path,
                                     fields: dict[str, object], expected: str) -> None:
    path = _edit_manifest(run_root, **fields)
    err = _one_line_error(capsys, "top", "R-1", "--results-dir", str(run_root))
    assert err.startswith(f"tradescan: error: {path}: ") and expected in err


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_stage2_table(capsys: pytest.CaptureFixture[str], run_root: Path, damage: str) -> None:
    path = run_root / "runs" / "R-1" / "stage2.parquet"
    content = path.read_bytes()
    path.write_bytes({"truncate": content[: len(content) // 2], "garbage": b"PAR1 not parquet", "empty": b""}[damage])
    err = _one_line_error(capsys, "top", "R-1", "--results-dir", str(run_root))
    assert f"{path}: not a readable Parquet file (" in err and "expected the stage2 table of run R-1" in err


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        ("x" * 300, "invalid run id 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'… (300 characters): at most 128"),
        ("../etc", "invalid run id '../etc': letters, digits"),
        ("R-2", "unknown run in"),
    ],
)
def test_bad_run_ids(capsys: pytest.CaptureFixture[str], run_root: Path, run_id: str, expected: str) -> None:
    for command in (["top", run_id], ["freeze", run_id], ["dashboard", run_id]):
        assert expected in _one_line_error(capsys, *command, "--results-dir", str(run_root))


def test_a_run_folder_without_manifest(capsys: pytest.CaptureFixture[str], run_root: Path) -> None:
    (run_root / "runs" / "R-9").mkdir()
    err = _one_line_error(capsys, "top", "R-9", "--results-dir", str(run_root))
    assert "R-9 has no manifest.json: its first sweep has not recorded anything yet" in err


def _without_root_privileges() -> list[str]:
    """The command prefix that makes file permissions bind (root ignores them unless it drops the capability)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _cli_process(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_without_root_privileges(), sys.executable, "-m", "tradescan", *argv],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_an_unreadable_manifest(run_root: Path) -> None:
    path = run_root / "runs" / "R-1" / "manifest.json"
    path.chmod(0)
    done = _cli_process("top", "R-1", "--results-dir", str(run_root))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"tradescan: error: cannot read {path} (the run manifest that tradescan sweep writes): " \
                          f"permission denied\n"


def test_an_unwritable_results_folder(run_root: Path) -> None:
    run_dir = run_root / "runs" / "R-1"
    before = sorted(p.name for p in run_dir.iterdir())
    run_dir.chmod(0o555)
    try:
        done = _cli_process("freeze", "R-1", "--results-dir", str(run_root))
    finally:
        run_dir.chmod(0o755)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"tradescan: error: cannot write {run_dir}") and "permission denied" in done.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == before
