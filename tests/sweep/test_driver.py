"""End-to-end sweeps on a real local Ray cluster and real SQLite storage (small data, few trials)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from sweep_support import write_directive

from tradescan.results import ResultsStore, load_run
from tradescan.results.manifest import TrialCounts
from tradescan.sweep import run_sweep
from tradescan.sweep.pool import ACTOR_DIED
from tradescan.sweep.storage import study_name

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _trials(result_dir: Path) -> pd.DataFrame:
    trials = load_run(result_dir.name, result_dir.parent.parent).trials
    return trials.sort_values(["symbol", "trial"]).reset_index(drop=True)


def test_one_and_two_workers_give_identical_trials(tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, symbols=["EURUSD", "GBPUSD"])
    one = run_sweep(directive, workers=1, data_dir=small_data_dir, results_dir=tmp_path / "r1")
    two = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r2")
    assert one.run_id == two.run_id
    assert one.status == two.status == "complete"
    trials_one, trials_two = _trials(one.run_dir), _trials(two.run_dir)
    assert len(trials_one) == 2 * 24
    pd.testing.assert_frame_equal(trials_one, trials_two)
    stage2_one = load_run(one.run_id, tmp_path / "r1").stage2
    pd.testing.assert_frame_equal(stage2_one, load_run(two.run_id, tmp_path / "r2").stage2)
    assert set(stage2_one["scenario"]) == {"A", "B", "C"}


def test_rerun_resumes_without_duplicates(tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, search={"sampler": "random", "trials": 16, "seed": 1})
    first = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    again = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    assert again.manifest.symbols["EURUSD"].trials == TrialCounts(total=16, resumed=16, ran=0, complete=16)
    pd.testing.assert_frame_equal(_trials(first.run_dir), _trials(again.run_dir))


def _count_trials(results: Path) -> int:
    journals = list(results.glob("runs/*/optuna.journal"))
    if not journals:
        return 0
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journals[0])))
    studies = [storage.get_study_id_from_name(study.study_name) for study in storage.get_all_studies()]
    return sum(len(storage.get_all_trials(study_id, deepcopy=False)) for study_id in studies)


def test_resume_after_killing_the_driver(tmp_path: Path, small_data_dir: Path, ray_cluster: object) -> None:
    import ray

    trials = 2_400  # random chunks grow to 256 trials (stage1.planned_chunk_sizes): enough left to kill it mid-way
    directive = write_directive(tmp_path, search={"sampler": "random", "trials": trials, "seed": 2}, batch_size=4)
    results = tmp_path / "r"
    script = textwrap.dedent(
        f"""
        from tradescan.sweep import run_sweep
        run_sweep({str(directive)!r}, workers=1, address={ray.get_runtime_context().gcs_address!r},
                  data_dir={str(small_data_dir)!r}, results_dir={str(results)!r})
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while _count_trials(results) < 8 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    written_before = _count_trials(results)
    assert 0 < written_before < trials
    resumed = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=results)
    summary = resumed.manifest.symbols["EURUSD"].trials
    assert summary is not None and summary.resumed >= written_before and summary.total == trials
    study = optuna.load_study(study_name=study_name(resumed.run_id, "EURUSD"), storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(resumed.storage_url)))
    numbers = [t.number for t in study.get_trials(deepcopy=False)]
    assert sorted(numbers) == list(range(trials))
    assert len(_trials(resumed.run_dir)) == trials


