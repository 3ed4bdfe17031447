"""The guard stage of one symbol: gather every guard's evidence on the actor pool, then the verdicts.

``run_guard_stage(pool, plan, symbol, inputs, settings)`` is the one call the driver (after stage 2) and
``tradescan validate`` (on a stored run) make. Every backtest runs on the ``EvaluatorPool`` that already
holds the symbol's bars, as ``EvaluatorCore.run_jobs`` jobs of one parameter set each, so a batch
splits evenly over the actors whatever it mixes:

* walk-forward: the folds of ``guards.walk_forward_folds``; on every train window the directive's search
  (same sampler; seeds derived from ``guards.seed``) runs with ``trials_per_fold`` trials, all folds'
  searches advancing together one batch at a time; each fold's best is tested on its test window. The
  walk-forward belongs to the symbol (its searches do not depend on a finalist): every finalist gets
  the same WFE / OOS Sharpe / OOS trades, and ``walk_forward.parquet`` has ``rank`` 0.
* MC permutation: series ``k`` is ``permute_bars(bars, derive_seed(seed, "permutation", k))``, built
  inside the actors (the same permutation for every symbol of equal length). Mode ``finalist``
  scores each finalist's parameters; mode ``search`` re-runs the search with ``search_trials`` (default:
  stage 1's count) and compares its best value with the best of stage 1's first as many trials.
* sensitivity: every neighbour of every finalist in one batch.
* bootstrap PF, top-10 share (stage-1 scenario's trades), stress Sharpe (scenario C), regime mismatch,
  DSR and PBO (the stage-1 trial returns) need no new backtest, except one call for the regime labels.

Searches are deterministic: asks and tells happen in the driver in a fixed order, batches are
``batch_size`` trials whatever the worker count, and every seed is derived from labels.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tradescan.engine.broker import SymbolSpread
from tradescan.guards import (
    DeflationInput,
    FoldResult,
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
from tradescan.sweep.draws import RandomDraws
from tradescan.sweep.evaluator import MAX_PERMUTED_SESSIONS
from tradescan.sweep.objectives import ObjectiveError, get_objective, stage1_value
from tradescan.sweep.pool import EvaluatorPool
from tradescan.sweep.progress import NullProgress

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


# --- searches on the pool -----------------------------------------------------------------------------


@dataclass
class _Search:
    """One search (a train window, or a permuted series): its job template, sampler and best so far."""

    job: dict[str, Any]
    budget: int
    min_trades: int
    study: optuna.Study | None = None
    draws: RandomDraws | None = None
    grid: list[dict[str, Any]] | None = None
    asked: int = 0
    best: tuple[float, int, dict[str, Any], dict[str, float]] | None = None


class _Searcher:
    """Runs several searches at once on the pool, one batch of each per round (see the module docstring)."""

    def __init__(self, pool: EvaluatorPool, plan: SweepPlan, symbol: str) -> None:
        self.pool, self.plan, self.symbol = pool, plan, symbol
        self.directive = plan.directive
        self.objective = get_objective(self.directive.stage1.objective)
        self.space = plan.space
        self.distributions = plan.space.distributions()

    def new(self, job: dict[str, Any], budget: int, seed: int, min_trades: int) -> _Search:
        search = _Search(job, budget, min_trades)
        sampler = self.directive.search.sampler
        if sampler == "tpe":
            search.study = optuna.create_study(direction="maximize",
                                               sampler=optuna.samplers.TPESampler(seed=seed % 2**32,
                                                                                  constant_liar=True))
        elif sampler == "grid":
            from tradescan.sweep.grid import plan_grid

            search.grid = plan_grid(self.space, str(self.directive.search.preset), budget).points
            search.budget = len(search.grid)
        else:
            search.draws = RandomDraws(self.distributions, seed, self.symbol)
        return search

    def _ask(self, search: _Search, n: int) -> list[tuple[Any, dict[str, Any]]]:
        asked: list[tuple[Any, dict[str, Any]]] = []
        for number in range(search.asked, search.asked + n):
            if search.study is not None:
                trial = search.study.ask(self.distributions)
                asked.append((trial, trial.params))
            elif search.grid is not None:
                asked.append((number, dict(search.grid[number])))
            else:
                assert search.draws is not None
                asked.append((number, search.draws.params(number)))
        search.asked += n
        return asked

    def run(self, searches: Sequence[_Search], progress: NullProgress, label: str) -> None:
        """Advance every search one batch per round until each has spent its budget."""
        batch = self.directive.batch_size
        while any(s.asked < s.budget for s in searches):
            rounds: list[tuple[_Search, list[tuple[Any, dict[str, Any]]]]] = []
            jobs: list[dict[str, Any]] = []
            for search in searches:
                if search.asked >= search.budget:
                    continue
                asked = self._ask(search, min(batch, search.budget - search.asked))
                rounds.append((search, asked))
                jobs += [{**search.job, "params": params} for _, params in asked]
            outcomes = iter(self.pool.map(self.symbol, "run_jobs", jobs))
            for search, asked in rounds:
                for handle, params in asked:
                    self._tell(search, handle, params, next(outcomes))
            progress.advance(self.symbol, len(jobs), None)
            progress.note(self.symbol, label)

    def _tell(self, search: _Search, handle: Any, params: dict[str, Any], outcome: Any) -> None:
        metrics = outcome[0]
        violated = self.space.violated_constraint(params)
        value: float | None = None
        if metrics is not None and violated is None:
            try:
                value = stage1_value(self.objective, metrics, min_trades=search.min_trades,
                                     penalty_weight=float(self.directive.stage1.penalty_weight or 0.0))
            except ObjectiveError:
                value = None
        if value is not None and not math.isfinite(value):
            value = None
        number = handle.number if search.study is not None else int(handle)
        if search.study is not None:
            if value is None:
                search.study.tell(handle, None, state=TrialState.FAIL)
            else:
                search.study.tell(handle, value)
        if value is not None and (search.best is None or value > search.best[0]):
            search.best = (value, number, dict(params), dict(metrics or {}))


# --- the stage ----------------------------------------------------------------------------------------


def run_guard_stage(
    pool: EvaluatorPool,
    plan: SweepPlan,
    symbol: str,
    inputs: GuardInputs,
    settings: GuardSettings,
    progress: NullProgress | None = None,
) -> SymbolGuards:
    """Compute every active guard of every finalist of ``symbol`` and their verdicts."""
    progress = progress or NullProgress()
    out = SymbolGuards()
    active = set(settings.active_guards())
    trial_returns = _trial_returns(inputs)
    progress.start_symbol(symbol, _planned_backtests(plan, inputs, settings, active), 0)
    searcher = _Searcher(pool, plan, symbol)
    timer = _Timer(out.seconds)

    walk_forward = None
    if active & {"wfe", "sharpe_oos", "trades_oos"}:
        with timer("walk_forward"):
            walk_forward = _walk_forward(searcher, plan, inputs, settings, progress, out)
    permutation: dict[int, PermutationScores] = {}
    if "mc_pvalue" in active:
        with timer("mc_pvalue"):
            permutation = _permutation(searcher, plan, inputs, settings, progress, out)
    sensitivity: dict[int, SensitivityScores] = {}
    if "sensitivity" in active:
        with timer("sensitivity"):
            sensitivity = _sensitivity(searcher, plan, inputs, settings, out)
    regime = None
    if "regime_mismatch" in active:
        with timer("regime_mismatch"):
            arrays = pool.map(symbol, "run_jobs", [{"kind": "regime", "params": {}}])[0]
            regime = RegimeCheck(settings=plan.backtest.regime, **arrays)
    with timer("statistics"):
        for finalist in inputs.finalists:
            evidence = GuardEvidence(
                walk_forward=walk_forward,
                permutation=permutation.get(finalist.rank),
                sensitivity=sensitivity.get(finalist.rank),
                trades=TradeSample(finalist.trade_pnl, plan.directive.stage1.scenario),
                stress=_stress(finalist),
                regime=regime,
                deflation=_deflation(finalist, trial_returns),
                trials=trial_returns,
            )
            _mc1(symbol, finalist, plan, settings, out)
            _mc2(symbol, finalist, plan, settings, out)
            results = evaluate_guards(evidence, settings)
            decided = verdict(results, settings)
            out.guard_rows += [{"symbol": symbol, "rank": finalist.rank, **r.to_dict()} for r in results]
            out.summary.setdefault("finalists", []).append({
                "rank": finalist.rank, "params": dict(finalist.params), "prod_ready": decided.prod_ready,
                "failed": list(decided.failed),
                "guards": {r.name: _guard_json(r) for r in results},
            })
        _symbol_summary(symbol, out, inputs, trial_returns, settings)
    progress.note(symbol, "guards done")
    return out


class _Timer:
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


def _trial_returns(inputs: GuardInputs) -> TrialReturns | None:
    numbers = sorted(inputs.returns)
    if not numbers:
        return None
    matrix = np.column_stack([np.asarray(inputs.returns[n], dtype=np.float64) for n in numbers])
    return TrialReturns(matrix, n_trials=len(inputs.trials), trial_numbers=tuple(numbers))


def _deflation(finalist: FinalistInput, trials: TrialReturns | None) -> DeflationInput | None:
    if trials is None or trials.trial_numbers is None or finalist.trial not in trials.trial_numbers:
        return None
    column = trials.trial_numbers.index(finalist.trial)
    return DeflationInput(trials.returns[:, column], trials)


def _stress(finalist: FinalistInput) -> ScenarioSharpe | None:
    metrics = finalist.metrics.get("C")
    if not metrics or metrics.get("sharpe") is None or not math.isfinite(float(metrics["sharpe"])):
        return None
    return ScenarioSharpe(float(metrics["sharpe"]), int(metrics.get("trades", 0)), "C")


def _symbol_summary(
    symbol: str, out: SymbolGuards, inputs: GuardInputs, trials: TrialReturns | None, settings: GuardSettings
) -> None:
    """Fill the symbol's summary: the best finalist's DSR, PBO and WFE (DSR and PBO for every preset,
    even one without those guards), the trial counts and PBO's logits."""
    best = inputs.finalists[0].rank if inputs.finalists else -1
    first = {r["guard"]: r["value"] for r in out.guard_rows if r["rank"] == best}
    summary = out.summary
    summary.setdefault("finalists", [])
    if "dsr" not in first and inputs.finalists and trials is not None:
        deflation = _deflation(inputs.finalists[0], trials)
        first["dsr"] = get_guard("dsr").evaluate(deflation, settings).value if deflation is not None else None
    if "pbo" not in first and trials is not None:
        first["pbo"] = get_guard("pbo").evaluate(trials, settings).value
    summary.update(dsr=_finite(first.get("dsr")), pbo=_finite(first.get("pbo")), wfe=_finite(first.get("wfe")),
                   n_trials=len(inputs.trials), n_eff_trials=None)
    if trials is None:
        return
    summary["n_eff_trials"] = _finite(float(trials.effective_trials().n_effective))
    try:
        logits = trials.pbo(settings.pbo.n_splits).logits
    except (UndefinedStatistic, ValueError):
        return  # the pbo guard (or the summary's None) already says why
    out.series_rows += [{"symbol": symbol, "rank": 0, "series": "pbo_logit", "i": i, "value": float(v)}
                        for i, v in enumerate(logits)]


