"""The guard stage of one symbol: gather every guard's evidence on the actor pool, then the verdicts.

``run_guard_stage(pool, plan, symbol, inputs, settings)`` is the one call the driver (after stage 2) and
``tradescan validate`` (on a stored run) make. All of its work runs on the ``EvaluatorPool`` that already
holds the symbol's bars, as ``EvaluatorCore.run_jobs`` jobs, in ONE stream (``EvaluatorPool.stream``):
each actor keeps ``STREAM_DEPTH`` chunks queued and gets the next ready chunk of any phase the moment
one returns, so no actor waits at a batch or phase boundary, nor while the driver asks and tells:

* statistics (first, one job): bootstrap PF, top-10 share (stage-1 scenario's trades), stress Sharpe
  (scenario C), regime mismatch (the actor's own regime labels of the bars: once per symbol, not per
  finalist), DSR and PBO (the stage-1 trial returns), MC1 and MC2 — everything that needs no new
  backtest (``run_statistics``); only the trades and trial returns travel.
* walk-forward: the folds of ``guards.walk_forward_folds``; on every train window the directive's search
  (same sampler; seeds derived from ``guards.seed``) runs with ``trials_per_fold`` trials; once every
  fold's search is told, each fold's best is tested on its test window. The walk-forward belongs to the
  symbol (its searches do not depend on a finalist): every finalist gets the same WFE / OOS Sharpe /
  OOS trades, and ``walk_forward.parquet`` has ``rank`` 0.
* sensitivity: every neighbour of every finalist, in chunks of ``batch_size``.
* MC permutation: series ``k`` is ``permute_bars(bars, derive_seed(seed, "permutation", k))``, built
  inside the actors (the same permutation for every symbol of equal length). Mode ``finalist``
  scores each finalist's parameters; mode ``search`` re-runs the search with ``search_trials`` (default:
  stage 1's count) and compares its best value with the best of stage 1's first as many trials.

Searches are deterministic whatever the worker count or the order results return: a TPE search runs
whole on one actor (``guard_search``: its sampling there too, so it grows with the actors), asking
batch k (``batch_size`` trials) only once batch k-1 is told — the schedule of one synchronous search;
many searches in flight keep the actors busy — and random and grid, whose parameters follow from the
trial number, are told in trial-number order. Every seed is derived from labels. The driver
then evaluates the guards that read the searches and merges them with the statistics job's.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tradescan.engine.broker import SymbolSpread
from tradescan.guards import (
    DeflationInput,
    FoldResult,
    FoldWindow,
    GuardEvidence,
    GuardResult,
    GuardSettings,
    PermutationScores,
    RegimeCheck,
    ScenarioSharpe,
    SensitivityScores,
    TradeCosts,
    TradeSample,
    TrialReturns,
    UndefinedStatistic,
    WalkForwardResult,
    derive_seed,
    equity_before_trades,
    evaluate_guards,
    get_guard,
    mc_cost_noise,
    mc_drawdown,
    sensitivity_neighbours,
    trade_return_fractions,
    verdict,
    walk_forward_folds,
)
from tradescan.preflight import SweepPlan
from tradescan.regime import RegimeSettings
from tradescan.sweep.draws import RandomDraws
from tradescan.sweep.guard_search import Best, SearchSpec, better, search_value
from tradescan.sweep.objectives import ObjectiveError, get_objective, stage1_value
from tradescan.sweep.pool import EvaluatorPool, TrialLost
from tradescan.sweep.progress import NullProgress
from tradescan.sweep.stage1 import STREAM_DEPTH

__all__ = ["FinalistInput", "GuardInputs", "SymbolGuards", "run_guard_stage", "split_trade_costs"]


@dataclass(frozen=True)
class FinalistInput:
    """One stage-2 finalist as the guard stage needs it.

    Attributes:
        rank: its stage-2 rank.
        trial: its stage-1 trial number (its column of the trial returns).
        params: its parameters.
        metrics: its stage-2 metrics by scenario.
        trade_pnl: its trades' net PnL under the stage-1 scenario, in trade order.
        trades: its stage-1 scenario's trade frame (columns of ``BacktestResult.trades``), for MC2's
            cost split; ``None`` when not at hand (MC2 is then not reported).
    """

    rank: int
    trial: int
    params: Mapping[str, Any]
    metrics: Mapping[str, Mapping[str, float]]
    trade_pnl: np.ndarray
    trades: pd.DataFrame | None = None


@dataclass(frozen=True)
class GuardInputs:
    """What the guard stage of one symbol reads from stages 1 and 2 (live, or from a stored run).

    Attributes:
        trials: every finished stage-1 trial of the symbol.
        finalists: the stage-2 finalists that ran.
        returns: the COMPLETE trials' daily returns: trial number -> vector (one day grid).
        days: the UTC dates of that grid (``datetime64[D]``).
        times: the bars' times (``datetime64[ns]``), for the fold layout.
    """

    trials: Sequence[FrozenTrial]
    finalists: Sequence[FinalistInput]
    returns: Mapping[int, np.ndarray]
    days: np.ndarray
    times: np.ndarray


@dataclass
class SymbolGuards:
    """The guard stage's output for one symbol: the rows of the three guard files and the summary."""

    guard_rows: list[dict[str, Any]] = field(default_factory=list)
    series_rows: list[dict[str, Any]] = field(default_factory=list)
    fold_rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- the work stream ----------------------------------------------------------------------------------