def test_a_raising_trial_fails_with_its_error_and_the_rest_complete(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    directive = write_directive(
        tmp_path, strategy="TEST_FLAKY", strategy_paths=[str(plugin_dir / "user_strategies")],
        search={"space": str(plugin_dir / "flaky.yaml"), "sampler": "random", "trials": 24, "seed": 3},
        stage1={"min_trades": 5},
    )
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    trials = _trials(result.run_dir)
    odd = trials["param_fast"] % 2 == 1
    assert odd.any() and (~odd).any()
    assert (trials.loc[odd, "state"] == "FAIL").all()
    assert trials.loc[odd, "error"].str.contains("odd fast=").all()
    assert trials.loc[odd, "value"].isna().all()  # never a fake score
    assert (trials.loc[~odd, "state"] == "COMPLETE").all()
    assert result.status == "complete"


def test_a_dying_actor_is_replaced_and_only_its_trial_fails(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    directive = write_directive(
        tmp_path, strategy="TEST_KILLER", strategy_paths=[str(plugin_dir / "user_strategies")],
        search={"space": str(plugin_dir / "killer.yaml"), "preset": "all", "sampler": "grid", "trials": 20},
        stage1={"min_trades": 5}, batch_size=10,
    )
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    trials = _trials(result.run_dir)
    assert list(trials["param_x"]) == list(range(1, 21))  # grid order
    died = trials[trials["param_x"] == 13].iloc[0]
    assert died["state"] == "FAIL" and died["error"] == ACTOR_DIED
    assert (trials[trials["param_x"] != 13]["state"] == "COMPLETE").all()


def test_a_stuck_trial_fails_at_the_time_limit_and_the_sweep_finishes(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    directive = write_directive(
        tmp_path, strategy="TEST_SLEEPER", strategy_paths=[str(plugin_dir / "user_strategies")],
        search={"space": str(plugin_dir / "sleeper.yaml"), "preset": "all", "sampler": "grid", "trials": 20},
        stage1={"min_trades": 5}, batch_size=10, trial_timeout_s=2,
    )
    started = time.monotonic()
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    assert time.monotonic() - started < 150  # before: never returned
    trials = _trials(result.run_dir)
    assert list(trials["param_x"]) == list(range(1, 21))
    stuck = trials[trials["param_x"] == 7].iloc[0]
    assert stuck["state"] == "FAIL" and stuck["error"] == "exceeded the 2 s trial time limit"
    assert (trials[trials["param_x"] != 7]["state"] == "COMPLETE").all()
    assert result.status == "complete"
    counts = result.manifest.symbols["EURUSD"].trials
    assert (counts.total, counts.resumed, counts.ran, counts.complete, counts.fail) == (20, 0, 20, 19, 1)


def test_a_symbol_without_data_is_blocked_and_the_other_finishes(tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, symbols=["AUDUSD", "EURUSD"], search={"trials": 8, "sampler": "random"})
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    symbols = result.manifest.symbols
    assert symbols["AUDUSD"].status == "BLOCK"
    assert "no data" in symbols["AUDUSD"].reasons[0]
    assert symbols["EURUSD"].status == "DONE"
    assert result.status == "partial"
    catalog = ResultsStore(tmp_path / "r").list_runs()
    assert catalog[result.run_id].status == "partial"


def test_a_symbol_the_registry_does_not_know_is_blocked_and_the_other_finishes(
    tmp_path: Path, small_data_dir: Path
) -> None:
    # an unknown instrument has no facts (None in the lineage): the manifest must still take it
    directive = write_directive(tmp_path, symbols=["EURUSD", "FOOBAR"], search={"trials": 8, "sampler": "random"})
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    symbols = result.manifest.symbols
    assert symbols["FOOBAR"].status == "BLOCK" and "unknown instrument" in symbols["FOOBAR"].reasons[0]
    assert symbols["EURUSD"].status == "DONE" and result.status == "partial"
    assert result.manifest.lineage is not None and result.manifest.lineage.instruments["FOOBAR"] is None
    assert load_run(result.run_id, results_dir=tmp_path / "r").manifest.symbols["EURUSD"].status == "DONE"


def test_all_failing_trials_fail_the_symbol_with_the_error(
    tmp_path: Path, small_data_dir: Path, plugin_dir: Path
) -> None:
    space = plugin_dir / "odd_only.yaml"
    space.write_text("params: {fast: {type: categorical, choices: [3, 5, 7]}}\n", encoding="utf-8")
    directive = write_directive(
        tmp_path, strategy="TEST_FLAKY", strategy_paths=[str(plugin_dir / "user_strategies")],
        symbols=["EURUSD", "GBPUSD"], search={"space": str(space), "sampler": "random", "trials": 4},
    )
    result = run_sweep(directive, workers=1, data_dir=small_data_dir, results_dir=tmp_path / "r")
    for symbol in ("EURUSD", "GBPUSD"):
        entry = result.manifest.symbols[symbol]
        assert entry.status == "FAILED" and entry.error is not None
        assert "no trial completed" in entry.error and "odd fast=" in entry.error
    assert result.status == "failed"


def test_frozen_run_refuses_a_rerun(tmp_path: Path, small_data_dir: Path) -> None:
    from tradescan.errors import TradeScanError

    directive = write_directive(tmp_path, search={"trials": 4, "sampler": "random"})
    result = run_sweep(directive, workers=1, data_dir=small_data_dir, results_dir=tmp_path / "r")
    ResultsStore(tmp_path / "r").freeze(result.run_id)
    with pytest.raises(TradeScanError, match=r"frozen \(immutable\)"):
        run_sweep(directive, workers=1, data_dir=small_data_dir, results_dir=tmp_path / "r")


def test_best_finalist_reproduces_through_backtest(tmp_path: Path, small_data_dir: Path) -> None:
    import yaml

    import tradescan
    from tradescan.cli import main

    directive = write_directive(tmp_path, search={"trials": 12, "sampler": "random", "seed": 9})
    result = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "r")
    out = tmp_path / "best.yaml"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["top", result.run_id, "--k", "1", "--format", "yaml", "--results-dir", str(tmp_path / "r")]) == 0
    out.write_text(buffer.getvalue(), encoding="utf-8")
    best = yaml.safe_load(out.read_text(encoding="utf-8"))[0]
    bars = tradescan.data.load(best["symbol"], best["timeframe"], best["start"], best["end"], data_dir=small_data_dir)
    settings = best["settings"]
    replay = tradescan.backtest(bars, best["strategy"], best["params"], symbol=best["symbol"],
                                scenarios=tuple(settings["scenarios"]), broker=settings["broker"],
                                capital=settings["capital"], max_hold_bars=settings["max_hold_bars"],
                                stops_from=settings["stops_from"])
    for scenario in ("A", "B", "C"):
        assert replay.metrics[scenario]["sharpe"] == best["metrics"][scenario]["sharpe"]
        assert replay.metrics[scenario]["trades"] == best["metrics"][scenario]["trades"]
        assert replay.metrics[scenario]["net_pnl"] == best["metrics"][scenario]["net_pnl"]