def _mc1(symbol: str, finalist: FinalistInput, plan: SweepPlan, settings: GuardSettings, out: SymbolGuards) -> None:
    """Report MC1 (reported beside the guards, deciding nothing): the max-drawdown samples of a block
    bootstrap of the finalist's trade returns as fractions of equity, compounded."""
    pnl = finalist.trade_pnl
    if len(pnl) < 2:
        _not_reported(out, "mc1", finalist.rank, f"{len(pnl)} trade(s): nothing to resample")
        return
    options = settings.mc1
    try:
        fractions = trade_return_fractions(pnl, equity_before_trades(pnl, plan.backtest.capital.initial))
        drawdowns = mc_drawdown(fractions, seed=settings.derive_seed("mc1", symbol, finalist.rank),
                                n_paths=options.n_paths, block_length=options.block_length,
                                drawdown_threshold=options.drawdown_threshold)
    except (UndefinedStatistic, ValueError) as exc:
        # e.g. the equity was wiped out before a trade: no fraction of equity to resample
        _not_reported(out, "mc1", finalist.rank, str(exc))
        return
    out.series_rows += [{"symbol": symbol, "rank": finalist.rank, "series": "mc1_max_drawdown", "i": i,
                         "value": float(v)} for i, v in enumerate(drawdowns.max_drawdown)]


