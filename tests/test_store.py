"""Results store: atomic file writes, the store's round trip, frozen runs (more in tests/results/)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from tradescan.atomic import atomic_write_bytes, atomic_write_with
from tradescan.errors import TradeScanError, UnknownNameError
from tradescan.store import FrozenRunError, ResultsStore

sys.path.insert(0, str(Path(__file__).parent / "results"))
from results_helpers import make_manifest  # the hand-made manifest of tests/results/


def test_atomic_write_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(os.listdir(target.parent)) == ["file.json"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    atomic_write_bytes(target, b"old")

    def explode(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_with(target, explode)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["table.parquet"]


def _store_with_run(tmp_path: Path) -> ResultsStore:
    store = ResultsStore(tmp_path)
    store.write_manifest("R-1", make_manifest("R-1"))
    store.write_parquet("R-1", "trials.parquet", pd.DataFrame({"symbol": ["EURUSD"], "trial": [0]}))
    return store


def test_manifest_parquet_and_catalog_round_trip(tmp_path: Path) -> None:
    store = _store_with_run(tmp_path)
    assert store.read_manifest("R-1").status == "complete"
    assert store.read_parquet("R-1", "trials.parquet")["trial"].tolist() == [0]
    assert store.read_manifest("R-1").tables["trials.parquet"].rows == 1
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert catalog["runs"]["R-1"]["symbols"] == ["EURUSD", "GBPUSD"]
    assert store.list_runs()["R-1"].status == "complete"


def test_unknown_run_and_missing_table_are_named(tmp_path: Path) -> None:
    store = _store_with_run(tmp_path)
    with pytest.raises(UnknownNameError, match=r"unknown run in .* 'R-2'; did you mean 'R-1'"):
        store.read_manifest("R-2")
    with pytest.raises(TradeScanError, match=r"run R-1 has no stage2\.parquet"):
        store.read_parquet("R-1", "stage2.parquet")
    with pytest.raises(TradeScanError, match="invalid run id"):
        store.run_dir("../x")


def test_freeze_refuses_every_later_write(tmp_path: Path) -> None:
    store = _store_with_run(tmp_path)
    manifest = store.freeze("R-1")
    assert manifest.frozen is not None and store.is_frozen("R-1")
    assert store.list_runs()["R-1"].frozen == manifest.frozen
    with pytest.raises(FrozenRunError, match="run R-1 is frozen"):
        store.write_parquet("R-1", "trials.parquet", pd.DataFrame())
    with pytest.raises(FrozenRunError, match="run R-1 is frozen"):
        store.write_manifest("R-1", manifest)
    with pytest.raises(FrozenRunError, match="already frozen"):
        store.freeze("R-1")
    assert store.read_parquet("R-1", "trials.parquet")["trial"].tolist() == [0]


def test_the_old_module_names_still_point_at_the_results_package() -> None:
    import tradescan.results
    import tradescan.store

    assert tradescan.store.ResultsStore is tradescan.results.ResultsStore
    assert (tradescan.store.TRIALS_FILE, tradescan.store.STAGE2_FILE) == ("trials.parquet", "stage2.parquet")