# Jobs per chunk of a random or grid search (its parameters are known up front): a permuted search of
# stage 1's budget is usually one chunk, so one actor builds its permuted series once.
PLANNED_CHUNK = 256


class _Task:
    """A source of chunks for the stage's one work stream (``_run_stream``).

    ``next_chunk`` returns ``(token, jobs)`` or ``None`` when it has nothing to run now (``exhausted``
    says whether it ever will again); ``take(token, results)`` receives a chunk's results.
    """

    exhausted = False

    def next_chunk(self) -> tuple[Any, list[dict[str, Any]]] | None:
        raise NotImplementedError

    def take(self, token: Any, results: list[Any]) -> None:
        raise NotImplementedError


class _Fixed(_Task):
    """Chunks known up front; ``results[i]`` is chunk ``i``'s once it has returned."""

    def __init__(self, chunks: Sequence[list[dict[str, Any]]]) -> None:
        self.chunks = list(chunks)
        self.results: list[list[Any] | None] = [None] * len(self.chunks)
        self._next = 0
        self.exhausted = not self.chunks

    def next_chunk(self) -> tuple[Any, list[dict[str, Any]]] | None:
        if self._next >= len(self.chunks):
            return None
        index = self._next
        self._next += 1
        self.exhausted = self._next >= len(self.chunks)
        return index, self.chunks[index]

    def take(self, token: Any, results: list[Any]) -> None:
        self.results[int(token)] = results

    def flat(self) -> list[Any]:
        """Return every chunk's results in chunk order."""
        return [outcome for chunk in self.results for outcome in (chunk or [])]


@dataclass
class _Search(_Task):
    """One search (a train window, or a permuted series): its job template, sampler and best so far.

    Asks and tells follow a fixed schedule whatever the worker count or the order results come back:

    * TPE runs whole on one actor as a single ``search`` job (``guard_search``): there it asks batch k
      (``batch_size`` trials) only once batch k-1 is told, the schedule of one synchronous search, and
      the driver only receives the best trial. Many searches at once keep the actors busy.
    * random and grid know every trial's parameters from its number: chunks of up to ``PLANNED_CHUNK``
      trials go out at once, and are told in trial-number order (ties keep the first best).
    """

    job: dict[str, Any]
    budget: int
    min_trades: int
    searcher: _Searcher | None = None
    spec: SearchSpec | None = None  # TPE: the whole search, run on an actor
    draws: RandomDraws | None = None
    grid: list[dict[str, Any]] | None = None
    asked: int = 0
    told: int = 0
    best: Best | None = None
    lost: str | None = None  # TPE: why the pool could not run the search (its actor died twice, or too slow)
    _waiting: dict[int, tuple[list[tuple[Any, dict[str, Any]]], list[Any]]] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:  # type: ignore[override]
        return self.asked >= self.budget

    @property
    def finished(self) -> bool:
        return self.told >= self.budget

    def next_chunk(self) -> tuple[Any, list[dict[str, Any]]] | None:
        assert self.searcher is not None
        if self.asked >= self.budget:
            return None
        if self.spec is not None:
            self.asked = self.budget
            return None, [{"kind": "search", "spec": self.spec, "params": {}}]
        first = self.asked
        asked = self.searcher.ask(self, min(PLANNED_CHUNK, self.budget - self.asked))
        return (first, asked), [{**self.job, "params": params} for _, params in asked]

    def take(self, token: Any, results: list[Any]) -> None:
        assert self.searcher is not None
        if self.spec is not None:
            (outcome,) = results
            if isinstance(outcome, TrialLost):
                self.lost = outcome.reason
            else:
                self.best = outcome.best
            self.told = self.budget
            return
        first, asked = token
        self._waiting[first] = (asked, results)
        while self.told in self._waiting:
            asked, results = self._waiting.pop(self.told)
            for (number, params), outcome in zip(asked, results, strict=True):
                self.searcher.tell(self, number, params, outcome)
            self.told += len(asked)


class _Searcher:
    """Makes the searches of one symbol (the directive's sampler on a job template) and asks and tells
    the planned ones (random, grid)."""

    def __init__(self, pool: EvaluatorPool, plan: SweepPlan, symbol: str) -> None:
        self.pool, self.plan, self.symbol = pool, plan, symbol
        self.directive = plan.directive
        self.batch = self.directive.batch_size
        self.objective = get_objective(self.directive.stage1.objective)
        self.penalty_weight = float(self.directive.stage1.penalty_weight or 0.0)
        self.space = plan.space
        self.distributions = plan.space.distributions()

    def new(self, job: dict[str, Any], budget: int, seed: int, min_trades: int) -> _Search:
        search = _Search(job, budget, min_trades, searcher=self)
        sampler = self.directive.search.sampler
        if sampler == "tpe":
            search.spec = SearchSpec(dict(job), budget, seed, self.batch, min_trades, self.directive.stage1.objective,
                                     self.penalty_weight, self.space)
        elif sampler == "grid":
            from tradescan.sweep.grid import plan_grid

            search.grid = plan_grid(self.space, str(self.directive.search.preset), budget).points
            search.budget = len(search.grid)
        else:
            search.draws = RandomDraws(self.distributions, seed, self.symbol)
        return search

    def ask(self, search: _Search, n: int) -> list[tuple[int, dict[str, Any]]]:
        asked: list[tuple[int, dict[str, Any]]] = []
        for number in range(search.asked, search.asked + n):
            if search.grid is not None:
                asked.append((number, dict(search.grid[number])))
            else:
                assert search.draws is not None
                asked.append((number, search.draws.params(number)))
        search.asked += n
        return asked

    def tell(self, search: _Search, number: int, params: dict[str, Any], outcome: Any) -> None:
        metrics = None if isinstance(outcome, TrialLost) else outcome[0]
        value = search_value(self.objective, metrics, self.space.violated_constraint(params), search.min_trades,
                             self.penalty_weight)
        search.best = better(search.best, value, number, params, metrics)


