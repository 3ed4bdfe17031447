"""A full disk during a real sweep is reported as a full disk, and what was stored stays readable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from results_helpers import small_sweep

from tradescan.cli import main
from tradescan.results import ResultsStore, load_run


def test_disk_full_during_a_sweep_says_disk_full(
    tmp_path: Path, ray_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(results)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    try:
        directive = small_sweep(tmp_path, "FULL", trials=3_000, data_dir=tmp_path / "data")
        code = main(["sweep", str(directive), "--workers", "1", "--json", "--data-dir", str(tmp_path / "data"),
                     "--results-dir", str(results)])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "disk full" in err and "invalid data" not in err
        assert err.startswith("tradescan: error: disk full while writing trials to study FULL-") or \
            err.startswith(f"tradescan: error: cannot write {results}")
        run_id = next(iter(ResultsStore(results).list_runs()))
        run = load_run(run_id, results)  # the last committed state is whole
        assert run.manifest.status in ("running", "failed") and run.manifest.workers == 1
    finally:
        subprocess.run(["umount", "--lazy", str(results)], check=True)
