"""The guard stage end to end on a real local Ray cluster, real SQLite Optuna storage and real Parquet.

One sweep with guards (2 workers) and one without (``skip_guards``) then validated with 1 worker: the
numbers must be identical, which checks both the sweep/validate paths and the worker count.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sweep_support import write_directive

import tradescan
from tradescan.directive import Directive
from tradescan.guards import GuardSettings
from tradescan.preflight import prepare
from tradescan.results.tables import GUARD_SERIES, GUARDS, WALK_FORWARD
from tradescan.results.trial_returns import read_trial_returns, write_trial_returns
from tradescan.sweep import run_sweep
from tradescan.sweep.evaluator import daily_returns
from tradescan.sweep.guard_stage import FinalistInput, SymbolGuards, _mc2, split_trade_costs
from tradescan.sweep.validate import validate_run

pytestmark = pytest.mark.usefixtures("ray_cluster")

GUARDS_SECTION: dict[str, Any] = {
    "preset": "validate",
    "seed": 11,
    "walk_forward": {"folds": 3, "trials_per_fold": 8},
    "permutation": {"n_permutations": 4, "search_trials": 8},
    "bootstrap": {"n_resamples": 200, "min_trades": 100_000},  # cannot be computed: fails with its reason
    "pbo": {"n_splits": 8},
    "mc1": {"n_paths": 50},
    "mc2": {"n_paths": 50},
}
SEARCH = {"sampler": "random", "trials": 16, "seed": 5}
VALIDATE_GUARDS = ("bootstrap_pf", "dsr", "mc_pvalue", "pbo", "regime_mismatch", "sensitivity", "sharpe_oos",
                   "stress_sharpe", "top10_share", "trades_oos", "wfe")


def test_daily_returns_at_each_days_last_bar() -> None:
    equity = np.array([100.0, 101.0, 102.0, 99.0, 110.0])
    # days end at bars 1, 3, 4: values 101, 99, 110 against 100, 101, 99
    np.testing.assert_allclose(daily_returns(equity, np.array([1, 3, 4]), 100.0), [0.01, 99 / 101 - 1, 110 / 99 - 1])


def test_trial_returns_file_round_trip_and_extension(tmp_path: Path) -> None:
    days = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]")
    write_trial_returns(tmp_path, "EURUSD", days, {2: np.array([0.1, 0.0, -0.1]), 0: np.array([0.0, 0.2, 0.0])})
    write_trial_returns(tmp_path, "EURUSD", days, {5: np.array([0.5, 0.5, 0.5])})  # a resumed sweep's new trials
    frame = read_trial_returns(tmp_path, "EURUSD")
    assert list(frame.columns) == ["t0", "t2", "t5"]
    assert frame.index.name == "day" and len(frame) == 3
    assert all(frame[c].dtype == np.float32 for c in frame.columns)
    assert frame["t2"].tolist() == pytest.approx([0.1, 0.0, -0.1])
    with pytest.raises(ValueError, match="EURUSD trial 7: 2 daily returns for 3 days"):
        write_trial_returns(tmp_path, "EURUSD", days, {7: np.zeros(2)})


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, small_data_dir: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("guarded")
    directive = write_directive(folder, search=SEARCH, guards=GUARDS_SECTION)
    storage = f"sqlite:///{folder / 'optuna.db'}"
    swept = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=folder / "r1", storage=storage)
    plain = run_sweep(directive, workers=2, data_dir=small_data_dir, results_dir=folder / "r2", skip_guards=True,
                      storage=f"sqlite:///{folder / 'optuna2.db'}")
    return {"swept": swept, "plain": plain, "data": small_data_dir, "folder": folder}


def test_sweep_with_guards_writes_every_guard_of_every_finalist(guarded: dict[str, Any]) -> None:
    swept = guarded["swept"]
    assert swept.status == "complete"
    run = tradescan.load_run(swept.run_id, swept.run_dir.parent.parent)
    guards = run.guards
    assert list(guards.columns) == list(GUARDS.columns)
    assert sorted(set(guards["guard"])) == list(VALIDATE_GUARDS)
    assert sorted(set(guards["rank"])) == [1, 2]
    assert len(guards) == 2 * len(VALIDATE_GUARDS)
    assert list(run.guard_series.columns) == list(GUARD_SERIES.columns)
    assert {"mc_perm_sharpe", "sensitivity_value", "pbo_logit", "wf_oos_equity", "mc1_max_drawdown",
            "mc2_net_pnl"} <= set(run.guard_series["series"])
    folds = run.walk_forward
    assert list(folds.columns) == list(WALK_FORWARD.columns) and folds["fold"].tolist() == [0, 1, 2]
    assert (folds["train_end"] < folds["test_start"]).all()
    section = run.manifest.guards
    assert section["preset"] == "validate" and section["seed"] == 11
    entry = section["symbols"]["EURUSD"]
    assert entry["n_trials"] == 16 and 1.0 <= entry["n_eff_trials"] <= 16.0
    assert [f["rank"] for f in entry["finalists"]] == [1, 2]
    assert entry["not_reported"] == {}  # MC1 and MC2 were drawn for both finalists


def test_trial_returns_cover_every_complete_trial(guarded: dict[str, Any]) -> None:
    swept = guarded["swept"]
    run = tradescan.load_run(swept.run_id, swept.run_dir.parent.parent)
    frame = run.trial_returns("EURUSD")
    complete = run.trials[run.trials["state"] == "COMPLETE"]["trial"].tolist()
    assert [int(c[1:]) for c in frame.columns] == sorted(complete)
    # a trial's Sharpe from its stored returns is its stage-1 Sharpe (float32 rounding only)
    first = run.trials[run.trials["trial"] == complete[0]].iloc[0]
    series = frame[f"t{complete[0]}"].to_numpy(np.float64)
    sharpe = series.mean() / series.std(ddof=1) * math.sqrt(252)
    assert sharpe == pytest.approx(float(first["sharpe"]), rel=1e-4)


def test_a_guard_that_cannot_be_computed_fails_with_its_reason(guarded: dict[str, Any]) -> None:
    run = tradescan.load_run(guarded["swept"].run_id, guarded["swept"].run_dir.parent.parent)
    row = run.guards[(run.guards["guard"] == "bootstrap_pf") & (run.guards["rank"] == 1)].iloc[0]
    assert not row["passed"] and math.isnan(row["value"]) and bool(row["critical"])
    assert row["detail"].startswith("cannot be computed: ") and "fewer than 100000" in row["detail"]
    failed = run.manifest.guards["symbols"]["EURUSD"]["finalists"][0]["failed"]
    assert "bootstrap_pf" in failed


def test_no_finalist_of_a_market_without_edge_is_prod_ready(guarded: dict[str, Any]) -> None:
    # the synthetic bars are a random walk (regime-switching drift that no rule can know in advance)
    entry = guarded["swept"].manifest.guards["symbols"]["EURUSD"]
    assert not any(f["prod_ready"] for f in entry["finalists"])


def test_validate_reproduces_the_sweeps_numbers_with_one_worker(guarded: dict[str, Any]) -> None:
    swept, plain = guarded["swept"], guarded["plain"]
    assert plain.run_id == swept.run_id  # guard settings are not part of the run id
    assert not plain.manifest.guards
    result = validate_run(plain.run_id, workers=1, data_dir=guarded["data"], results_dir=plain.run_dir.parent.parent)
    assert result.ran == ("EURUSD",)
    one = tradescan.load_run(plain.run_id, plain.run_dir.parent.parent)
    two = tradescan.load_run(swept.run_id, swept.run_dir.parent.parent)
    pd.testing.assert_frame_equal(one.guards, two.guards)
    pd.testing.assert_frame_equal(one.guard_series, two.guard_series)
    pd.testing.assert_frame_equal(one.walk_forward, two.walk_forward)
    drop = ("seconds",)
    strip = {k: v for k, v in one.manifest.guards["symbols"]["EURUSD"].items() if k not in drop}
    assert strip == {k: v for k, v in two.manifest.guards["symbols"]["EURUSD"].items() if k not in drop}
    again = validate_run(plain.run_id, workers=1, data_dir=guarded["data"], results_dir=plain.run_dir.parent.parent)
    assert again.ran == () and again.skipped == ("EURUSD",)  # resumable: same settings, nothing to do
    assert again.as_json() == result.as_json()


def test_mc2_samples_per_finalist_and_exact_at_unit_multipliers(guarded: dict[str, Any]) -> None:
    swept = guarded["swept"]
    run = tradescan.load_run(swept.run_id, swept.run_dir.parent.parent)
    series = run.guard_series[run.guard_series["series"] == "mc2_net_pnl"]
    for rank in (1, 2):
        mine = series[series["rank"] == rank]
        assert mine["i"].tolist() == list(range(50))  # n_paths of GUARDS_SECTION
        assert mine["value"].nunique() > 1  # the multipliers do vary the costs
    plan = prepare(Directive.model_validate(run.manifest.directive), data_dir=guarded["data"])
    trades = run.trades[(run.trades["symbol"] == "EURUSD") & (run.trades["rank"] == 1)
                        & (run.trades["scenario"] == plan.directive.stage1.scenario)]
    assert len(trades) > 0 and (trades["cost"] > trades["commission"]).any()
    finalist = FinalistInput(1, 0, {}, {}, trades["pnl"].to_numpy(np.float64), trades)

    def samples(**mc2: Any) -> np.ndarray:
        out = SymbolGuards()
        settings = GuardSettings.model_validate({"seed": 11, "mc2": {"n_paths": 50, **mc2}})
        _mc2("EURUSD", finalist, plan, settings, out)
        return np.array([row["value"] for row in out.series_rows])

    # the same seed gives the stored samples again
    stored = series[series["rank"] == 1].sort_values("i")["value"].to_numpy()
    np.testing.assert_array_equal(samples(), stored)
    # multipliers fixed at 1: every path is the finalist's net PnL (float rounding of the split only)
    fixed = samples(spread_mult_range=[1.0, 1.0], slippage_mult_range=[1.0, 1.0])
    assert len(fixed) == 50
    assert fixed == pytest.approx(np.full(50, trades["pnl"].sum()), rel=1e-12, abs=1e-9)
    # spread alone doubled: the net PnL falls by exactly the trades' spread cost
    spread = split_trade_costs(trades, plan.backtest.broker.symbol_spread("EURUSD"),
                               plan.backtest.broker.scenario(plan.directive.stage1.scenario).spread_mult)
    doubled = samples(spread_mult_range=[2.0, 2.0], slippage_mult_range=[1.0, 1.0])
    assert doubled == pytest.approx(np.full(50, trades["pnl"].sum() - spread.spread_cost.sum()), rel=1e-12, abs=1e-9)


def test_tpe_guard_searches_give_the_same_numbers_on_one_and_two_workers(
    tmp_path: Path, small_data_dir: Path
) -> None:
    # TPE's asks depend on its tells: the streamed searches must keep one schedule whatever the workers
    guards = {**GUARDS_SECTION, "walk_forward": {"folds": 2, "trials_per_fold": 8},
              "permutation": {"n_permutations": 3, "search_trials": 8}}
    directive = write_directive(tmp_path, search={"sampler": "tpe", "trials": 12, "seed": 5}, guards=guards,
                                batch_size=4)  # two TPE batches per search
    runs = []
    for workers in (1, 2):
        result = run_sweep(directive, workers=workers, data_dir=small_data_dir, results_dir=tmp_path / f"r{workers}")
        runs.append(tradescan.load_run(result.run_id, result.run_dir.parent.parent))
    one, two = runs
    pd.testing.assert_frame_equal(one.guards, two.guards)
    pd.testing.assert_frame_equal(one.guard_series, two.guard_series)
    pd.testing.assert_frame_equal(one.walk_forward, two.walk_forward)
    permuted = two.guard_series[(two.guard_series["series"] == "mc_perm_sharpe") & (two.guard_series["rank"] == 1)]
    assert len(permuted) == 3 and permuted["value"].notna().all()
    assert len(two.walk_forward) == 2 and (two.walk_forward["params"] != "{}").all()