def _job_trials(chunk: Sequence[Mapping[str, Any]]) -> int:
    """The backtests a chunk of jobs stands for (its time bound, the progress): a ``search`` job all of
    its trials, any other job one (the statistics job counts as one)."""
    return sum(job["spec"].budget if job["kind"] == "search" else 1 for job in chunk)


@dataclass
class _Phase:
    """A phase's tasks and its wall-clock span (first chunk sent to last result taken)."""

    name: str
    tasks: list[_Task]
    label: str
    started: float | None = None
    ended: float | None = None


def _run_stream(pool: EvaluatorPool, symbol: str, phases: Sequence[_Phase], progress: NullProgress) -> None:
    """Run every phase's chunks as ONE stream on the pool (``EvaluatorPool.stream``), so no actor waits
    at a phase or batch boundary: whenever an actor has a free place, the first task (phases in order,
    tasks in order) with a chunk ready gives it. Which chunk runs where and when changes no number: each
    search asks and tells on its own fixed schedule (``_Search``), the other tasks' jobs are fixed."""
    issued: list[tuple[_Phase, _Task, Any, int] | None] = []  # phase, task, token, backtests
    order = [(phase, task) for phase in phases for task in phase.tasks]

    def chunks() -> Iterator[list[dict[str, Any]] | None]:
        while True:
            for phase, task in order:
                item = None if task.exhausted else task.next_chunk()
                if item is not None:
                    if phase.started is None:
                        phase.started = time.perf_counter()
                    issued.append((phase, task, item[0], _job_trials(item[1])))
                    yield item[1]
                    break
            else:
                if all(task.exhausted for _, task in order):
                    return
                issued.append(None)
                yield None  # nothing can run until a result comes back

    for index, results in pool.stream(symbol, "run_jobs", chunks(), STREAM_DEPTH, weigh=_job_trials):
        entry = issued[index]
        assert entry is not None
        phase, task, token, backtests = entry
        task.take(token, results)
        phase.ended = time.perf_counter()
        if phase.name != "statistics":  # progress counts backtests
            progress.advance(symbol, backtests, None)
        progress.note(symbol, phase.label)


# --- the stage ----------------------------------------------------------------------------------------


