"""The guard stage's work stream without Ray: the statistics job and the searches' ask/tell schedules.

The end-to-end checks (a sweep on 2 workers and ``validate`` on 1 give identical guard files) are in
``test_guard_stage.py``; these pin the rules that make that hold whatever order results come back in.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from sweep_support import write_directive

from tradescan import data
from tradescan.guards import GuardEvidence, GuardSettings, RegimeCheck, TradeSample, evaluate_guards, regime_mismatch
from tradescan.guards.stats import regime_live
from tradescan.preflight import SweepPlan, prepare
from tradescan.regime import RegimeSettings, regime_codes
from tradescan.sweep.guard_search import SearchOutcome, run_tpe_search
from tradescan.sweep.guard_stage import (
    PLANNED_CHUNK,
    StatisticsFinalist,
    StatisticsWork,
    _deflation,
    _job_trials,
    _Search,
    _Searcher,
    _trial_returns,
    run_statistics,
)
from tradescan.sweep.pool import TrialLost

STATISTICS_GUARDS = ("bootstrap_pf", "dsr", "pbo", "regime_mismatch", "top10_share")
SETTINGS = GuardSettings.model_validate({"seed": 4, "bootstrap": {"n_resamples": 200, "min_trades": 30},
                                         "pbo": {"n_splits": 4}, "mc1": {"n_paths": 20}, "mc2": {"n_paths": 20}})


def _regime_arrays() -> dict[str, np.ndarray]:
    bars = data.synthesize("EURUSD", "H1", 3_000, seed=2)
    high, low, close = (bars[c].to_numpy(np.float64) for c in ("high", "low", "close"))
    # the labels a backtest uses come from the vectorised rule over the whole series
    vol_code, spike = regime_codes(high, low, close, RegimeSettings(window=200))
    return {"high": high, "low": low, "close": close, "vol_code": vol_code, "spike": spike}


def _work(n_finalists: int) -> StatisticsWork:
    rng = np.random.default_rng(7)
    returns = {n: rng.normal(0.0005, 0.01, 64) for n in range(6)}
    finalists = tuple(StatisticsFinalist(rank, rank - 1, rng.normal(2.0, 20.0, 60), None, "no trades")
                      for rank in range(1, n_finalists + 1))
    return StatisticsWork("EURUSD", SETTINGS, STATISTICS_GUARDS, RegimeSettings(window=200), 10_000.0, "B",
                          finalists, returns, 6)


def test_statistics_job_labels_the_regime_once_for_every_finalist(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    live = regime_live.live_regime_codes

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return live(*args, **kwargs)

    monkeypatch.setattr(regime_live, "live_regime_codes", counted)
    arrays = _regime_arrays()
    result = run_statistics(_work(3), arrays)
    assert len(calls) == 1  # the labels are the symbol's: three finalists, one bar-by-bar pass
    expected = regime_mismatch(arrays["high"], arrays["low"], arrays["close"], arrays["vol_code"], arrays["spike"],
                               RegimeSettings(window=200))
    assert expected.n_compared == 3_000
    for rank in (1, 2, 3):
        row = {r.name: r for r in result.results[rank]}["regime_mismatch"]
        assert row.value == expected.share
        assert row.detail.startswith(f"{expected.n_mismatched} of 3000 bars differ (stream)")


def test_a_regime_check_compares_once_per_method() -> None:
    check = RegimeCheck(settings=RegimeSettings(window=200), **_regime_arrays())
    first = check.mismatch("stream", 1000)
    assert check.mismatch("stream", 1000) is first  # cached
    by_checkpoints = check.mismatch("checkpoints", 500)
    assert by_checkpoints.method == "checkpoints" and by_checkpoints.n_compared == 6  # bars 499, 999, ..., 2999
    assert check.mismatch("checkpoints", 500) is by_checkpoints and by_checkpoints is not first


def test_statistics_job_gives_what_the_guards_give_on_the_whole_evidence() -> None:
    arrays = _regime_arrays()
    work = _work(2)
    result = run_statistics(work, arrays)
    trials = _trial_returns(work.returns, work.n_trials)
    regime = RegimeCheck(settings=RegimeSettings(window=200), **arrays)
    for finalist in work.finalists:
        evidence = GuardEvidence(trades=TradeSample(finalist.trade_pnl, "B"), regime=regime,
                                 deflation=_deflation(finalist.trial, trials), trials=trials)
        direct = evaluate_guards(evidence, SETTINGS, names=STATISTICS_GUARDS)
        assert [r.name for r in direct] == list(STATISTICS_GUARDS)
        assert repr(result.results[finalist.rank]) == repr(direct)  # repr: NaN-safe, every field
        assert result.not_reported[finalist.rank] == {f"mc2 rank {finalist.rank}": "no trades"}
        assert [row["i"] for row in result.series[finalist.rank]] == list(range(20))  # MC1's 20 paths
    assert result.summary["dsr"] == {r.name: r.value for r in result.results[1]}["dsr"]
    assert result.summary["n_eff_trials"] is not None and 1.0 <= result.summary["n_eff_trials"] <= 6.0
    assert [row["series"] for row in result.logit_rows] == ["pbo_logit"] * 6  # C(4, 2) splits
    assert set(result.seconds_by_part) == {*STATISTICS_GUARDS, "mc1", "mc2", "summary"}


# --- searches ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory, small_data_dir: Path) -> dict[str, SweepPlan]:
    folder = tmp_path_factory.mktemp("schedule")
    made = {}
    for sampler in ("tpe", "random"):
        directive = write_directive(folder, name=sampler, search={"sampler": sampler, "trials": 16, "seed": 5},
                                    batch_size=4)
        made[sampler] = prepare(directive, data_dir=small_data_dir)
    return made


def _outcome(params: dict[str, Any], flat: bool = False) -> tuple[dict[str, float], None, None]:
    value = 1.0 if flat else math.sin(sum(float(v) for v in params.values() if isinstance(v, int | float)))
    return {"sharpe": value, "trades": 1_000.0}, None, None


def _search(plan: SweepPlan, budget: int) -> _Search:
    return _Searcher(None, plan, "EURUSD").new({"kind": "full"}, budget, 9, 20)  # type: ignore[arg-type]


def test_a_tpe_search_is_one_job_carrying_its_whole_search(plans: dict[str, SweepPlan]) -> None:
    search = _search(plans["tpe"], 12)
    token, jobs = search.next_chunk() or (None, [])
    assert len(jobs) == 1 and jobs[0]["kind"] == "search" and search.exhausted and search.next_chunk() is None
    spec = jobs[0]["spec"]
    assert (dict(spec.target), spec.budget, spec.seed, spec.batch, spec.min_trades) == ({"kind": "full"}, 12, 9, 4, 20)
    assert _job_trials(jobs) == 12 and _job_trials([{"kind": "full", "params": {}}] * 3) == 3
    best = (1.5, 7, {"ema_fast": 10}, {"sharpe": 1.5})
    search.take(token, [SearchOutcome(best, 12, 0.1)])
    assert search.finished and search.best == best and search.lost is None


def test_a_lost_tpe_search_keeps_the_reason_and_no_best(plans: dict[str, SweepPlan]) -> None:
    search = _search(plans["tpe"], 12)
    token, _ = search.next_chunk() or (None, [])
    search.take(token, [TrialLost("exceeded the 5 s trial time limit")])
    assert search.finished and search.best is None and search.lost == "exceeded the 5 s trial time limit"


def test_run_tpe_search_asks_each_batch_only_once_the_last_is_told(plans: dict[str, SweepPlan]) -> None:
    spec = _search(plans["tpe"], 10).spec
    assert spec is not None
    batches: list[list[dict[str, Any]]] = []

    def evaluate(params_list: Any) -> list[Any]:
        batches.append([dict(p) for p in params_list])
        return [_outcome(p) for p in params_list]

    outcome = run_tpe_search(spec, evaluate)
    assert [len(b) for b in batches] == [4, 4, 2] and outcome.n_trials == 10
    # the reference: one synchronous search, asked and told batch by batch in the driver
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=spec.seed, constant_liar=True))
    asked, best = [], None
    for size in (4, 4, 2):
        trials = [study.ask(spec.space.distributions()) for _ in range(size)]
        asked += [t.params for t in trials]
        for trial in trials:
            metrics = _outcome(trial.params)[0]
            violated = spec.space.violated_constraint(trial.params)
            value = None if violated else metrics["sharpe"]  # 1,000 trades: no penalty
            study.tell(trial, value, state=None if value is not None else optuna.trial.TrialState.FAIL)
            if value is not None and (best is None or value > best[0]):
                best = (value, trial.number, trial.params, metrics)
    assert [p for b in batches for p in b] == asked
    assert outcome.best == best and best is not None


def test_run_tpe_search_fails_raising_and_constraint_breaking_trials(plans: dict[str, SweepPlan]) -> None:
    spec = _search(plans["tpe"], 8).spec
    assert spec is not None

    def evaluate(params_list: Any) -> list[Any]:
        return [(None, "ValueError: no", None) for _ in params_list]

    assert run_tpe_search(spec, evaluate).best is None  # every trial failed: no best, never a default


def test_planned_search_tells_in_trial_order_whatever_order_chunks_return(plans: dict[str, SweepPlan]) -> None:
    budget = 2 * PLANNED_CHUNK + 10
    search = _search(plans["random"], budget)
    chunks = []
    while (item := search.next_chunk()) is not None:  # random: every chunk at once, no tell needed
        chunks.append(item)
    assert [len(jobs) for _, jobs in chunks] == [PLANNED_CHUNK, PLANNED_CHUNK, 10] and search.exhausted
    # every trial scores the same: the best is the first TOLD, so it must be trial 0 even if chunk 2 is back first
    for index in (2, 0, 1):
        token, jobs = chunks[index]
        search.take(token, [_outcome(j["params"], flat=True) for j in jobs])
        assert search.told == (0 if index == 2 else (PLANNED_CHUNK if index == 0 else budget))
    assert search.finished and search.best is not None
    assert search.best[1] == 0 and search.best[2] == chunks[0][1][0]["params"]
