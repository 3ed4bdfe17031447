"""A run's tables and manifest are one commit: a failure keeps the old set, a reader never mixes two."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from results_helpers import committed_run, make_manifest, trials_frame

from tradescan.results import ResultsFileError, ResultsStore, ResultsWriteError, load_run
from tradescan.results.commit import READY_MARKER, STAGING_PREFIX, recover, stage
from tradescan.results.files import COMMIT_METADATA_KEY, write_table
from tradescan.results.store import manifest_bytes

HERE = Path(__file__).resolve().parent


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.suffix != ".lock"}


def test_commit_writes_every_table_with_the_manifest_token(tmp_path: Path) -> None:
    store, manifest = committed_run(tmp_path)
    run_dir = store.run_dir("R-1")
    assert manifest.commit is not None and set(manifest.tables) == {"trials.parquet", "stage2.parquet"}
    assert manifest.tables["trials.parquet"].rows == 4 and manifest.tables["stage2.parquet"].rows == 6
    for name in manifest.tables:
        token = pq.read_schema(run_dir / name).metadata[COMMIT_METADATA_KEY].decode()
        assert token == manifest.commit == manifest.tables[name].commit
    assert store.read_manifest("R-1") == manifest
    assert sorted(p.name for p in run_dir.iterdir()) == ["manifest.json", "stage2.parquet", "trials.parquet"]


def test_a_later_commit_of_one_table_keeps_the_others(tmp_path: Path) -> None:
    store, first = committed_run(tmp_path)
    second = store.commit("R-1", first.model_copy(update={"status": "partial"}),
                          {"trials.parquet": trials_frame().head(2)})
    assert second.tables["stage2.parquet"] == first.tables["stage2.parquet"]
    assert second.tables["trials.parquet"].commit == second.commit != first.commit
    run = load_run("R-1", tmp_path)
    assert run.manifest.status == "partial" and len(run.trials) == 2 and len(run.stage2) == 6


def test_a_failure_while_staging_keeps_the_previous_files(tmp_path: Path) -> None:
    store, _ = committed_run(tmp_path)
    before = _snapshot(store.run_dir("R-1"))
    unwritable = pd.DataFrame({"mixed": [1, "a"]})  # pyarrow refuses a column of ints and strings
    with pytest.raises(Exception, match="mixed"):
        store.commit("R-1", make_manifest(status="failed"), {"trials.parquet": trials_frame(),
                                                            "stage2.parquet": unwritable})
    assert _snapshot(store.run_dir("R-1")) == before
    assert not list(store.run_dir("R-1").glob(f"{STAGING_PREFIX}*"))


def test_a_decided_commit_is_seen_whole_and_finished_by_recover(tmp_path: Path) -> None:
    store, _ = committed_run(tmp_path)
    run_dir = store.run_dir("R-1")
    token = "f" * 24
    new = make_manifest(status="partial").model_copy(update={"commit": token, "tables": {
        **store.read_manifest("R-1").tables,
        "trials.parquet": store.read_manifest("R-1").tables["trials.parquet"].model_copy(
            update={"commit": token, "rows": 1})}})
    staging = stage(run_dir, {"trials.parquet": lambda p: write_table(trials_frame().head(1), p, token)},
                    manifest_bytes(new), token)
    # As if the writer died right after the decision: nothing published yet.
    assert (staging / READY_MARKER).exists() and len(pd.read_parquet(run_dir / "trials.parquet")) == 4
    run = load_run("R-1", tmp_path)
    assert run.manifest.status == "partial" and len(run.trials) == 1 and len(run.stage2) == 6
    recover(run_dir)
    assert not staging.exists() and len(pd.read_parquet(run_dir / "trials.parquet")) == 1
    assert store.read_manifest("R-1").commit == token


def test_an_undecided_staging_folder_is_ignored_then_removed(tmp_path: Path) -> None:
    store, manifest = committed_run(tmp_path)
    run_dir = store.run_dir("R-1")
    half = run_dir / f"{STAGING_PREFIX}{'0' * 24}"
    half.mkdir()
    write_table(trials_frame().head(1), half / "trials.parquet", "0" * 24)  # died before READY
    assert len(load_run("R-1", tmp_path).trials) == 4
    with store.lock("R-1"):  # a writer cleans up before it writes
        pass
    assert not half.exists() and store.read_manifest("R-1") == manifest


def test_a_table_from_another_commit_is_named(tmp_path: Path) -> None:
    store, _ = committed_run(tmp_path)
    write_table(trials_frame(), store.run_dir("R-1") / "trials.parquet", "a" * 24)  # copied in by hand
    with pytest.raises(ResultsFileError, match=r"trials\.parquet: written by another commit than manifest\.json"):
        store.read_parquet("R-1", "trials.parquet")


def test_disk_full_during_a_commit_is_named_and_keeps_the_old_files(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    try:
        store, _ = committed_run(mount)
        before = _snapshot(store.run_dir("R-1"))
        big = pd.DataFrame({"x": range(400_000)}).astype(float)
        with pytest.raises(ResultsWriteError, match=r"cannot write .*R-1: disk full \(no space left on the device\); "
                           r"the run's files were not changed"):
            store.commit("R-1", make_manifest(status="failed"), {"trials.parquet": big})
        assert _snapshot(store.run_dir("R-1")) == before
        assert load_run("R-1", mount).trials.equals(trials_frame())
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


_WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    sys.path.insert(0, {here!r})
    from results_helpers import make_manifest
    from tradescan.results import ResultsStore

    store = ResultsStore({root!r})
    for generation in range({n}):
        store.commit("R-1", make_manifest(verdicts={{"generation": generation}}),
                     {{"trials.parquet": pd.DataFrame({{"generation": [generation] * 50}}),
                      "stage2.parquet": pd.DataFrame({{"generation": [generation] * 20}})}})
    """
)


def test_a_reader_never_sees_tables_of_two_commits(tmp_path: Path) -> None:
    ResultsStore(tmp_path).commit("R-1", make_manifest(verdicts={"generation": -1}), {
        "trials.parquet": pd.DataFrame({"generation": [-1]}), "stage2.parquet": pd.DataFrame({"generation": [-1]})})
    script = _WRITER.format(here=str(HERE), root=str(tmp_path), n=40)
    writer = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    consistent, moved_on = 0, 0
    generations = set()
    while writer.poll() is None or consistent == 0:
        try:
            run = load_run("R-1", tmp_path)
            generation = run.manifest.verdicts["generation"]
            assert set(run.trials["generation"]) == {generation}
            assert set(run.stage2["generation"]) == {generation}
        except ResultsFileError as exc:  # a commit landed between the manifest and a table: said, not mixed
            assert "was written again since it was loaded" in str(exc)
            moved_on += 1
            continue
        consistent += 1
        generations.add(generation)
        time.sleep(0.001)
    assert writer.returncode == 0, writer.stderr.read().decode() if writer.stderr else ""
    assert consistent > 5 and len(generations) > 1
    final = load_run("R-1", tmp_path)
    assert final.manifest.verdicts["generation"] == 39 and set(final.stage2["generation"]) == {39}