def run_guard_stage(
    pool: EvaluatorPool,
    plan: SweepPlan,
    symbol: str,
    inputs: GuardInputs,
    settings: GuardSettings,
    progress: NullProgress | None = None,
) -> SymbolGuards:
    """Compute every active guard of every finalist of ``symbol`` and their verdicts.

    Every piece of work runs on the actors as one stream: the statistics that need no new backtest
    (one job, first), the walk-forward searches and their tests, the sensitivity neighbours and the
    permutation searches. The driver only asks, tells and, at the end, evaluates the guards that read
    the searches' results. ``seconds`` holds each phase's wall-clock span (they overlap), the actor
    seconds of the statistics job, the driver's final evaluation and the stage's ``total``.
    """
    started = time.perf_counter()
    progress = progress or NullProgress()
    out = SymbolGuards()
    active = set(settings.active_guards())
    searcher = _Searcher(pool, plan, symbol)

    statistics = _Fixed([[{"kind": "statistics", "work": _statistics_work(plan, symbol, inputs, settings, active),
                           "params": {}}]])
    phases = [_Phase("statistics", [statistics], "statistics")]
    walk_forward = _WalkForward(searcher, plan, inputs, settings) if active & WALK_FORWARD_GUARDS else None
    if walk_forward is not None:
        phases.append(_Phase("walk_forward", walk_forward.tasks, "walk-forward"))
    sensitivity = _Sensitivity(searcher, plan, inputs, settings) if "sensitivity" in active else None
    if sensitivity is not None:
        phases.append(_Phase("sensitivity", [sensitivity.task], "sensitivity"))
    permutation = _Permutation(searcher, plan, inputs, settings) if "mc_pvalue" in active else None
    if permutation is not None:
        phases.append(_Phase("mc_pvalue", permutation.tasks, "permutation"))
    neighbours_jobs = sum(len(chunk) for chunk in sensitivity.task.chunks) if sensitivity is not None else 0
    progress.start_symbol(symbol, _planned_backtests(plan, inputs, settings, active) + neighbours_jobs, 0)
    _run_stream(pool, symbol, phases, progress)
    for phase in phases:
        if phase.name != "statistics" and phase.started is not None and phase.ended is not None:
            out.seconds[phase.name] = phase.ended - phase.started

    finishing = time.perf_counter()
    stats: StatisticsResult = statistics.flat()[0]
    out.seconds["statistics"] = stats.seconds  # on an actor, overlapped with the searches
    out.seconds.update({f"statistics.{part}": v for part, v in stats.seconds_by_part.items()})
    wf_result = walk_forward.finish(out) if walk_forward is not None else None
    scores = permutation.finish(out) if permutation is not None else {}
    neighbours = sensitivity.finish(out) if sensitivity is not None else {}
    searched = [name for name in settings.active_guards() if name not in stats.names]
    for finalist in inputs.finalists:
        evidence = GuardEvidence(walk_forward=wf_result, permutation=scores.get(finalist.rank),
                                 sensitivity=neighbours.get(finalist.rank))
        by_name = {r.name: r for r in evaluate_guards(evidence, settings, names=searched)}
        by_name.update({r.name: r for r in stats.results[finalist.rank]})
        results = tuple(by_name[name] for name in settings.active_guards())
        out.series_rows += stats.series[finalist.rank]
        for key, reason in stats.not_reported[finalist.rank].items():
            out.summary.setdefault("not_reported", {})[key] = reason
        decided = verdict(results, settings)
        out.guard_rows += [{"symbol": symbol, "rank": finalist.rank, **r.to_dict()} for r in results]
        out.summary.setdefault("finalists", []).append({
            "rank": finalist.rank, "params": dict(finalist.params), "prod_ready": decided.prod_ready,
            "failed": list(decided.failed),
            "guards": {r.name: _guard_json(r) for r in results},
        })
    out.summary.setdefault("finalists", [])
    first = {r["guard"]: r["value"] for r in out.guard_rows if r["rank"] == _best_rank(inputs)}
    out.summary.update(dsr=stats.summary["dsr"], pbo=stats.summary["pbo"], wfe=_finite(first.get("wfe")),
                       n_trials=len(inputs.trials), n_eff_trials=stats.summary["n_eff_trials"])
    out.series_rows += stats.logit_rows
    out.seconds["verdicts"] = time.perf_counter() - finishing
    out.seconds["total"] = time.perf_counter() - started
    progress.note(symbol, "guards done")
    return out


WALK_FORWARD_GUARDS = frozenset({"wfe", "sharpe_oos", "trades_oos"})
# The evidence fields no new backtest is needed for: their guards are evaluated in the statistics job.
STATISTICS_EVIDENCE = frozenset({"trades", "stress", "regime", "deflation", "trials"})


def _best_rank(inputs: GuardInputs) -> int:
    return inputs.finalists[0].rank if inputs.finalists else -1


def _planned_backtests(plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings, active: set[str]) -> int:
    total = 0
    if active & {"wfe", "sharpe_oos", "trades_oos"}:
        total += settings.walk_forward.folds * (settings.walk_forward.trials_per_fold + 1)
    if "mc_pvalue" in active:
        per = _search_budget(plan, settings) if settings.permutation_mode == "search" else len(inputs.finalists)
        total += settings.permutation.n_permutations * per
    return total


def _guard_json(result: GuardResult) -> dict[str, Any]:
    return {"value": None if math.isnan(result.value) else result.value, "threshold": result.threshold,
            "passed": result.passed, "critical": result.critical}


# --- the statistics job (on an actor) ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StatisticsFinalist:
    """What the statistics job needs of one finalist (small arrays only).

    Attributes:
        rank, trial: its stage-2 rank and stage-1 trial number.
        trade_pnl: its trades' net PnL under the stage-1 scenario.
        stress: its scenario-C Sharpe (``None`` when not at hand).
        costs: its trades' cost split for MC2, or why MC2 cannot be drawn.
    """

    rank: int
    trial: int
    trade_pnl: np.ndarray
    stress: ScenarioSharpe | None
    costs: TradeCosts | str


@dataclass(frozen=True, eq=False)
class StatisticsWork:
    """The statistics job of one symbol: every guard whose evidence needs no new backtest, MC1, MC2 and
    the trial-return summary (DSR, PBO, N_eff, PBO's logits). The actor holding the symbol's bars adds
    the regime labels, so only the trades and the trial returns travel."""

    symbol: str
    settings: GuardSettings
    names: tuple[str, ...]
    regime: RegimeSettings | None
    initial_capital: float
    scenario: str
    finalists: tuple[StatisticsFinalist, ...]
    returns: Mapping[int, np.ndarray]
    n_trials: int


@dataclass
class StatisticsResult:
    """The statistics job's answer: guard results, MC1/MC2 rows and reasons by rank, the summary."""

    names: tuple[str, ...]
    results: dict[int, tuple[GuardResult, ...]] = field(default_factory=dict)
    series: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    not_reported: dict[int, dict[str, str]] = field(default_factory=dict)
    summary: dict[str, float | None] = field(default_factory=dict)
    logit_rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    seconds_by_part: dict[str, float] = field(default_factory=dict)  # by guard name, "mc1", "mc2", "summary"


