"""tradescan.load_run: the manifest and the tables of one commit, as DataFrames."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from results_helpers import committed_run, make_manifest, stage2_frame, trials_frame

import tradescan
from tradescan.results import ResultsFileError, Run, RunManifest


def test_load_run_gives_the_manifest_and_every_table(tmp_path) -> None:
    _, committed = committed_run(tmp_path)
    run = tradescan.load_run("R-1", results_dir=tmp_path)
    assert isinstance(run, Run) and isinstance(run.manifest, RunManifest) and run.manifest == committed
    assert run.run_id == "R-1" and run.path == tmp_path.resolve() / "runs" / "R-1"
    pd.testing.assert_frame_equal(run.trials, trials_frame())
    pd.testing.assert_frame_equal(run.stage2, stage2_frame())
    assert list(run.trades.columns) == ["symbol", "rank"] and run.trades.empty
    assert list(run.equity.columns) == ["symbol", "rank", "time"] and run.equity.empty
    assert list(run.guards.columns) == ["symbol", "rank", "guard", "value", "threshold", "passed", "critical",
                                        "detail"] and run.guards.empty


def test_the_results_dir_comes_from_the_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    committed_run(tmp_path)
    monkeypatch.setenv("TRADESCAN_RESULTS_DIR", str(tmp_path))
    assert tradescan.load_run("R-1").manifest.run_id == "R-1"


def test_guards_once_committed(tmp_path) -> None:
    store, manifest = committed_run(tmp_path)
    guards = pd.DataFrame({"symbol": ["EURUSD"], "rank": [1], "guard": ["dsr"], "value": [0.97], "threshold": [0.95],
                           "passed": [True], "critical": [True], "detail": ["n_trials=4"]})
    store.commit("R-1", manifest, {"guards.parquet": guards})
    pd.testing.assert_frame_equal(tradescan.load_run("R-1", tmp_path).guards, guards)


def test_a_run_written_again_after_loading_says_so(tmp_path) -> None:
    store, manifest = committed_run(tmp_path)
    run = tradescan.load_run("R-1", tmp_path)
    assert len(run.stage2) == 6  # read before the new commit: kept
    store.commit("R-1", make_manifest(status="partial"), {"trials.parquet": trials_frame().head(1)})
    assert len(run.stage2) == 6
    with pytest.raises(ResultsFileError, match=r"run R-1 was written again since it was loaded \(commit "
                       rf"{manifest.commit}\); load it again with tradescan\.load_run\('R-1'\)"):
        run.trials  # noqa: B018
    assert len(tradescan.load_run("R-1", tmp_path).trials) == 1


def test_import_tradescan_does_not_load_the_results_package() -> None:
    code = "import sys, tradescan; print('tradescan.results' in sys.modules, callable(tradescan.load_run))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"})
    assert done.stdout.split() == ["False", "True"]
