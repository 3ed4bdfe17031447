"""The study storage: Optuna's public API only, trials written as Optuna would, failures never silent."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tradescan.errors import TradeScanError
from tradescan.sweep.journal import JournalFile
from tradescan.sweep.storage import (
    UNPARSEABLE_URL,
    SlowStorageWarning,
    StorageWriteError,
    TrialWriter,
    finished_trials,
    open_storage,
    open_study,
    redact,
    storage_kind,
    write_error,
)


def _memory_trials(n_trials: int) -> list[optuna.trial.FrozenTrial]:
    """Finished trials as stage 1 makes them: COMPLETE (one with an infinite metric), FAIL, a None choice."""
    memory = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    distributions = {"x": optuna.distributions.FloatDistribution(0, 1),
                     "k": optuna.distributions.CategoricalDistribution([None, 1.5, "a"])}
    for index in range(n_trials):
        trial = memory.ask(distributions)
        trial.set_user_attr("metrics", {"trades": index, "profit_factor": "inf" if index % 5 == 0 else 1.25})
        if index % 7 == 3:
            trial.set_user_attr("error", "boom")
            memory.tell(trial, state=TrialState.FAIL)
        else:
            memory.tell(trial, float(index))
    return memory.trials


def _write(study: optuna.Study, trials: list[optuna.trial.FrozenTrial]) -> int:
    writer = TrialWriter(study)
    for start in range(0, len(trials), 8):
        writer.put(trials[start : start + 8])
    return writer.close()


def _same(stored: list[optuna.trial.FrozenTrial], original: list[optuna.trial.FrozenTrial]) -> None:
    assert [t.number for t in stored] == list(range(len(original)))
    for copy, trial in zip(stored, original, strict=True):
        assert (copy.state, copy.value, copy.params, copy.user_attrs) == (
            trial.state, trial.value, trial.params, trial.user_attrs)


def test_the_journal_writer_stores_trials_that_optunas_own_backend_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "optuna.journal"
    original = _memory_trials(30)
    assert _write(open_study(str(path), "run/EURUSD"), original) == 30
    # The stock backend (what optuna-dashboard opens) reads the same file.
    stock = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    _same(finished_trials(optuna.load_study(study_name="run/EURUSD", storage=stock)), original)


def test_the_journal_is_not_synced_to_disk_per_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync, calls = os.fsync, []

    def counting_fsync(descriptor: int) -> None:
        calls.append(descriptor)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    study = open_study(str(tmp_path / "optuna.journal"), "run/EURUSD")
    assert _write(study, _memory_trials(300)) == 300
    # Optuna's JournalFileBackend would fsync 300 times; JournalFile syncs every SYNC_INTERVAL_S at most.
    assert len(calls) < 20, len(calls)
    assert isinstance(open_storage(str(tmp_path / "optuna.journal")), optuna.storages.JournalStorage)


def test_journal_file_appends_records_in_optunas_format(tmp_path: Path) -> None:
    backend = JournalFile(tmp_path / "j.journal")
    backend.append_logs([{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}])
    backend.close()
    assert (tmp_path / "j.journal").read_bytes() == b'{"op_code":0,"worker_id":"w","study_name":"s","directions":[1]}\n'
    stock = optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.journal"))
    assert list(stock.read_logs(0)) == [{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}]


def test_an_rdb_url_works_and_says_loudly_that_it_is_slow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    original = _memory_trials(12)
    with pytest.warns(SlowStorageWarning, match=r"is an RDB: Optuna writes it one trial per transaction"):
        study = open_study(url, "run/EURUSD")
    assert _write(study, original) == 12
    _same(finished_trials(optuna.load_study(study_name="run/EURUSD", storage=url)), original)


def test_disk_full_while_writing_trials_is_named(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    try:
        study = open_study(str(mount / "optuna.journal"), "run/EURUSD")
        writer = TrialWriter(study)
        writer.put(_memory_trials(400))
        with pytest.raises(StorageWriteError, match=r"^disk full while writing trials to study run/EURUSD: free some "
                           r"space and run the sweep again \(the trials written so far are kept"):
            writer.close()
        assert 0 < writer.written < 400
        with pytest.raises(StorageWriteError, match="disk full"):
            writer.put(_memory_trials(1))
        # The failed record was cut off again: the journal holds exactly the trials written, readable.
        backend = optuna.storages.journal.JournalFileBackend(str(mount / "optuna.journal"))
        stock = optuna.storages.JournalStorage(backend)
        assert len(optuna.load_study(study_name="run/EURUSD", storage=stock).trials) == writer.written
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def test_write_errors_name_a_full_disk_even_when_wrapped() -> None:
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as exc:
            raise optuna.exceptions.StorageInternalError("invalid data in the commit") from exc
    except optuna.exceptions.StorageInternalError as wrapped:
        assert str(write_error(wrapped, "study s")).startswith("disk full while writing trials to study s")
    assert str(write_error(OSError(errno.ENOSPC, "No space left"), "x")).startswith("disk full while writing")
    assert str(write_error(OSError(errno.EACCES, "no"), "x")) == "cannot write trials to x: permission denied"


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("postgresql://user:secret@db.example/optuna", "postgresql://user:***@db.example/optuna"),
        ("sqlite:///results/optuna.db", "sqlite:///results/optuna.db"),
        ("postgresql://user:secret@host:notaport/db", UNPARSEABLE_URL),
        ("mysql+pymysql://u:secret@[::1/db", UNPARSEABLE_URL),
        ("://user:secret@", UNPARSEABLE_URL),
        ("results/runs/R-1/optuna.journal", "results/runs/R-1/optuna.journal"),
    ],
)
def test_redact_hides_passwords_and_fails_closed(spec: str, shown: str) -> None:
    assert redact(spec) == shown
    assert "secret" not in redact(spec)


def test_storage_kind() -> None:
    assert [storage_kind(s) for s in ("sqlite:///x.db", "postgresql://h/db", "runs/x/optuna.journal")] == [
        "rdb", "rdb", "journal"]


def test_bad_storages_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(TradeScanError, match=r"the Optuna storage nosuchdb://u:\*\*\*@h/x: Can't load plugin"):
        open_storage("nosuchdb://u:secret@h/x")
    journal = tmp_path / "broken.journal"
    journal.write_bytes(b"{not json}\n" + b'{"op_code":0}\n')
    with pytest.raises(TradeScanError, match=rf"{journal}: not a readable Optuna journal \("):
        open_storage(str(journal))