def _statistics_work(
    plan: SweepPlan, symbol: str, inputs: GuardInputs, settings: GuardSettings, active: set[str]
) -> StatisticsWork:
    names = tuple(n for n in settings.active_guards() if get_guard(n).evidence in STATISTICS_EVIDENCE)
    finalists = tuple(StatisticsFinalist(f.rank, f.trial, np.asarray(f.trade_pnl, dtype=np.float64), _stress(f),
                                         _trade_costs(symbol, f, plan)) for f in inputs.finalists)
    return StatisticsWork(symbol, settings, names, plan.backtest.regime if "regime_mismatch" in active else None,
                          float(plan.backtest.capital.initial), plan.directive.stage1.scenario, finalists,
                          dict(inputs.returns), len(inputs.trials))


def run_statistics(work: StatisticsWork, regime_arrays: Mapping[str, np.ndarray] | None) -> StatisticsResult:
    """Run the statistics job (``EvaluatorCore.run_jobs`` kind ``statistics``, on the actor that holds
    the bars; ``regime_arrays`` is its ``regime_arrays``). One ``RegimeCheck`` and one ``TrialReturns``
    serve every finalist, so the live regime labels, N_eff and PBO are computed once per symbol."""
    started = time.perf_counter()
    settings = work.settings
    trials = _trial_returns(work.returns, work.n_trials)
    regime = None
    if work.regime is not None and regime_arrays is not None:
        regime = RegimeCheck(settings=work.regime, **regime_arrays)
    result = StatisticsResult(work.names)
    timer = _Timer(result.seconds_by_part)
    for finalist in work.finalists:
        evidence = GuardEvidence(trades=TradeSample(finalist.trade_pnl, work.scenario), stress=finalist.stress,
                                 regime=regime, deflation=_deflation(finalist.trial, trials), trials=trials)
        out = SymbolGuards()
        with timer("mc1"):
            _mc1(work.symbol, finalist.rank, finalist.trade_pnl, work.initial_capital, settings, out)
        with timer("mc2"):
            _mc2_draws(work.symbol, finalist.rank, finalist.costs, settings, out)
        results: list[GuardResult] = []
        for name in work.names:  # one at a time, to time each guard; the same results as all at once
            with timer(name):
                results += evaluate_guards(evidence, settings, names=(name,))
        result.results[finalist.rank] = tuple(results)
        result.series[finalist.rank] = out.series_rows
        result.not_reported[finalist.rank] = dict(out.summary.get("not_reported", {}))
    with timer("summary"):
        _trial_summary(work, trials, result)
    result.seconds = time.perf_counter() - started
    return result


class _Timer:
    """Adds the seconds of each ``with timer(name):`` block to ``seconds[name]``."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.name = ""
        self.started = 0.0

    def __call__(self, name: str) -> _Timer:
        self.name = name
        return self

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.name] = self.seconds.get(self.name, 0.0) + time.perf_counter() - self.started


def _trial_returns(returns: Mapping[int, np.ndarray], n_trials: int) -> TrialReturns | None:
    numbers = sorted(returns)
    if not numbers:
        return None
    matrix = np.column_stack([np.asarray(returns[n], dtype=np.float64) for n in numbers])
    return TrialReturns(matrix, n_trials=n_trials, trial_numbers=tuple(numbers))


def _deflation(trial: int, trials: TrialReturns | None) -> DeflationInput | None:
    if trials is None or trials.trial_numbers is None or trial not in trials.trial_numbers:
        return None
    column = trials.trial_numbers.index(trial)
    return DeflationInput(trials.returns[:, column], trials)


def _stress(finalist: FinalistInput) -> ScenarioSharpe | None:
    metrics = finalist.metrics.get("C")
    if not metrics or metrics.get("sharpe") is None or not math.isfinite(float(metrics["sharpe"])):
        return None
    return ScenarioSharpe(float(metrics["sharpe"]), int(metrics.get("trades", 0)), "C")


def _trial_summary(work: StatisticsWork, trials: TrialReturns | None, result: StatisticsResult) -> None:
    """The symbol's DSR and PBO (the best finalist's; for every preset, even one without those
    guards), N_eff and PBO's logits."""
    best = work.finalists[0] if work.finalists else None
    first: dict[str, Any] = {r.name: r.value for r in result.results.get(best.rank, ())} if best else {}
    settings = work.settings
    if "dsr" not in first and best is not None and trials is not None:
        deflation = _deflation(best.trial, trials)
        first["dsr"] = get_guard("dsr").evaluate(deflation, settings).value if deflation is not None else None
    if "pbo" not in first and trials is not None:
        first["pbo"] = get_guard("pbo").evaluate(trials, settings).value
    result.summary = {"dsr": _finite(first.get("dsr")), "pbo": _finite(first.get("pbo")), "n_eff_trials": None}
    if trials is None:
        return
    result.summary["n_eff_trials"] = _finite(float(trials.effective_trials().n_effective))
    try:
        logits = trials.pbo(settings.pbo.n_splits).logits
    except (UndefinedStatistic, ValueError):
        return  # the pbo guard (or the summary's None) already says why
    result.logit_rows = [{"symbol": work.symbol, "rank": 0, "series": "pbo_logit", "i": i, "value": float(v)}
                         for i, v in enumerate(logits)]