def _mc2(symbol: str, finalist: FinalistInput, plan: SweepPlan, settings: GuardSettings, out: SymbolGuards) -> None:
    """Report MC2 (beside the guards, deciding nothing): the net PnL samples when every trade's spread
    and slippage are scaled by random multipliers (``mc_cost_noise``), commission kept as paid."""
    trades = finalist.trades
    if trades is None or trades.empty:
        _not_reported(out, "mc2", finalist.rank, "no trades")
        return
    broker = plan.backtest.broker
    scenario = broker.scenario(plan.directive.stage1.scenario)
    options = settings.mc2
    try:
        costs = split_trade_costs(trades, broker.symbol_spread(symbol), scenario.spread_mult)
        noise = mc_cost_noise(costs, seed=settings.derive_seed("mc2", symbol, finalist.rank), n_paths=options.n_paths,
                              spread_mult_range=options.spread_mult_range,
                              slippage_mult_range=options.slippage_mult_range)
    except ValueError as exc:
        # e.g. a negative slippage_add_pips made a trade's slippage < 0: no cost to scale
        _not_reported(out, "mc2", finalist.rank, str(exc))
        return
    out.series_rows += [{"symbol": symbol, "rank": finalist.rank, "series": "mc2_net_pnl", "i": i,
                         "value": float(v)} for i, v in enumerate(noise.net_pnl)]


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


