"""Guard-stage benchmark: one symbol, 100k bars, 5 finalists, the validate preset (not part of the tests).

The defaults ARE the validate preset's budgets: stage 1 of 100 random trials, 5 finalists, 5 walk-forward
folds × 100 trials per fold, 100 permutations in search mode of stage 1's 100 trials each. Prints:

* the guard stage's seconds and stage 1's; the seconds per guard (each phase's wall-clock span — they
  overlap, since every phase runs in one stream — and the statistics job's actor seconds per guard);
* the guard stage's backtests per second over the WHOLE stage against the compute limit, measured two
  ways: workers × the in-process single-core rate of (a) the guard stage's own jobs (a replay of the
  walk-forward, sensitivity and 10 permuted searches' jobs in this process, permuted-series builds
  included: the work the stage really does; CPU seconds, the lower of two replays) and (b) stage-1 trials on the
  real bars (the figure the issue first used; permuted series and train windows backtest at other rates);
  with ``--sampler tpe`` every search is one job on an actor, its TPE sampling included, so (a) is the
  replay of the whole searches (sampling and backtests) in this process;
* the same replay in ``workers`` processes at once, without Ray: what shared caches and memory bandwidth
  leave of the limit when the cores work side by side;
* the actors' utilisation (busy time / (workers × wall)) and the driver's CPU seconds during the stage
  (on a machine with as many cores as workers, the driver's CPU is taken from the actors), and where the
  actors' time went: backtests at the in-process rate, the statistics job, the backtests' extra time on
  the actors, idle;
* "target met" / "target NOT met": the guard stage's backtests at >= 80 % of the compute limit (a).

``python benchmarks/bench_guards.py [--bars 100000] [--workers 2] [--trials 100] [--fold-trials 100]
[--permutations 100] [--sampler random|tpe] [--search-trials N (default: stage 1's trials)]
[--replay-permutations 10]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tradescan.paths import SEARCH_SPACES_DIR

SYMBOL = "EURUSD"
TIMEFRAME = "H1"
STRATEGY = "S1_TREND_EMA_ATR_ADX"
SPACE_FILE = Path(SEARCH_SPACES_DIR) / "s1_trend_ema_atr_adx.yaml"
TARGET = 0.80


def write_inputs(folder: Path, args: argparse.Namespace) -> Path:
    from tradescan import data

    data.write_dataset(data.synthesize(SYMBOL, TIMEFRAME, args.bars, seed=1), SYMBOL, TIMEFRAME,
                       data_dir=folder / "data")
    permutation: dict[str, Any] = {"n_permutations": args.permutations, "mode": "search"}
    if args.search_trials is not None:
        permutation["search_trials"] = args.search_trials
    body = {"name": "BENCH_GUARDS", "strategy": STRATEGY, "symbols": [SYMBOL], "timeframe": TIMEFRAME,
            "search": {"space": str(SPACE_FILE), "sampler": args.sampler, "trials": args.trials, "seed": 1},
            "stage1": {"min_trades": 100}, "stage2": {"top_k": 5}, "batch_size": 32,
            "guards": {"preset": "validate", "seed": 1,
                       "walk_forward": {"folds": 5, "trials_per_fold": args.fold_trials},
                       "permutation": permutation}}
    path = folder / "bench_guards.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def stage1_rates(data_dir: Path, n_trials: int) -> tuple[float, float]:
    """Return single-core trials/s of stage-1 trials without and with the daily returns (same parameters)."""
    from tradescan import data
    from tradescan.engine import BacktestSession
    from tradescan.engine.api import as_bars
    from tradescan.registry import get_strategy
    from tradescan.search_space import load_search_space
    from tradescan.sweep.draws import RandomDraws
    from tradescan.sweep.evaluator import evaluate_with_returns

    strategy = get_strategy(STRATEGY)
    space = load_search_space(SPACE_FILE, strategy)
    session = BacktestSession(as_bars(data.load(SYMBOL, TIMEFRAME, data_dir=data_dir), SYMBOL),
                              scenarios=("B", "A", "C"))
    draws = RandomDraws(space.distributions(), 9, SYMBOL)
    params = [draws.params(i) for i in range(n_trials)]
    for warm in params[:3]:
        session.evaluate(strategy, warm, ("B",))
        evaluate_with_returns(session, strategy, warm, "B")
    plain = with_returns = 0.0
    for _ in range(2):  # alternate, best of two: the machine is shared
        started = time.perf_counter()
        for values in params:
            session.evaluate(strategy, values, ("B",))
        plain = max(plain, n_trials / (time.perf_counter() - started))
        started = time.perf_counter()
        for values in params:
            evaluate_with_returns(session, strategy, values, "B")
        with_returns = max(with_returns, n_trials / (time.perf_counter() - started))
    return plain, with_returns


class Recorder:
    """Records every chunk of jobs the guard stage sends to the actors (wraps ``EvaluatorPool.stream``
    and ``submit``), for the in-process replay."""

    def __init__(self) -> None:
        self.chunks: list[list[dict[str, Any]]] = []

    def install(self) -> None:
        from tradescan.sweep.pool import EvaluatorPool

        original = EvaluatorPool.stream
        submit = EvaluatorPool.submit
        recorder = self

        def submitted(pool: Any, symbol: str, method: str, params_list: Any) -> Any:
            if method == "run_jobs":  # a guard stage sending batches (the code before streaming)
                recorder.chunks.append(list(params_list))
            return submit(pool, symbol, method, params_list)

        EvaluatorPool.submit = submitted  # type: ignore[method-assign]

        def stream(pool: Any, symbol: str, method: str, chunks: Any, depth: int = 2, **options: Any) -> Any:
            def tee() -> Any:
                for chunk in chunks:
                    if method == "run_jobs" and chunk:
                        recorder.chunks.append(list(chunk))
                    yield chunk

            return original(pool, symbol, method, tee() if method == "run_jobs" else chunks, depth, **options)

        EvaluatorPool.stream = stream  # type: ignore[method-assign]


def replay_seconds(
    plan: Any, data_dir: Path, chunks: list[list[dict[str, Any]]], n_permutations: int
) -> dict[str, Any]:
    """Replay the guard stage's backtest jobs in this process (one core) and return the single-core
    seconds per kind, extrapolated for the permuted searches from the first ``n_permutations`` series."""
    from tradescan import data
    from tradescan.sweep.evaluator import EvaluatorCore, bars_payload
    from tradescan.sweep.settings import EvaluatorSettings

    core = EvaluatorCore(EvaluatorSettings.from_plan(plan))
    core.load_symbol(SYMBOL, bars_payload(data.load(SYMBOL, TIMEFRAME, data_dir=data_dir), SYMBOL,
                                          plan.instruments.get(SYMBOL)))
    jobs = [job for chunk in chunks for job in chunk if job["kind"] not in ("statistics", "regime")]
    counts = Counter(_kind(job) for job in jobs)
    trials = Counter({kind: 0 for kind in counts})
    for job in jobs:
        trials[_kind(job)] += _trials(job)
    seeds = list(dict.fromkeys(seed for seed in map(_series_seed, jobs) if seed is not None))
    sample_seeds = set(seeds[:n_permutations])
    sample = [job for job in jobs if _series_seed(job) is None or _series_seed(job) in sample_seeds]
    # one permuted series after the other (stable: each series' trials in their order), as one actor of
    # the stage meets them: each series is built once, whatever order the stage sent its batches in
    sample.sort(key=lambda job: -1 if _series_seed(job) is None else seeds.index(_series_seed(job)))
    # load every compiled kernel first (a fresh process loads them from numba's cache on first use), on
    # a window and a permuted series the sample does not use
    warm = next(job["params"] for job in jobs if job["params"])
    spare = max(seeds, default=0) + 1
    core.run_jobs(SYMBOL, [{"kind": "full", "params": warm},
                           {"kind": "window", "start": 1, "end": 20_001, "params": warm},
                           {"kind": "permuted", "seed": spare, "keep_bars": 0, "params": warm}])
    seconds: Counter[str] = Counter()
    replayed: Counter[str] = Counter()
    for job in sample:
        started = time.thread_time()  # CPU seconds: what the work costs when it has the core (load-proof)
        core.run_jobs(SYMBOL, [job])
        seconds[_kind(job)] += time.thread_time() - started
        replayed[_kind(job)] += 1
    total = sum(seconds[kind] * counts[kind] / replayed[kind] for kind in counts)
    return {"counts": dict(counts), "trials": dict(trials), "replayed": dict(replayed), "seconds": dict(seconds),
            "total": total}


def _kind(job: dict[str, Any]) -> str:
    """A job's kind; a whole TPE search (``search``) by what it searches: ``search:permuted``, ``search:window``."""
    return f"search:{job['spec'].target['kind']}" if job["kind"] == "search" else str(job["kind"])