def _mc1(symbol: str, rank: int, pnl: np.ndarray, initial_capital: float, settings: GuardSettings,
         out: SymbolGuards) -> None:
    """Report MC1 (reported beside the guards, deciding nothing): the max-drawdown samples of a block
    bootstrap of the finalist's trade returns as fractions of equity, compounded."""
    if len(pnl) < 2:
        _not_reported(out, "mc1", rank, f"{len(pnl)} trade(s): nothing to resample")
        return
    options = settings.mc1
    try:
        fractions = trade_return_fractions(pnl, equity_before_trades(pnl, initial_capital))
        drawdowns = mc_drawdown(fractions, seed=settings.derive_seed("mc1", symbol, rank),
                                n_paths=options.n_paths, block_length=options.block_length,
                                drawdown_threshold=options.drawdown_threshold)
    except (UndefinedStatistic, ValueError) as exc:
        # e.g. the equity was wiped out before a trade: no fraction of equity to resample
        _not_reported(out, "mc1", rank, str(exc))
        return
    out.series_rows += [{"symbol": symbol, "rank": rank, "series": "mc1_max_drawdown", "i": i,
                         "value": float(v)} for i, v in enumerate(drawdowns.max_drawdown)]


def _trade_costs(symbol: str, finalist: FinalistInput, plan: SweepPlan) -> TradeCosts | str:
    """Return the finalist's per-trade cost split for MC2 (``split_trade_costs``), or why there is none."""
    trades = finalist.trades
    if trades is None or trades.empty:
        return "no trades"
    broker = plan.backtest.broker
    scenario = broker.scenario(plan.directive.stage1.scenario)
    try:
        return split_trade_costs(trades, broker.symbol_spread(symbol), scenario.spread_mult)
    except ValueError as exc:
        # e.g. a negative slippage_add_pips made a trade's slippage < 0: no cost to scale
        return str(exc)


def _mc2_draws(symbol: str, rank: int, costs: TradeCosts | str, settings: GuardSettings, out: SymbolGuards) -> None:
    """Report MC2 (beside the guards, deciding nothing): the net PnL samples when every trade's spread
    and slippage are scaled by random multipliers (``mc_cost_noise``), commission kept as paid."""
    if isinstance(costs, str):
        _not_reported(out, "mc2", rank, costs)
        return
    options = settings.mc2
    try:
        noise = mc_cost_noise(costs, seed=settings.derive_seed("mc2", symbol, rank), n_paths=options.n_paths,
                              spread_mult_range=options.spread_mult_range,
                              slippage_mult_range=options.slippage_mult_range)
    except ValueError as exc:
        _not_reported(out, "mc2", rank, str(exc))
        return
    out.series_rows += [{"symbol": symbol, "rank": rank, "series": "mc2_net_pnl", "i": i,
                         "value": float(v)} for i, v in enumerate(noise.net_pnl)]


def _mc2(symbol: str, finalist: FinalistInput, plan: SweepPlan, settings: GuardSettings, out: SymbolGuards) -> None:
    """MC2 of one finalist in one call: its cost split (``_trade_costs``), then the draws (``_mc2_draws``)."""
    _mc2_draws(symbol, finalist.rank, _trade_costs(symbol, finalist, plan), settings, out)


def _note_lost(out: SymbolGuards, label: str, search: _Search) -> None:
    """Record why a whole search has no result (its guard then fails as not gathered, or with a NaN
    score): the pool lost it (its actor died twice, or it ran past its time bound)."""
    if search.lost is not None:
        out.summary.setdefault("not_reported", {})[label] = search.lost[:200]


def _not_reported(out: SymbolGuards, what: str, rank: int, reason: str) -> None:
    """Record why a reported-only distribution (MC1, MC2) is missing for a finalist: never a silent gap."""
    out.summary.setdefault("not_reported", {})[f"{what} rank {rank}"] = reason[:200]


def split_trade_costs(trades: pd.DataFrame, spread: SymbolSpread, spread_mult: float) -> TradeCosts:
    """Return each trade's gross PnL, spread, slippage and commission in account currency.

    The trade frame has the fills' cost only as a whole (``cost`` = spread + slippage of both fills +
    commission); the spread's share of it is known exactly from the broker profile, so the split is
    exact: with a pip spread a leg's round trip pays ``spread_pips × spread_mult`` pips of its
    ``cost_pips``; with a bps spread each fill pays half of ``spread_bps × spread_mult`` of its raw price,
    i.e. ``spread_bps × spread_mult × (entry + exit) / (2 × entry)`` bps of the entry price, against the
    trade's ``cost_bps`` (its fills' cost in bps of the entry price). Slippage is the rest of the fills'
    cost; a trade with no fill cost has neither.

    Args:
        trades: one scenario's trades (columns ``pnl``, ``cost``, ``commission``, ``cost_pips``, and for a
            bps spread ``entry_price``, ``exit_price``, ``cost_bps``).
        spread: the symbol's spread (``BrokerProfile.symbol_spread``).
        spread_mult: the scenario's spread multiplier.
    """
    commission = trades["commission"].to_numpy(np.float64)
    cost = trades["cost"].to_numpy(np.float64)
    fills = np.maximum(cost - commission, 0.0)  # >= 0 by construction; clears a -1e-17 of rounding
    if spread.bps > 0.0:
        entry = trades["entry_price"].to_numpy(np.float64)
        paid = spread.bps * spread_mult * (entry + trades["exit_price"].to_numpy(np.float64)) / (2.0 * entry)
        total = trades["cost_bps"].to_numpy(np.float64)
    else:
        paid = np.full(len(trades), spread.pips * spread_mult)
        total = trades["cost_pips"].to_numpy(np.float64)
    share = np.clip(np.divide(paid, total, out=np.zeros(len(trades)), where=total > 0.0), 0.0, 1.0)
    spread_cost = fills * share
    gross = trades["pnl"].to_numpy(np.float64) + cost
    return TradeCosts(gross, spread_cost, fills - spread_cost, commission)


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _search_budget(plan: SweepPlan, settings: GuardSettings) -> int:
    return settings.permutation.search_trials or plan.directive.search.trials


