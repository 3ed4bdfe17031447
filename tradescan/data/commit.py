"""Writing a dataset and its manifest entry as one step: either both change or neither does.

A dataset is two files — ``SYMBOL/TF.parquet`` and its entry in ``manifest.json`` — and no file
system renames two files at once, so the commit is ordered so that every failure can be undone:

1. both new files are written in full beside their targets (temporary names, fsynced). Disk full,
   a permission error or any other write failure happens here, before anything visible changes;
2. the old Parquet file, if any, gets a second name (a hard link ``SYMBOL/.TF.parquet.previous``;
   a copy where the file system has no hard links);
3. the new Parquet file is renamed over the old one, then the new manifest over the old one. If the
   second rename fails, the first is undone from the backup; the old bytes and manifest are back;
4. the backup is removed.

A process killed between the two renames leaves the backup behind; the next write to the folder
(which holds the manifest lock) finds it and finishes the job: the files that match the manifest
win (``recover``). Readers in the meantime see a dataset whose hash disagrees with the manifest and
refuse it, so a half-made commit never reaches a run's lineage.

A read-only manifest or dataset file (no write permission bit) means "leave this folder alone": the
commit refuses before writing anything, even for root, who could write it anyway.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from tradescan.data.manifest import MANIFEST_NAME, ManifestEntry, manifest_bytes
from tradescan.errors import DataError

FILE_MODE = 0o644  # mkstemp makes 0600 files; data is meant to be read by colleagues and tools
BACKUP_SUFFIX = ".previous"
_UNCHANGED = "the previous dataset and manifest are unchanged"


def backup_path(dataset_file: Path) -> Path:
    """Return where the old version of ``dataset_file`` is kept while a commit is under way."""
    return dataset_file.with_name(f".{dataset_file.name}{BACKUP_SUFFIX}")


def commit_dataset(folder: Path, dataset_file: Path, payload: bytes, entries: Mapping[str, ManifestEntry]) -> None:
    """Replace ``dataset_file`` with ``payload`` and the manifest with ``entries``, both or neither.

    The caller holds the manifest lock and has read ``entries`` from the current manifest.

    Raises:
        DataError: a file is read-only, or writing failed (disk full, permission denied, ...); the
            message says which file and that the old dataset and manifest are unchanged.
    """
    manifest = folder / MANIFEST_NAME
    for target in (manifest, dataset_file):
        _refuse_read_only(target)
    with _staged(dataset_file, payload) as staged_data, _staged(manifest, manifest_bytes(entries)) as staged_manifest:
        backup = _keep_backup(dataset_file)
        try:
            _rename(staged_data, dataset_file)
        except BaseException:
            _drop(backup)
            raise
        try:
            _rename(staged_manifest, manifest)
        except BaseException:
            _undo(backup, dataset_file)
            raise
        _drop(backup)


def recover(folder: Path, entries: Mapping[str, ManifestEntry]) -> None:
    """Finish every commit that a killed process left half-done (a dataset backup still exists).

    The manifest decides: if a backup is what the manifest records, its new file never got its
    entry and the backup goes back; otherwise the commit went through and the backup is dropped.
    The caller holds the manifest lock.
    """
    for backup in folder.glob(f"*/.*.parquet{BACKUP_SUFFIX}"):
        dataset_file = backup.with_name(backup.name[1 : -len(BACKUP_SUFFIX)])
        recorded = entries.get(f"{dataset_file.parent.name}/{dataset_file.stem}")
        try:
            if recorded is not None and file_sha256(backup) == recorded.sha256:
                os.replace(backup, dataset_file)
            else:
                backup.unlink()
        except OSError as exc:
            raise _write_error(dataset_file, exc) from None


def _refuse_read_only(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise DataError(
            f"{path} is read-only, so the data folder is left as it is; make it writable (chmod u+w) to change it"
        )


@contextlib.contextmanager
def _staged(target: Path, payload: bytes) -> Iterator[Path]:
    """Write ``payload`` to a temporary file beside ``target``; remove it unless it was renamed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _write_error(target.parent, exc) from None
    temporary = Path(name)
    try:
        try:
            os.fchmod(handle, FILE_MODE)
            _write_all(handle, payload)
            os.fsync(handle)
        finally:
            os.close(handle)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _write_error(target, exc) from None
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _write_all(handle: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def _keep_backup(dataset_file: Path) -> Path | None:
    """Give the old dataset file a second name (a hard link, else a copy); None if there is none."""
    if not dataset_file.exists():
        return None
    backup = backup_path(dataset_file)
    backup.unlink(missing_ok=True)
    try:
        os.link(dataset_file, backup)
    except OSError:
        try:  # no hard links here (some network and FUSE file systems)
            shutil.copyfile(dataset_file, backup)
        except OSError as exc:
            backup.unlink(missing_ok=True)
            raise _write_error(backup, exc) from None
    return backup


def _rename(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        raise _write_error(target, exc) from None


def _drop(backup: Path | None) -> None:
    if backup is not None:
        backup.unlink(missing_ok=True)


def _undo(backup: Path | None, dataset_file: Path) -> None:
    """Put the old dataset file back (or remove the new one if there was no old one)."""
    if backup is None:
        dataset_file.unlink(missing_ok=True)
    else:
        os.replace(backup, dataset_file)


def _write_error(path: Path, exc: OSError) -> DataError:
    if exc.errno == errno.ENOSPC:
        return DataError(f"cannot write {path}: the disk is full (no space left on device); {_UNCHANGED}")
    if isinstance(exc, PermissionError):
        return DataError(f"cannot write {path}: permission denied; check the folder's permissions; {_UNCHANGED}")
    return DataError(f"cannot write {path}: {exc.strerror or exc}; {_UNCHANGED}")


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