def _walk_forward(
    searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings,
    progress: NullProgress, out: SymbolGuards,
) -> WalkForwardResult | None:
    wf = settings.walk_forward
    n_bars = len(inputs.times)
    try:
        folds = walk_forward_folds(n_bars, wf.folds, train_fraction=wf.train_fraction, anchored=wf.anchored)
    except ValueError:
        return None  # the guards fail with "not gathered"; the fold layout cannot exist
    min_trades = plan.directive.stage1.min_trades
    searches = [
        searcher.new({"kind": "window", "start": f.train_start, "end": f.train_end}, wf.trials_per_fold,
                     derive_seed(settings.seed, "walk_forward", f.fold),
                     math.ceil(min_trades * f.train_bars / max(1, n_bars)))
        for f in folds
    ]
    searcher.run(searches, progress, "walk-forward")
    best = [s.best for s in searches]
    tests = [{"kind": "window", "start": f.test_start, "end": f.test_end, "returns": True,
              "params": b[2] if b else {}} for f, b in zip(folds, best, strict=True)]
    tested = searcher.pool.map(searcher.symbol, "run_jobs", [t for t, b in zip(tests, best, strict=True) if b])
    tested_iter = iter(tested)
    days_per_year = plan.instruments[searcher.symbol].days_per_year if searcher.symbol in plan.instruments else 252
    results: list[FoldResult] = []
    times = inputs.times
    for fold, found in zip(folds, best, strict=True):
        row = {"symbol": searcher.symbol, "rank": 0, "fold": fold.fold,
               "train_start": times[fold.train_start], "train_end": times[fold.train_end - 1],
               "test_start": times[fold.test_start], "test_end": times[fold.test_end - 1],
               "is_return": math.nan, "oos_return": math.nan, "oos_sharpe": math.nan, "oos_trades": 0,
               "params": "{}"}
        if found is not None:
            metrics, _, returns = next(tested_iter)
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
    out.series_rows += [{"symbol": searcher.symbol, "rank": 0, "series": "wf_oos_equity", "i": i, "value": float(v)}
                        for i, v in enumerate(equity)]
    return complete