# --- walk-forward -------------------------------------------------------------------------------------


class _WalkForward:
    """The walk-forward: one search per train window, then one task testing each fold's best on its test
    window once every search has been told (``_FoldTests``)."""

    def __init__(self, searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings) -> None:
        self.searcher, self.plan, self.inputs = searcher, plan, inputs
        wf = settings.walk_forward
        n_bars = len(inputs.times)
        self.folds: Sequence[FoldWindow] | None
        try:
            folds = walk_forward_folds(n_bars, wf.folds, train_fraction=wf.train_fraction, anchored=wf.anchored)
        except ValueError:
            self.folds = None  # the guards fail with "not gathered"; the fold layout cannot exist
            self.searches: list[_Search] = []
            self.tasks: list[_Task] = []
            return
        self.folds = folds
        min_trades = plan.directive.stage1.min_trades
        self.searches = [
            searcher.new({"kind": "window", "start": f.train_start, "end": f.train_end}, wf.trials_per_fold,
                         derive_seed(settings.seed, "walk_forward", f.fold),
                         math.ceil(min_trades * f.train_bars / max(1, n_bars)))
            for f in folds
        ]
        self.tests = _FoldTests(self)
        self.tasks = [*self.searches, self.tests]

    def finish(self, out: SymbolGuards) -> WalkForwardResult | None:
        if self.folds is None:
            return None
        symbol, searcher, folds = self.searcher.symbol, self.searcher, self.folds
        best = [s.best for s in self.searches]
        tested_iter = iter(self.tests.results or [])
        days_per_year = self.plan.instruments[symbol].days_per_year if symbol in self.plan.instruments else 252
        results: list[FoldResult] = []
        times = self.inputs.times
        for fold, search in zip(folds, self.searches, strict=True):
            _note_lost(out, f"walk-forward fold {fold.fold} search", search)
        for fold, found in zip(folds, best, strict=True):
            row = {"symbol": symbol, "rank": 0, "fold": fold.fold,
                   "train_start": times[fold.train_start], "train_end": times[fold.train_end - 1],
                   "test_start": times[fold.test_start], "test_end": times[fold.test_end - 1],
                   "is_return": math.nan, "oos_return": math.nan, "oos_sharpe": math.nan, "oos_trades": 0,
                   "params": "{}"}
            if found is not None:
                outcome = next(tested_iter)
                metrics, returns = (None, None) if isinstance(outcome, TrialLost) else (outcome[0], outcome[2])
                if metrics is not None and returns is not None:
                    train_days = max(1, _days(times, fold.train_start, fold.train_end))
                    result = FoldResult(fold, found[2], float(found[3].get("total_return", 0.0)),
                                        train_days / days_per_year, float(metrics.get("total_return", 0.0)),
                                        max(1, len(returns)) / days_per_year, int(metrics.get("trades", 0)),
                                        np.asarray(returns))
                    results.append(result)
                    row.update(is_return=result.train_return, oos_return=result.test_return,
                               oos_sharpe=float(metrics.get("sharpe", math.nan)), oos_trades=result.test_trades,
                               params=json.dumps(found[2], sort_keys=True, default=str))
            out.fold_rows.append(row)
        if len(results) != len(folds):
            return WalkForwardResult(results, days_per_year) if results else None
        complete = WalkForwardResult(results, days_per_year)
        equity = np.cumprod(1.0 + complete.oos_daily_returns())
        out.series_rows += [{"symbol": searcher.symbol, "rank": 0, "series": "wf_oos_equity", "i": i,
                             "value": float(v)} for i, v in enumerate(equity)]
        return complete


class _FoldTests(_Task):
    """Each fold's best parameters on its test window: one chunk, ready once every train search is told."""

    def __init__(self, walk_forward: _WalkForward) -> None:
        self.walk_forward = walk_forward
        self.results: list[Any] | None = None

    def next_chunk(self) -> tuple[Any, list[dict[str, Any]]] | None:
        searches = self.walk_forward.searches
        if self.exhausted or not all(s.finished for s in searches):
            return None
        self.exhausted = True
        folds = self.walk_forward.folds or []
        return 0, [{"kind": "window", "start": f.test_start, "end": f.test_end, "returns": True,
                    "params": s.best[2]} for f, s in zip(folds, searches, strict=True) if s.best]

    def take(self, token: Any, results: list[Any]) -> None:
        self.results = results


