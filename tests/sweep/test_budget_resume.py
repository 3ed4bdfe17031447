"""Budget-only fields: raising ``search.trials`` keeps the run id and extends the same study.

Real sweeps on a real local Ray cluster (one worker) and real SQLite storage, on 3,000 synthetic bars.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sweep_support import write_directive

from tradescan.results import load_run
from tradescan.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("ray_cluster")

TRIAL_COLUMNS = ["trial", "state", "value", "param_ema_fast", "param_ema_slow", "param_adx_th", "param_k_sl"]


def _trials(run_dir: Path) -> pd.DataFrame:
    frame = load_run(run_dir.name, run_dir.parent.parent).trials.sort_values("trial").reset_index(drop=True)
    return frame[TRIAL_COLUMNS]


def _sweep(tmp_path: Path, data_dir: Path, results: str, trials: int, sampler: str = "tpe") -> object:
    directive = write_directive(tmp_path, search={"sampler": sampler, "trials": trials, "seed": 5})
    return run_sweep(directive, workers=1, data_dir=data_dir, results_dir=tmp_path / results)


def test_raising_tpe_trials_resumes_the_same_run(tmp_path: Path, small_data_dir: Path) -> None:
    small = _sweep(tmp_path, small_data_dir, "r", trials=12)
    assert small.manifest.symbols["EURUSD"].trials.total == 12
    first_trials = _trials(small.run_dir)

    raised = _sweep(tmp_path, small_data_dir, "r", trials=20)
    assert raised.run_id == small.run_id
    counts = raised.manifest.symbols["EURUSD"].trials
    assert (counts.total, counts.resumed, counts.ran) == (20, 12, 8)
    extended = _trials(raised.run_dir)
    assert list(extended["trial"]) == list(range(20))
    pd.testing.assert_frame_equal(extended.iloc[:12], first_trials)
    assert raised.manifest.directive["search"]["trials"] == 20
    assert raised.manifest.lineage.budget["search.trials"] == 20

    # a fresh 20-trial run proposes the same first 12 trials (TPE asks in fixed batches)
    fresh = _sweep(tmp_path, small_data_dir, "fresh", trials=20)
    assert fresh.run_id == small.run_id
    pd.testing.assert_frame_equal(_trials(fresh.run_dir).iloc[:12], first_trials)

    # a smaller budget again uses the first 12 stored trials and runs none
    again = _sweep(tmp_path, small_data_dir, "r", trials=12)
    counts = again.manifest.symbols["EURUSD"].trials
    assert (counts.total, counts.resumed, counts.ran) == (12, 12, 0)
    pd.testing.assert_frame_equal(_trials(again.run_dir), first_trials)


def test_raised_random_trials_equal_a_fresh_run_of_the_larger_budget(tmp_path: Path, small_data_dir: Path) -> None:
    _sweep(tmp_path, small_data_dir, "r", trials=6, sampler="random")
    raised = _sweep(tmp_path, small_data_dir, "r", trials=14, sampler="random")
    counts = raised.manifest.symbols["EURUSD"].trials
    assert (counts.total, counts.resumed, counts.ran) == (14, 6, 8)
    fresh = _sweep(tmp_path, small_data_dir, "fresh", trials=14, sampler="random")
    pd.testing.assert_frame_equal(_trials(raised.run_dir), _trials(fresh.run_dir))
