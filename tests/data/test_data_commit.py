"""A dataset and its manifest entry change together or not at all, whatever fails and when.

The measured case: 900 stored bars became 3 when an import failed after the Parquet rename (a broken
manifest) while the command reported an error. Every test stores 900 bars, makes a write fail at one
step, and checks that the old bytes and manifest are exactly as they were and nothing is left over.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest

from tradescan.data import dataset_hash, import_file, load, synthesize, write_dataset
from tradescan.data.commit import backup_path
from tradescan.data.store import parquet_bytes
from tradescan.errors import DataError

THREE_BARS = [
    "time,open,high,low,close",
    "2024-01-03 00:00:00,1.1,1.2,1.0,1.1",
    "2024-01-03 01:00:00,1.1,1.2,1.0,1.1",
    "2024-01-03 02:00:00,1.1,1.2,1.0,1.1",
]


@pytest.fixture
def stored(data_dir: Path) -> tuple[bytes, bytes]:
    """900 EURUSD H1 bars in the data folder; returns the Parquet and manifest bytes."""
    write_dataset(synthesize("EURUSD", "H1", 900, seed=1), "EURUSD", "H1", data_dir)
    return snapshot(data_dir)


def snapshot(data_dir: Path) -> tuple[bytes, bytes]:
    return (data_dir / "EURUSD" / "H1.parquet").read_bytes(), (data_dir / "manifest.json").read_bytes()


def leftovers(data_dir: Path) -> list[str]:
    """Files other than datasets, the manifest and the lock: temporaries and backups."""
    names = [p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file()]
    return sorted(n for n in names if not n.endswith(".parquet") and n not in ("manifest.json", ".manifest.lock"))


def assert_unchanged(data_dir: Path, before: tuple[bytes, bytes]) -> None:
    assert snapshot(data_dir) == before
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 900
    assert leftovers(data_dir) == []


def fail_replace_onto(monkeypatch: pytest.MonkeyPatch, name: str, error: OSError) -> list[str]:
    """Make ``os.replace`` fail when its target is called ``name``; return the targets it was given."""
    real_replace = os.replace
    targets: list[str] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        targets.append(Path(target).name)
        if Path(target).name == name:
            raise error
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return targets


def test_manifest_failing_after_the_parquet_rename_restores_the_old_dataset(data_dir, stored, write_text, monkeypatch):
    targets = fail_replace_onto(monkeypatch, "manifest.json", OSError(errno.EIO, "Input/output error"))
    with pytest.raises(DataError, match=r"cannot write .*manifest\.json: Input/output error; the previous dataset"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    assert targets == ["H1.parquet", "manifest.json", "H1.parquet"]  # renamed, failed, renamed back
    monkeypatch.undo()
    assert_unchanged(data_dir, stored)


def test_a_new_dataset_is_removed_when_its_manifest_entry_fails(data_dir, stored, write_text, monkeypatch):
    fail_replace_onto(monkeypatch, "manifest.json", OSError(errno.EIO, "Input/output error"))
    with pytest.raises(DataError, match="the previous dataset and manifest are unchanged"):
        import_file(write_text("three.csv", *THREE_BARS), "GBPUSD", "H1", data_dir=data_dir)
    monkeypatch.undo()
    assert not (data_dir / "GBPUSD" / "H1.parquet").exists()
    assert_unchanged(data_dir, stored)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: "{not json", r"manifest\.json: the data manifest is not valid JSON \(Expecting property name"),
        (lambda text: text[: len(text) // 2], r"manifest\.json: the data manifest is not valid JSON"),
        (lambda text: "", r"manifest\.json: the data manifest is not valid JSON"),
        (lambda text: "[1, 2]", r"manifest\.json: not a Trade_Scan data manifest \(no 'datasets' mapping\)"),
        (lambda text: text.replace('"rows": 900', '"rows": "many"'), r"entry 'EURUSD/H1': rows='many': Input should"),
        (lambda text: text.replace('"rows": 900', '"rows": true'), r"entry 'EURUSD/H1': rows=True: Input should"),
        (lambda text: text.replace('"sha256": "', '"sha256": "zz'), r"entry 'EURUSD/H1': sha256='zz"),
        (lambda text: text.replace('"version": 2', '"version": 7'), r"manifest version 7 is not one this"),
        (
            lambda text: text.replace('"EURUSD/H1": {', '"GBPUSD/H1": {'),
            r"entry 'GBPUSD/H1': the key must be 'EURUSD/H1'",
        ),
        (lambda text: text.replace('"tz": "UTC"', '"tz": "Mars/Olympus"'), r"tz='Mars/Olympus': must be an IANA"),
        (
            lambda text: text.replace('"kind": "frame"', '"kind": "stolen"'),
            r"source=\{'kind': 'stolen'.*: Input tag 'stolen'",
        ),
        (lambda text: text.replace('"file": "EURUSD/H1.parquet"', '"file": "../../etc/passwd"'), r"file must be"),
    ],
    ids=[
        "garbage",
        "truncated",
        "empty",
        "a-list",
        "rows-text",
        "rows-bool",
        "sha256",
        "version",
        "key",
        "tz",
        "source-kind",
        "file",
    ],  # fmt: skip
)
def test_a_broken_manifest_refuses_the_write_and_keeps_the_dataset(data_dir, stored, write_text, edit, message):
    manifest = data_dir / "manifest.json"
    manifest.write_text(edit(manifest.read_text()))
    broken = snapshot(data_dir)
    with pytest.raises(DataError, match=message) as info:
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    assert "\n" not in str(info.value) and str(manifest) in str(info.value)
    assert snapshot(data_dir) == broken  # neither the dataset nor the (broken) manifest was touched
    assert stored[0] == broken[0]


def test_a_read_only_manifest_leaves_the_folder_alone(data_dir, stored, write_text):
    (data_dir / "manifest.json").chmod(0o444)
    with pytest.raises(DataError, match=r"manifest\.json is read-only, so the data folder is left as it is"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    (data_dir / "manifest.json").chmod(0o644)
    assert_unchanged(data_dir, stored)


def test_a_read_only_dataset_is_not_replaced(data_dir, stored, write_text):
    (data_dir / "EURUSD" / "H1.parquet").chmod(0o444)
    with pytest.raises(DataError, match=r"EURUSD/H1\.parquet is read-only"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    assert_unchanged(data_dir, stored)


def test_disk_full_while_writing_is_one_clear_error(data_dir, stored, write_text, monkeypatch):
    def full_disk(handle: int, payload: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(DataError, match=r"cannot write .*H1\.parquet: the disk is full \(no space left on device\)"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    monkeypatch.undo()
    assert_unchanged(data_dir, stored)


def test_disk_full_when_the_manifest_is_staged_changes_nothing(data_dir, stored, write_text, monkeypatch):
    real_write = os.write

    def full_on_second_file(handle: int, payload: bytes) -> int:
        if bytes(payload[:1]) == b"{":  # the Parquet file went through; the manifest does not fit
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(handle, payload)

    monkeypatch.setattr(os, "write", full_on_second_file)
    with pytest.raises(DataError, match=r"manifest\.json: the disk is full"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    monkeypatch.undo()
    assert_unchanged(data_dir, stored)


def test_disk_full_on_the_parquet_rename_changes_nothing(data_dir, stored, write_text, monkeypatch):
    fail_replace_onto(monkeypatch, "H1.parquet", OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(DataError, match="the disk is full"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    monkeypatch.undo()
    assert_unchanged(data_dir, stored)


def test_a_folder_without_write_permission_is_named(data_dir, stored, write_text, monkeypatch):
    def denied(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(DataError, match=r"cannot write .*EURUSD: permission denied; check the folder's permissions"):
        import_file(write_text("three.csv", *THREE_BARS), "EURUSD", "H1", data_dir=data_dir, force=True)
    monkeypatch.undo()
    assert_unchanged(data_dir, stored)


def test_a_commit_killed_between_the_renames_is_undone_by_the_next_write(data_dir, stored):
    dataset = data_dir / "EURUSD" / "H1.parquet"
    os.link(dataset, backup_path(dataset))  # step 2 done, step 3's first rename done, then the kill
    staged = dataset.with_name(".H1.parquet.staged.tmp")
    staged.write_bytes(parquet_bytes(synthesize("EURUSD", "H1", 3, seed=9)))
    os.replace(staged, dataset)
    with pytest.raises(DataError, match="a write was interrupted; the next write to the folder repairs it"):
        dataset_hash("EURUSD", "H1", data_dir)
    write_dataset(synthesize("USDJPY", "H1", 10, seed=1), "USDJPY", "H1", data_dir)
    assert snapshot(data_dir)[0] == stored[0]
    assert json.loads(snapshot(data_dir)[1])["datasets"]["EURUSD/H1"] == json.loads(stored[1])["datasets"]["EURUSD/H1"]
    assert leftovers(data_dir) == []


def test_a_commit_killed_after_both_renames_keeps_the_new_dataset(data_dir, stored):
    dataset = data_dir / "EURUSD" / "H1.parquet"
    previous = backup_path(dataset)
    previous.write_bytes(b"the old bytes")  # the backup was not removed yet
    write_dataset(synthesize("USDJPY", "H1", 10, seed=1), "USDJPY", "H1", data_dir)
    assert not previous.exists()
    assert dataset.read_bytes() == stored[0]