def _trials(job: dict[str, Any]) -> int:
    """The backtests a job runs: a whole search its budget, any other job one."""
    return int(job["spec"].budget) if job["kind"] == "search" else 1


def _series_seed(job: dict[str, Any]) -> int | None:
    """The permuted series a job runs on (its seed), or ``None`` on the real bars."""
    target = job["spec"].target if job["kind"] == "search" else job
    return int(target["seed"]) if target["kind"] == "permuted" else None


def _replay_worker(args: tuple[Path, Path, list[list[dict[str, Any]]], int]) -> float:
    from tradescan.preflight import prepare

    directive, data_dir, chunks, n_permutations = args
    return float(replay_seconds(prepare(directive, data_dir=data_dir), data_dir, chunks, n_permutations)["total"])


def parallel_replay_seconds(
    directive: Path, data_dir: Path, chunks: list[list[dict[str, Any]]], n_permutations: int, workers: int
) -> float:
    """Return the mean single-core seconds of the replay when ``workers`` processes run it at once
    (no Ray): what the machine itself allows in parallel (shared caches, memory, other load)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as processes:
        totals = processes.map(_replay_worker, [(directive, data_dir, chunks, n_permutations)] * workers)
    return sum(totals) / len(totals)


def busy_cpu(pool: Any) -> float:
    """Return the actors' busy CPU seconds; NaN for an evaluator from before ``busy_cpu_seconds``
    (benchmarking older code), printed as such."""
    if not hasattr(pool.actors[0], "busy_cpu_seconds"):
        return float("nan")
    return float(sum(pool.call_all("busy_cpu_seconds")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=100, help="stage-1 trials")
    parser.add_argument("--fold-trials", type=int, default=100, help="walk-forward trials per fold")
    parser.add_argument("--permutations", type=int, default=100)
    parser.add_argument("--sampler", choices=("random", "tpe"), default="random",
                        help="the directive's sampler, which every guard search uses too")
    parser.add_argument("--search-trials", type=int, default=None,
                        help="trials per permuted search (default: stage 1's, the validate preset's)")
    parser.add_argument("--replay-permutations", type=int, default=10,
                        help="permuted searches replayed in-process for the compute limit")
    args = parser.parse_args()

    import ray

    from tradescan.preflight import prepare
    from tradescan.results import ResultsStore
    from tradescan.sweep.driver import SweepDriver

    recorder = Recorder()
    recorder.install()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        directive = write_inputs(folder, args)
        plain_rate, returns_rate = stage1_rates(folder / "data", 100)
        ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                 logging_level=40)
        plan = prepare(directive, data_dir=folder / "data")
        store = ResultsStore(folder / "r")
        store.root.mkdir(parents=True, exist_ok=True)
        timed: dict[str, float] = {}
        with store.lock(plan.run_id):
            driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=args.workers)
            original = driver._guards

            def timed_guards(pool: Any, *rest: Any) -> Any:
                busy_before = sum(pool.call_all("busy_seconds"))
                cpu_before = busy_cpu(pool)
                started, cpu = time.perf_counter(), time.process_time()
                result = original(pool, *rest)
                timed.update(wall=time.perf_counter() - started, driver_cpu=time.process_time() - cpu)
                timed.update(busy=sum(pool.call_all("busy_seconds")) - busy_before, workers=pool.size,
                             busy_cpu=busy_cpu(pool) - cpu_before)
                return result

            driver._guards = timed_guards  # type: ignore[method-assign]
            manifest = driver.run()
        ray.shutdown()
        entry = manifest.symbols[SYMBOL]
        if entry.status != "DONE":
            raise SystemExit(f"bench_guards: the sweep of {SYMBOL} ended {entry.status}: {entry.error}")
        load_after = os.getloadavg()[0]
        replay = replay_seconds(plan, folder / "data", recorder.chunks, args.replay_permutations)
        together = parallel_replay_seconds(directive, folder / "data", recorder.chunks, args.replay_permutations,
                                           args.workers)
        again = replay_seconds(plan, folder / "data", recorder.chunks, args.replay_permutations)
        replay["total"] = min(replay["total"], again["total"])  # the machine is shared: its better moment

    section = manifest.guards["symbols"][SYMBOL]
    seconds = section["seconds"]
    backtests = sum(replay["trials"].values())
    stage1_s = manifest.stage_seconds.stage1
    wall = timed["wall"]
    rate = backtests / wall
    limit = args.workers * backtests / replay["total"]
    stage1_limit = args.workers * plain_rate
    search_trials = args.search_trials or args.trials
    print(f"bars {args.bars}, workers {args.workers}, stage-1 trials {args.trials}, finalists "
          f"{len(section['finalists'])}; walk-forward 5 folds x {args.fold_trials} trials; "
          f"{args.permutations} permutations (search mode) x {search_trials} trials")
    print(f"stage 1: {stage1_s:.2f} s; guard stage: {wall:.2f} s ({wall / max(stage1_s, 1e-9):.1f} x stage 1; "
          f"run_guard_stage {seconds.get('total', 0.0):.2f} s, the rest reads/writes the trial returns)")
    print("seconds per guard (phase spans overlap: every phase runs in one stream):")
    phases = (("wfe, sharpe_oos, trades_oos", "walk-forward searches + tests", "walk_forward"),
              ("mc_pvalue", "permuted searches", "mc_pvalue"), ("sensitivity", "neighbours", "sensitivity"))
    for guards, what, key in phases:
        print(f"  {guards:<28} {what:<30} {seconds.get(key, 0.0):6.2f} s span")
    print(f"  statistics job, on one actor, overlapped with the searches: {seconds.get('statistics', 0.0):.2f} "
          "actor-s:")
    for key in sorted(k for k in seconds if k.startswith("statistics.")):
        print(f"    {key.removeprefix('statistics.'):<26} {seconds[key]:6.2f} s")
    print(f"  verdicts (driver, at the end; actors idle)                  {seconds.get('verdicts', 0.0):6.2f} s")
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(replay["trials"].items()))
    print(f"guard-stage backtests: {backtests} ({kinds}) at {rate:.1f}/s over the whole stage")
    print(f"  compute limit (a), the stage's own jobs replayed in-process: {replay['total']:.2f} single-core CPU s "
          f"-> {limit:.1f}/s with {args.workers} workers: {rate / limit * 100:.0f} % of it")
    print(f"  compute limit (b), stage-1 trials in-process: {plain_rate:.1f}/s ({returns_rate:.1f}/s with daily "
          f"returns) -> {stage1_limit:.1f}/s: {rate / stage1_limit * 100:.0f} % of it")
    parallel = args.workers * backtests / together
    print(f"  {args.workers} processes replaying at once (no Ray): {together:.2f} CPU s each -> {parallel:.1f}/s = "
          f"{parallel / limit * 100:.0f} % of (a) (side by side, shared caches and memory slow each one); the "
          f"stage is at {rate / parallel * 100:.0f} % of that")
    utilisation = timed["busy"] / (timed["workers"] * wall)
    print(f"actor utilisation during the guard stage: {utilisation * 100:.0f} % (busy {timed['busy']:.2f} actor-s, "
          f"of which the statistics job {seconds.get('statistics', 0.0):.2f}); driver CPU {timed['driver_cpu']:.2f} s "
          f"({timed['driver_cpu'] / wall * 100:.0f} % of one core)")
    available = timed["workers"] * wall
    stats_s = float(seconds.get("statistics", 0.0))
    extra = timed["busy"] - stats_s - replay["total"]
    off_cpu = timed["busy"] - timed["busy_cpu"]
    parts = (("backtests at the in-process rate", replay["total"]), ("the statistics job", stats_s),
             ("backtests' extra CPU on the actors", extra - off_cpu),
             ("off the CPU while busy (other processes had the core)", off_cpu),
             ("idle", available - timed["busy"]))
    print(f"where the actors' {available:.2f} actor-s went: "
          + "; ".join(f"{name} {value:.2f} ({value / available * 100:.0f} %)" for name, value in parts))
    print(f"DSR {section['dsr']}, PBO {section['pbo']}, WFE {section['wfe']}, N_eff {section['n_eff_trials']}")
    print(f"load average (1 min) before the sweep {load_before:.2f}, after it {load_after:.2f}, at the end "
          f"{os.getloadavg()[0]:.2f}: other processes share the cores, every rate above is noisy")
    met = rate / limit >= TARGET
    print(f"target (guard-stage backtests >= {TARGET:.0%} of the compute limit (a)): "
          f"{'met' if met else 'NOT met'} ({rate / limit * 100:.0f} %)")


if __name__ == "__main__":
    main()
