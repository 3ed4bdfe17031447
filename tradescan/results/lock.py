"""One writer per run: ``runs/<run_id>/sweep.lock`` names the process that writes the run.

The lock is an exclusive ``flock`` on the lock file, held for as long as the sweep runs; the file
holds the holder's pid, host, start time and command so that a second sweep of the same run refuses
with a message naming it. The kernel drops the ``flock`` when its process dies, however it dies, so
a lock file left by a killed process (its content still there, no ``flock`` on it) is stale: it is
taken over, and the new holder says whose lock it took over. A lock file naming another host whose
``flock`` is free is not taken over (``flock`` may not reach across hosts on network file systems):
the message says to delete it once that process is gone. Without ``fcntl`` (Windows) the file is
created exclusively and a left-over one must be deleted by hand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tradescan.results.errors import RunLockedError
from tradescan.results.files import cut, write_failed

LOCK_FILE = "sweep.lock"
_MAX_LOCK_BYTES = 4096


@dataclass(frozen=True)
class LockHolder:
    """The process a lock file names."""

    pid: int
    host: str
    started: str
    command: str

    def describe(self) -> str:
        """Return e.g. ``pid 4242 on host lab1 since 2025-01-02T10:00:00+00:00 (tradescan sweep d.yaml)``."""
        return f"pid {self.pid} on host {self.host} since {self.started} ({cut(self.command, 120)})"

    def is_dead_here(self) -> bool:
        """Return whether this host is the holder's and its pid no longer runs."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # it runs, under another user
            return False
        return False


def current_holder() -> LockHolder:
    """Return the description of this process as a lock holder."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return LockHolder(os.getpid(), socket.gethostname(), started, " ".join(sys.argv) or sys.executable)


def _parse_holder(raw: bytes) -> LockHolder | None:
    if not raw.strip():
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started"]), str(data["command"]))
    except (ValueError, KeyError, TypeError):
        return LockHolder(-1, "unknown", "unknown", f"unreadable lock file content {raw[:60]!r}")


def _read_holder(descriptor: int) -> LockHolder | None:
    os.lseek(descriptor, 0, os.SEEK_SET)
    return _parse_holder(os.read(descriptor, _MAX_LOCK_BYTES))


def _write_holder(descriptor: int, holder: LockHolder) -> None:
    payload = json.dumps(holder.__dict__).encode("utf-8") + b"\n"
    os.ftruncate(descriptor, 0)
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.write(descriptor, payload)
    os.fsync(descriptor)


def running_holder(run_dir: Path) -> LockHolder | None:
    """Return the live process whose lock file ``run_dir`` holds, without taking the lock; else ``None``.

    For readers (``top``): the lock file exists only while a writer holds it (release removes it), so a
    file naming a process that still runs here, or another host's process, means a writer is at work.
    A file left by a dead process of this host is stale and gives ``None``.
    """
    try:
        raw = (run_dir / LOCK_FILE).read_bytes()[:_MAX_LOCK_BYTES]
    except OSError:
        return None
    holder = _parse_holder(raw)
    if holder is None:
        return LockHolder(-1, "unknown", "unknown", "a process that has not written its name yet")
    return None if holder.is_dead_here() else holder


class RunLock:
    """The exclusive right to write one run; use as a context manager.

    Attributes:
        took_over: the holder of a stale lock this lock replaced (``None`` when there was none).
    """

    def __init__(self, run_dir: Path, run_id: str) -> None:
        self.path = run_dir / LOCK_FILE
        self.run_id = run_id
        self.took_over: LockHolder | None = None
        self._descriptor: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise ``RunLockedError`` naming the live holder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._descriptor = self._acquire_flock() if _has_flock() else self._acquire_exclusive()
        except OSError as exc:
            raise write_failed(self.path, exc, kept="no sweep was started") from None

    def release(self) -> None:
        """Give the lock up and remove the lock file."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # before closing: no one can lock the old file after we let go
        os.close(descriptor)

    def takeover_note(self) -> str | None:
        """Return a line saying whose stale lock was taken over, if any."""
        if self.took_over is None:
            return None
        state = "no longer running" if self.took_over.is_dead_here() else "it no longer held the lock"
        return f"took over the stale lock of run {self.run_id} left by {self.took_over.describe()} ({state})"

    # --- POSIX: flock ------------------------------------------------------------------------------

    def _acquire_flock(self) -> int:
        import fcntl

        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(descriptor)
                os.close(descriptor)
                raise self._locked(holder) from None
            if self._same_file(descriptor):
                break
            os.close(descriptor)  # the holder removed this file as we opened it: try the new one
        previous = _read_holder(descriptor)
        if previous is not None and previous.host not in (socket.gethostname(), "unknown"):
            os.close(descriptor)
            raise self._locked(previous, other_host=True)
        _write_holder(descriptor, current_holder())
        self.took_over = previous
        return descriptor

    def _same_file(self, descriptor: int) -> bool:
        try:
            return os.fstat(descriptor).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    # --- elsewhere: an exclusively created file ----------------------------------------------------

    def _acquire_exclusive(self) -> int:
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise self._locked(_parse_holder(self.path.read_bytes()[:_MAX_LOCK_BYTES]), other_host=True) from None
        _write_holder(descriptor, current_holder())
        return descriptor

    def _locked(self, holder: LockHolder | None, *, other_host: bool = False) -> RunLockedError:
        who = holder.describe() if holder else "another process (it has not written its name yet)"
        if other_host:
            return RunLockedError(
                f"run {self.run_id} is locked by {who}; if that process is gone, delete {self.path}"
            )
        return RunLockedError(
            f"run {self.run_id} is being written by {who}; wait for it to finish or stop it "
            f"(lock file {self.path})"
        )


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True