def _days(times: np.ndarray, start: int, end: int) -> int:
    first = np.datetime64(times[start], "D")
    last = np.datetime64(times[end - 1], "D")
    return int((last - first) // np.timedelta64(1, "D")) + 1


# --- permutation --------------------------------------------------------------------------------------


def _permutation(
    searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings,
    progress: NullProgress, out: SymbolGuards,
) -> dict[int, PermutationScores]:
    perm = settings.permutation
    keep = perm.keep_bars if perm.keep_bars is not None else 0
    seeds = [derive_seed(settings.seed, "permutation", k) for k in range(perm.n_permutations)]
    symbol = searcher.symbol
    scores: dict[int, PermutationScores] = {}
    if settings.permutation_mode == "finalist":
        jobs = [{"kind": "permuted", "seed": seed, "keep_bars": keep, "params": dict(f.params)}
                for seed in seeds for f in inputs.finalists]
        outcomes = searcher.pool.map(symbol, "run_jobs", jobs)
        progress.advance(symbol, len(jobs), None)
        n_fin = len(inputs.finalists)
        for index, finalist in enumerate(inputs.finalists):
            permuted = np.array([_sharpe(outcomes[k * n_fin + index]) for k in range(len(seeds))])
            real = float(finalist.metrics.get(plan.directive.stage1.scenario, {}).get("sharpe", math.nan))
            scores[finalist.rank] = PermutationScores(real, permuted, "finalist", "sharpe")
    else:
        budget = _search_budget(plan, settings)
        searches = [searcher.new({"kind": "permuted", "seed": seed, "keep_bars": keep}, budget,
                                 plan.directive.search.seed, plan.directive.stage1.min_trades) for seed in seeds]
        # A few series at a time, so each actor builds each permuted series once and holds at most
        # MAX_PERMUTED_SESSIONS (the searches are independent: grouping changes no number).
        group = MAX_PERMUTED_SESSIONS * searcher.pool.size
        for first in range(0, len(searches), group):
            searcher.run(searches[first : first + group], progress, "permutation")
        permuted = np.array([s.best[0] if s.best else math.nan for s in searches])
        complete = sorted((t for t in inputs.trials if t.state == TrialState.COMPLETE and t.value is not None),
                          key=lambda t: t.number)
        real = max((float(t.value or 0.0) for t in complete if t.number < budget), default=math.nan)
        for finalist in inputs.finalists:
            scores[finalist.rank] = PermutationScores(real, permuted, "search", "best stage-1 value")
    for rank, score in scores.items():
        out.series_rows += [{"symbol": symbol, "rank": rank, "series": "mc_perm_sharpe", "i": i, "value": float(v)}
                            for i, v in enumerate(score.permuted)]
    return scores


def _sharpe(outcome: Any) -> float:
    metrics = outcome[0]
    return float(metrics.get("sharpe", math.nan)) if metrics is not None else math.nan


# --- sensitivity --------------------------------------------------------------------------------------


def _sensitivity(
    searcher: _Searcher, plan: SweepPlan, inputs: GuardInputs, settings: GuardSettings, out: SymbolGuards,
) -> dict[int, SensitivityScores]:
    sens = settings.sensitivity
    per_finalist = []
    jobs: list[dict[str, Any]] = []
    for finalist in inputs.finalists:
        neighbours = sensitivity_neighbours(plan.space, finalist.params, relative_step=sens.relative_step,
                                            integer_steps=sens.integer_steps)
        per_finalist.append((finalist, neighbours))
        jobs += [{"kind": "full", "params": dict(finalist.params)}]
        jobs += [{"kind": "full", "params": dict(n.params)} for n in neighbours]
    outcomes = iter(searcher.pool.map(searcher.symbol, "run_jobs", jobs)) if jobs else iter(())
    scores: dict[int, SensitivityScores] = {}
    objective, directive = searcher.objective, plan.directive
    for finalist, neighbours in per_finalist:
        values = [_objective(objective, next(outcomes), directive) for _ in range(len(neighbours) + 1)]
        scores[finalist.rank] = SensitivityScores(values[0], neighbours, np.array(values[1:]))
        out.series_rows += [{"symbol": searcher.symbol, "rank": finalist.rank, "series": "sensitivity_value",
                             "i": i, "value": float(v)} for i, v in enumerate(values)]
    return scores


def _objective(objective: Any, outcome: Any, directive: Any) -> float:
    metrics = outcome[0]
    if metrics is None:
        return math.nan
    try:
        return float(stage1_value(objective, metrics, min_trades=directive.stage1.min_trades,
                                  penalty_weight=float(directive.stage1.penalty_weight or 0.0)))
    except ObjectiveError:
        return math.nan
