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
from tradescan.sweep.journal import BulkJournalStorage, JournalFile
from tradescan.sweep.storage import (
    JOURNAL_APPEND_TRIALS,
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


def _every_field(trial: optuna.trial.FrozenTrial) -> tuple[object, ...]:
    return (trial.number, trial.state, trial.value, trial.values, trial.params, trial.distributions,
            trial.user_attrs, trial.system_attrs, trial.intermediate_values, trial.datetime_start,
            trial.datetime_complete)


def test_bulk_records_are_the_records_optuna_writes_for_add_trial(tmp_path: Path) -> None:
    original = _memory_trials(9)
    original[2].system_attrs = {"origin": "memory"}  # system attributes and intermediate values travel too
    original[4].intermediate_values = {0: 0.5, 3: 1.5}
    own = optuna.create_study(study_name="s", direction="maximize", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "own.journal"))))
    for trial in original:
        own.add_trial(trial)
    bulk = BulkJournalStorage(JournalFile(tmp_path / "bulk.journal"))
    study_id = bulk.create_new_study([optuna.study.StudyDirection.MAXIMIZE], "s")
    bulk.add_finished_trials(study_id, original)
    bulk.journal.close()
    stock_read = optuna.storages.journal.JournalFileBackend
    own_logs = list(stock_read(str(tmp_path / "own.journal")).read_logs(0))
    bulk_logs = list(stock_read(str(tmp_path / "bulk.journal")).read_logs(0))
    assert len(bulk_logs) == len(own_logs) == 10  # create study + 9 trials, one record each
    for ours, optunas in zip(bulk_logs[1:], own_logs[1:], strict=True):
        assert ours["worker_id"] != optunas["worker_id"]
        # the same keys in the same order, the same values: the record create_new_trial writes
        assert list(ours) == list(optunas)
        assert {k: v for k, v in ours.items() if k != "worker_id"} == {
            k: v for k, v in optunas.items() if k != "worker_id"}


def test_bulk_appended_trials_read_back_through_optunas_journal_storage_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "optuna.journal"
    original = _memory_trials(3 * JOURNAL_APPEND_TRIALS + 5)
    study = open_study(str(path), "run/EURUSD")
    other = open_study(str(path), "run/GBPUSD")  # two studies in one file, appends interleaved
    writer, other_writer = TrialWriter(study), TrialWriter(other)
    for start in range(0, len(original), 40):
        writer.put(original[start : start + 40])
        other_writer.put(original[start : start + 40][::-1][:3])
    assert writer.close() == len(original)
    other_written = other_writer.close()
    assert other_written == 3 * len(range(0, len(original), 40))
    assert path.read_bytes().count(b"\n") == 2 + len(original) + other_written  # two studies, one line per trial
    stock = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    stored = finished_trials(optuna.load_study(study_name="run/EURUSD", storage=stock))
    assert [_every_field(t) for t in stored] == [_every_field(t) for t in original]
    # Resuming reads them as a prefix and appends after them.
    resumed = open_study(str(path), "run/EURUSD")
    assert [t.number for t in finished_trials(resumed)] == list(range(len(original)))
    more = TrialWriter(resumed)
    more.put(original[:2])
    assert more.close() == 2
    again = optuna.load_study(study_name="run/EURUSD", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))))
    assert [t.number for t in finished_trials(again)] == list(range(len(original) + 2))
    assert _every_field(finished_trials(again)[-1])[1:] == _every_field(original[1])[1:]


def test_the_journal_writer_appends_a_put_in_few_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    appends: list[int] = []
    real_append = JournalFile.append_logs

    def counting_append(self: JournalFile, logs: list[dict[str, object]]) -> None:
        appends.append(len(logs))
        real_append(self, logs)

    monkeypatch.setattr(JournalFile, "append_logs", counting_append)
    study = open_study(str(tmp_path / "optuna.journal"), "run/EURUSD")
    appends.clear()
    writer = TrialWriter(study)
    writer.put(_memory_trials(2 * JOURNAL_APPEND_TRIALS + 1))
    assert writer.close() == 2 * JOURNAL_APPEND_TRIALS + 1
    assert appends == [JOURNAL_APPEND_TRIALS, JOURNAL_APPEND_TRIALS, 1]


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
