"""A run's tables and manifest are written as one commit: a reader sees the old set or the new set.

POSIX can rename one file atomically, not several, so a commit goes through a staging folder:

1. **Stage.** Every new table and the new manifest are written into ``runs/<id>/.commit-<token>/``
   and flushed to disk. Each Parquet file carries the commit ``token`` in its metadata; the manifest
   lists, per table, the token of the commit that wrote it. A failure here (disk full, permissions)
   removes the staging folder: the run's files were never touched.
2. **Decide.** An empty ``READY`` file is created in the staging folder and the folder is flushed.
   From this instant the commit has happened: a crash later is rolled forward, never back.
3. **Publish.** The tables (a per-symbol table's part ``<table>/<SYMBOL>.parquet`` into that
   folder) are renamed into the run folder, the manifest last, then the staging
   folder is removed. ``publish`` is idempotent; whoever finds a ``READY`` staging folder (the next
   writer, under the run lock) completes it.

Readers (``overlay`` + the token check in ``tradescan.results.run``) read a file from a ``READY``
staging folder when it is still there, else from the run folder, and accept a table only when its
token is the one the manifest lists for it; during the milliseconds of step 3 a mismatch can be seen,
and the reader reads again. So a reader never gets tables newer than its manifest nor half of a set.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from tradescan.results.files import fsync_folder, write_bytes, write_failed
from tradescan.results.tables import MANIFEST_FILE

STAGING_PREFIX = ".commit-"
READY_MARKER = "READY"

Writer = Callable[[Path], None]


def new_token() -> str:
    """Return a fresh commit token: 16 hex digits of the time in ns, then 8 random ones (sorts by time)."""
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


def commit(run_dir: Path, tables: Mapping[str, Writer], manifest: bytes, token: str) -> None:
    """Write ``tables`` (file name -> writer of that file) and ``manifest`` as one commit.

    Raises:
        ResultsWriteError: a file could not be staged; the run folder is as it was.
    """
    publish(run_dir, stage(run_dir, tables, manifest, token))


def stage(run_dir: Path, tables: Mapping[str, Writer], manifest: bytes, token: str) -> Path:
    """Steps 1 and 2: write every file into a staging folder, then mark it ``READY``; return the folder."""
    staging = run_dir / f"{STAGING_PREFIX}{token}"
    try:
        staging.mkdir(parents=True)
        folders = set()
        for name, write in tables.items():
            target = staging / name
            if target.parent != staging and target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)  # a per-symbol table's folder
                folders.add(target.parent)
            write(target)
        write_bytes(staging / MANIFEST_FILE, manifest)
        for folder in folders:
            fsync_folder(folder)
        fsync_folder(staging)
        write_bytes(staging / READY_MARKER, b"")
        fsync_folder(staging)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failed(run_dir, exc, kept="the run's files were not changed") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def publish(run_dir: Path, staging: Path) -> None:
    """Move a decided commit's files into ``run_dir`` (tables first, manifest last); idempotent."""
    try:
        for entry in sorted(staging.iterdir()):
            if entry.is_dir():
                _publish_folder(entry, run_dir / entry.name)
            elif entry.name not in (MANIFEST_FILE, READY_MARKER):
                os.replace(entry, run_dir / entry.name)
        with contextlib.suppress(FileNotFoundError):  # an earlier publish got this far
            os.replace(staging / MANIFEST_FILE, run_dir / MANIFEST_FILE)
        fsync_folder(run_dir)
    except FileNotFoundError:
        return  # another process published it meanwhile
    except OSError as exc:
        raise write_failed(run_dir, exc, kept="the commit is complete in its staging folder and is "
                           "finished by the next sweep of this run") from None
    shutil.rmtree(staging, ignore_errors=True)


def _publish_folder(staged: Path, target: Path) -> None:
    """Move a staged per-symbol table folder's files into the run's folder of that table."""
    target.mkdir(exist_ok=True)
    for part in sorted(staged.iterdir()):
        os.replace(part, target / part.name)
    fsync_folder(target)


def staged_commits(run_dir: Path) -> list[Path]:
    """Return the run's staging folders of decided (``READY``) commits, oldest first."""
    if not run_dir.is_dir():
        return []
    return sorted(p for p in run_dir.glob(f"{STAGING_PREFIX}*") if (p / READY_MARKER).exists())


def recover(run_dir: Path) -> None:
    """Finish decided commits and drop undecided staging folders (call under the run lock only)."""
    if not run_dir.is_dir():
        return
    for staging in sorted(run_dir.glob(f"{STAGING_PREFIX}*")):
        if (staging / READY_MARKER).exists():
            publish(run_dir, staging)
        else:
            shutil.rmtree(staging, ignore_errors=True)  # its writer died before the decision


def overlay(run_dir: Path, name: str) -> Path:
    """Return where a reader finds ``name`` now: a decided staging folder's copy, else the run's."""
    for staging in reversed(staged_commits(run_dir)):
        candidate = staging / name
        if candidate.exists():
            return candidate
    return run_dir / name