def _days(times: np.ndarray, start: int, end: int) -> int:
    first = np.datetime64(times[start], "D")
    last = np.datetime64(times[end - 1], "D")
    return int((last - first) // np.timedelta64(1, "D")) + 1


# --- permutation --------------------------------------------------------------------------------------


class _Permutation:
    """The permutation test. Series ``k`` is built inside the actors from its seed. Mode ``finalist``:
    one chunk per series with every finalist's parameters; mode ``search``: one search per series, in
    series order (so an actor mostly meets one series at a time and builds it once)."""

    def __init__(self, searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings) -> None:
        self.searcher, self.plan, self.inputs, self.settings = searcher, plan, inputs, settings
        perm = settings.permutation
        keep = perm.keep_bars if perm.keep_bars is not None else 0
        self.seeds = [derive_seed(settings.seed, "permutation", k) for k in range(perm.n_permutations)]
        self.fixed: _Fixed | None = None
        self.searches: list[_Search] = []
        if settings.permutation_mode == "finalist":
            self.fixed = _Fixed([[{"kind": "permuted", "seed": seed, "keep_bars": keep, "params": dict(f.params)}
                                  for f in inputs.finalists] for seed in self.seeds])
            self.tasks: list[_Task] = [self.fixed]
        else:
            budget = _search_budget(plan, settings)
            self.searches = [searcher.new({"kind": "permuted", "seed": seed, "keep_bars": keep}, budget,
                                          plan.directive.search.seed, plan.directive.stage1.min_trades)
                             for seed in self.seeds]
            self.tasks = list(self.searches)

    def finish(self, out: SymbolGuards) -> dict[int, PermutationScores]:
        plan, inputs, symbol = self.plan, self.inputs, self.searcher.symbol
        scores: dict[int, PermutationScores] = {}
        if self.fixed is not None:
            outcomes = self.fixed.flat()
            n_fin = len(inputs.finalists)
            for index, finalist in enumerate(inputs.finalists):
                permuted = np.array([_sharpe(outcomes[k * n_fin + index]) for k in range(len(self.seeds))])
                real = float(finalist.metrics.get(plan.directive.stage1.scenario, {}).get("sharpe", math.nan))
                scores[finalist.rank] = PermutationScores(real, permuted, "finalist", "sharpe")
        else:
            budget = _search_budget(plan, self.settings)
            permuted = np.array([s.best[0] if s.best else math.nan for s in self.searches])
            for k, search in enumerate(self.searches):
                _note_lost(out, f"permutation {k} search", search)
            complete = sorted((t for t in inputs.trials if t.state == TrialState.COMPLETE and t.value is not None),
                              key=lambda t: t.number)
            real = max((float(t.value or 0.0) for t in complete if t.number < budget), default=math.nan)
            for finalist in inputs.finalists:
                scores[finalist.rank] = PermutationScores(real, permuted, "search", "best stage-1 value")
        for rank, score in scores.items():
            out.series_rows += [{"symbol": symbol, "rank": rank, "series": "mc_perm_sharpe", "i": i,
                                 "value": float(v)} for i, v in enumerate(score.permuted)]
        return scores


def _sharpe(outcome: Any) -> float:
    metrics = None if isinstance(outcome, TrialLost) else outcome[0]
    return float(metrics.get("sharpe", math.nan)) if metrics is not None else math.nan


# --- sensitivity --------------------------------------------------------------------------------------


class _Sensitivity:
    """Every finalist and each of its neighbours on the full bars, in chunks of ``batch_size``."""

    def __init__(self, searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings) -> None:
        self.searcher, self.plan = searcher, plan
        sens = settings.sensitivity
        self.per_finalist = []
        jobs: list[dict[str, Any]] = []
        for finalist in inputs.finalists:
            neighbours = sensitivity_neighbours(plan.space, finalist.params, relative_step=sens.relative_step,
                                                integer_steps=sens.integer_steps)
            self.per_finalist.append((finalist, neighbours))
            jobs += [{"kind": "full", "params": dict(finalist.params)}]
            jobs += [{"kind": "full", "params": dict(n.params)} for n in neighbours]
        size = max(1, plan.directive.batch_size)
        self.task = _Fixed([jobs[i : i + size] for i in range(0, len(jobs), size)])

    def finish(self, out: SymbolGuards) -> dict[int, SensitivityScores]:
        outcomes = iter(self.task.flat())
        scores: dict[int, SensitivityScores] = {}
        objective, directive = self.searcher.objective, self.plan.directive
        for finalist, neighbours in self.per_finalist:
            values = [_objective(objective, next(outcomes), directive) for _ in range(len(neighbours) + 1)]
            scores[finalist.rank] = SensitivityScores(values[0], neighbours, np.array(values[1:]))
            out.series_rows += [{"symbol": self.searcher.symbol, "rank": finalist.rank,
                                 "series": "sensitivity_value", "i": i, "value": float(v)}
                                for i, v in enumerate(values)]
        return scores


def _objective(objective: Any, outcome: Any, directive: Any) -> float:
    metrics = None if isinstance(outcome, TrialLost) else outcome[0]
    if metrics is None:
        return math.nan
    try:
        return float(stage1_value(objective, metrics, min_trades=directive.stage1.min_trades,
                                  penalty_weight=float(directive.stage1.penalty_weight or 0.0)))
    except ObjectiveError:
        return math.nan
