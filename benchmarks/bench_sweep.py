"""Sweep benchmark: one symbol, 100k bars, S1 (not part of the test run).

Prints, best of ``--repeat`` runs (the machine is shared, figures are noisy):

* stage-1 trials/s with the random sampler, the grid sampler (the space's ``medium`` preset, 1,152 points)
  and TPE (the driver's stage-1 time, Ray startup excluded);
* the compute limit: workers x the in-process single-core backtest rate (same space, scenario B), the
  single-core rate measured right before and right after each sweep and the higher one kept (the
  conservative limit on a shared machine);
* ``workers`` plain processes running that single-core loop at the same time (no Ray): what the
  machine's cores give side by side (below ``workers`` x one alone where they share caches or memory bandwidth);
* Optuna's own in-memory ask/tell rate for the same space and trial count;
* the private memory (USS) a second actor adds by holding the bars, against the bar data's size, and
  separately the derived session arrays and indicator cache per symbol;
* seconds from the sweep's start (``prepare``, Ray not yet running) to the first trial result, and
  the ``ray.init`` part of it.

Targets: random and grid >= 80 % of the compute limit; TPE >= 90 % of Optuna's own rate; each extra
actor adds < 10 % of the bar data in memory; first result <= 10 s after start. Each is printed with
"met" or "NOT met".

Run: ``python benchmarks/bench_sweep.py [--bars 100000] [--workers 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import yaml

SYMBOL = "EURUSD"
TIMEFRAME = "H1"
STRATEGY = "S1_TREND_EMA_ATR_ADX"
from tradescan.paths import SEARCH_SPACES_DIR  # noqa: E402

SPACE_FILE = SEARCH_SPACES_DIR / "s1_trend_ema_atr_adx.yaml"
SECOND_SYMBOL = "GBPUSD"
MB = 1024 * 1024


class FirstResultClock:
    """A progress display that only notes when the first batch of trials came back."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_result_s: float | None = None

    def __enter__(self) -> FirstResultClock:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start_symbol(self, symbol: str, total: int, done: int) -> None:
        return None

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        if self.first_result_s is None:
            self.first_result_s = time.perf_counter() - self.started

    def note(self, symbol: str, text: str) -> None:
        return None


def write_data(folder: Path, n_bars: int) -> None:
    from tradescan import data

    data.write_dataset(data.synthesize(SYMBOL, TIMEFRAME, n_bars, seed=1), SYMBOL, TIMEFRAME, data_dir=folder)


def write_directive(folder: Path, sampler: str, trials: int, batch_size: int, tag: str) -> Path:
    search: dict[str, Any] = {"space": str(SPACE_FILE), "sampler": sampler, "trials": trials, "seed": 1}
    if sampler == "grid":
        # search.trials caps a grid (default 200): every one of the preset's 1,152 points
        search = {"space": str(SPACE_FILE), "sampler": "grid", "preset": "medium", "trials": 1152, "seed": 1}
    body = {"name": f"BENCH_{tag}", "strategy": STRATEGY, "symbols": [SYMBOL], "timeframe": TIMEFRAME,
            "search": search,
            "stage1": {"min_trades": 100}, "stage2": {"top_k": 1}, "batch_size": batch_size}
    path = folder / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def sweep_rate(
    directive: Path, data_dir: Path, workers: int, results: Path
) -> tuple[float, float | None, float | None]:
    """Run a sweep; return (stage-1 trials/s, seconds from start to the first result, ray.init seconds)."""
    from tradescan.preflight import prepare
    from tradescan.results import ResultsStore
    from tradescan.sweep.driver import SweepDriver

    started = time.perf_counter()
    clock = FirstResultClock(started)
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results)
    store.root.mkdir(parents=True, exist_ok=True)
    with store.lock(plan.run_id):
        driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=workers, progress=clock)  # type: ignore[arg-type]
        manifest = driver.run()
    entry = manifest.symbols[SYMBOL]
    assert entry.trials is not None and entry.stage1 is not None
    return entry.trials.ran / entry.stage1.seconds, clock.first_result_s, manifest.stage_seconds.ray_init


def single_core_rate(data_dir: Path, n_trials: int, barrier: Any = None) -> float:
    """Backtests per second in this process on one core (session built once, like an actor).

    ``barrier``: wait on it after the warm-up, so that several processes time their loops together.
    """
    from tradescan import data
    from tradescan.engine import BacktestSession
    from tradescan.engine.api import as_bars
    from tradescan.registry import get_strategy
    from tradescan.search_space import load_search_space

    strategy = get_strategy(STRATEGY)
    space = load_search_space(SPACE_FILE, strategy)
    session = BacktestSession(as_bars(data.load(SYMBOL, TIMEFRAME, data_dir=data_dir), SYMBOL),
                              scenarios=("B", "A", "C"))
    sampler_study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    params = [sampler_study.ask(space.distributions()).params for _ in range(n_trials)]
    for warm in params[:5]:
        session.evaluate(strategy, warm, ("B",))
    if barrier is not None:
        barrier.wait()
    started = time.perf_counter()
    for values in params:
        session.evaluate(strategy, values, ("B",))
    return n_trials / (time.perf_counter() - started)


def _side_by_side_child(data_dir: Path, n_trials: int, barrier: Any, results: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a spawned process starts with Optuna's defaults
    results.put(single_core_rate(data_dir, n_trials, barrier))


def side_by_side_rate(data_dir: Path, workers: int, n_trials: int) -> float:
    """Backtests per second of ``workers`` plain processes running the single-core loop at the same time
    (no Ray, no driver): what the machine's cores give side by side, against ``workers`` x one alone."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers), context.Queue()
    children = [context.Process(target=_side_by_side_child, args=(data_dir, n_trials, barrier, results))
                for _ in range(workers)]
    for child in children:
        child.start()
    rates = [results.get(timeout=300) for _ in children]
    for child in children:
        child.join()
    return float(sum(rates))


def optuna_rate(sampler: str, n_trials: int) -> float:
    """Optuna's own in-memory ask/tell rate for the S1 space (constant-liar TPE as the sweep uses)."""
    from tradescan.registry import get_strategy
    from tradescan.search_space import load_search_space

    space = load_search_space(SPACE_FILE, get_strategy(STRATEGY))
    distributions = space.distributions()
    chosen = (optuna.samplers.TPESampler(seed=1, constant_liar=True) if sampler == "tpe"
              else optuna.samplers.RandomSampler(seed=1))
    study = optuna.create_study(direction="maximize", sampler=chosen)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for _ in range(n_trials):
        trial = study.ask(distributions)
        study.tell(trial, float(rng.normal()))
    return n_trials / (time.perf_counter() - started)


def actor_memory(data_dir: Path, workers: int) -> dict[str, float]:
    """Private memory one evaluator adds per symbol: its session arrays and its indicator cache.

    Measured on a second symbol, after a first one warmed the process (imports, compiled kernels), so
    that only what grows with the data is counted.
    """
    import ray

    from tradescan import data
    from tradescan.preflight import prepare
    from tradescan.sweep.evaluator import bars_payload
    from tradescan.sweep.pool import EvaluatorPool
    from tradescan.sweep.settings import EvaluatorSettings

    frame = data.load(SYMBOL, TIMEFRAME, data_dir=data_dir)
    directive = write_directive(data_dir, "random", 10, 8, "MEM")
    pool = EvaluatorPool(EvaluatorSettings.from_plan(prepare(directive, data_dir=data_dir)), workers)
    params = _random_params(64)
    pool.add_symbol(SYMBOL, ray.put(bars_payload(frame, SYMBOL)))
    pool.map(SYMBOL, "evaluate_batch", params)
    before = pool.call_all("memory_bytes")[0]["private"]
    pool.add_symbol(SECOND_SYMBOL, ray.put(bars_payload(frame, SECOND_SYMBOL)))
    loaded = pool.call_all("memory_bytes")[0]["private"]
    pool.map(SECOND_SYMBOL, "evaluate_batch", params)
    after = pool.call_all("memory_bytes")[0]["private"]
    pool.shutdown()
    return {"session_mb": (loaded - before) / MB, "session_and_cache_mb": (after - before) / MB}


def pool_ceiling(data_dir: Path, workers: int, n_trials: int, batch_size: int) -> tuple[float, float]:
    """Trials/s of the actor pool alone (fixed parameters, no Optuna, same chunks): Ray's ceiling.

    Returns the rate and the driver's CPU use in percent of one core.
    """
    import ray

    from tradescan import data
    from tradescan.preflight import prepare
    from tradescan.sweep.evaluator import bars_payload
    from tradescan.sweep.pool import EvaluatorPool
    from tradescan.sweep.settings import EvaluatorSettings

    directive = write_directive(data_dir, "random", 10, 8, "POOL")
    pool = EvaluatorPool(EvaluatorSettings.from_plan(prepare(directive, data_dir=data_dir)), workers)
    pool.add_symbol(SYMBOL, ray.put(bars_payload(data.load(SYMBOL, TIMEFRAME, data_dir=data_dir), SYMBOL)))
    from tradescan.sweep.stage1 import planned_chunk_sizes

    params = _random_params(n_trials)
    pool.map(SYMBOL, "evaluate_batch", params[:batch_size])
    starts = np.cumsum([0, *planned_chunk_sizes(n_trials, pool.size, batch_size)])  # as stage 1 streams them
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in pool.stream(SYMBOL, "evaluate_batch", (params[a:b] for a, b in itertools.pairwise(starts))):
        pass
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    pool.shutdown()
    return n_trials / wall, 100 * cpu / wall


def bars_only_memory(data_dir: Path) -> dict[str, float]:
    """Private memory (USS) each extra actor adds by holding the bars, as an evaluator does.

    Two probe actors receive the same object-store reference and wrap it in ``Bars`` exactly as an
    evaluator does (``bars_from_payload``), then read every page. The bars' pages are shared with the
    object store and the other actor; what the second actor's private memory grows by is what one more
    actor costs for the bars (copies would show here in full). Derived session arrays are measured
    separately (``actor_memory``).
    """
    import ray

    from tradescan import data
    from tradescan.sweep.evaluator import bars_payload

    @ray.remote(num_cpus=1)
    class Probe:
        def __init__(self) -> None:
            self.bars: Any = None

        def memory(self) -> dict[str, int]:
            from tradescan.sweep.evaluator import process_memory_bytes

            return process_memory_bytes()

        def hold(self, symbol: str, payload: Any) -> dict[str, Any]:
            from tradescan.sweep.evaluator import bars_from_payload

            self.bars = bars_from_payload(symbol, payload)  # keep the arrays alive, as an evaluator does
            arrays = {name: getattr(self.bars, name) for name in payload}
            touched = float(sum(float(np.sum(a.view(np.int64) if a.dtype.kind == "M" else a))
                                for a in arrays.values()))
            shared = all(np.shares_memory(arrays[name], payload[name]) for name in payload)
            read_only = not any(array.flags.writeable for array in payload.values())
            return {"touched": touched, "zero_copy": shared and read_only}

    frame = data.load(SYMBOL, TIMEFRAME, data_dir=data_dir)
    payload = bars_payload(frame, SYMBOL)
    bar_bytes = sum(array.nbytes for array in payload.values())
    reference = ray.put(payload)
    warm_up = ray.put(bars_payload(frame.iloc[:100], SYMBOL))
    probes = [Probe.remote() for _ in range(2)]  # type: ignore[attr-defined]
    ray.get([probe.hold.remote(SYMBOL, warm_up) for probe in probes])  # Ray's own buffers, imports
    added, zero_copy = [], True
    for probe in probes:  # one after the other: the second one's pages are already mapped by the first
        before = ray.get(probe.memory.remote())
        zero_copy &= ray.get(probe.hold.remote(SYMBOL, reference))["zero_copy"]
        after = ray.get(probe.memory.remote())
        added.append((after["private"] - before["private"]) / MB)
    for probe in probes:
        ray.kill(probe)
    return {"bar_data_mb": bar_bytes / MB, "first_actor_mb": added[0], "private_added_mb": added[1],
            "zero_copy": float(zero_copy)}


def _random_params(n_trials: int) -> list[dict[str, Any]]:
    from tradescan.registry import get_strategy
    from tradescan.search_space import load_search_space

    space = load_search_space(SPACE_FILE, get_strategy(STRATEGY))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    return [study.ask(space.distributions()).params for _ in range(n_trials)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--random-trials", type=int, default=800)
    parser.add_argument("--tpe-trials", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as temp:
        root = Path(temp)
        data_dir = root / "data"
        write_data(data_dir, args.bars)
        random_directive = write_directive(root, "random", args.random_trials, args.batch_size, "RANDOM")
        grid_directive = write_directive(root, "grid", 0, args.batch_size, "GRID")
        tpe_directive = write_directive(root, "tpe", args.tpe_trials, args.batch_size, "TPE")

        # First: the time to the first result, from a process where Ray is not running yet.
        _, first_result_s, ray_init_s = sweep_rate(write_directive(root, "random", 64, args.batch_size, "FIRST"),
                                                   data_dir, args.workers, root / "r_first")
        runs: list[dict[str, float]] = []
        for attempt in range(args.repeat):
            # Each figure is compared with a reference measured right before it, on the same load.
            before = single_core_rate(data_dir, 300)
            random_rate = sweep_rate(random_directive, data_dir, args.workers, root / f"r_random{attempt}")[0]
            between = single_core_rate(data_dir, 300)
            grid_rate = sweep_rate(grid_directive, data_dir, args.workers, root / f"r_grid{attempt}")[0]
            after = single_core_rate(data_dir, 300)
            random_single, grid_single = max(before, between), max(between, after)
            ceiling, driver_cpu = pool_ceiling(data_dir, args.workers, args.random_trials, args.batch_size)
            together = side_by_side_rate(data_dir, args.workers, 300)  # the same loop as single_core_rate
            own_tpe = optuna_rate("tpe", args.tpe_trials)
            tpe_rate = sweep_rate(tpe_directive, data_dir, args.workers, root / f"r_tpe{attempt}")[0]
            runs.append({"single": random_single, "grid_single": grid_single, "random": random_rate,
                         "grid": grid_rate, "ceiling": ceiling, "together": together, "driver_cpu": driver_cpu,
                         "own_tpe": own_tpe, "tpe": tpe_rate, "own_random": optuna_rate("random", args.random_trials),
                         "random_share": random_rate / (args.workers * random_single),
                         "grid_share": grid_rate / (args.workers * grid_single), "tpe_share": tpe_rate / own_tpe})
        memory = actor_memory(data_dir, args.workers)
        bars_only = bars_only_memory(data_dir)
    report(args, runs, memory, bars_only, first_result_s, ray_init_s)


def report(args: argparse.Namespace, runs: list[dict[str, float]], memory: dict[str, float],
           bars_only: dict[str, float], first_result_s: float | None, ray_init_s: float | None) -> None:
    """Print every repeat, then the best figures against their targets."""
    print(f"bars={args.bars:,} workers={args.workers} batch_size={args.batch_size} repeats={args.repeat}")
    for index, run in enumerate(runs, start=1):
        print(f"  run {index}: single-core {run['single']:.1f}/s, random {run['random']:.1f}/s "
              f"({100 * run['random_share']:.0f} %), grid {run['grid']:.1f}/s ({100 * run['grid_share']:.0f} % "
              f"of 2 x {run['grid_single']:.1f}), pool alone {run['ceiling']:.1f}/s (driver CPU "
              f"{run['driver_cpu']:.0f} %), TPE {run['tpe']:.1f}/s vs Optuna {run['own_tpe']:.1f}/s "
              f"({100 * run['tpe_share']:.0f} %)")
    best_random = max(runs, key=lambda run: run["random_share"])
    best_grid = max(runs, key=lambda run: run["grid_share"])
    best_tpe = max(runs, key=lambda run: run["tpe_share"])
    limit = args.workers * best_random["single"]
    print(f"stage 1, random sampler      {best_random['random']:8.1f} trials/s = "
          f"{100 * best_random['random_share']:5.1f} % of the compute limit {limit:.1f} "
          f"(= {args.workers} x {best_random['single']:.1f} single-core) (target >= 80 %: "
          f"{_met(best_random['random_share'] >= 0.8)})")
    print(f"stage 1, grid sampler        {best_grid['grid']:8.1f} trials/s = "
          f"{100 * best_grid['grid_share']:5.1f} % of the compute limit {args.workers * best_grid['grid_single']:.1f} "
          f"(1,152 points of the medium preset) (target >= 80 %: {_met(best_grid['grid_share'] >= 0.8)})")
    print(f"  the actor pool alone        {best_random['ceiling']:8.1f} trials/s (no Optuna; Ray's ceiling here)")
    together = best_random["together"]
    print(f"  {args.workers} plain processes at once  {together:8.1f} trials/s = {100 * together / limit:5.1f} % of "
          f"the limit (no Ray: what the cores give side by side); random stage 1 is at "
          f"{100 * best_random['random'] / together:.0f} % of that, grid at {100 * best_grid['grid'] / together:.0f} %")
    print(f"  Optuna in-memory random     {best_random['own_random']:8.1f} trials/s ({args.random_trials} trials)")
    print(f"stage 1, TPE sampler         {best_tpe['tpe']:8.1f} trials/s = "
          f"{100 * best_tpe['tpe_share']:5.1f} % of Optuna's own in-memory TPE {best_tpe['own_tpe']:.1f} trials/s "
          f"({args.tpe_trials} trials) (target >= 90 %: {_met(best_tpe['tpe_share'] >= 0.9)})")
    print(f"bar data                     {bars_only['bar_data_mb']:8.2f} MB")
    print(f"extra actor private, bars    {bars_only['private_added_mb']:8.2f} MB = "
          f"{100 * bars_only['private_added_mb'] / bars_only['bar_data_mb']:5.1f} % of the bar data (target < 10 %: "
          f"{_met(bars_only['private_added_mb'] < 0.1 * bars_only['bar_data_mb'])}); "
          f"zero-copy {'yes' if bars_only['zero_copy'] else 'NO'}; first actor {bars_only['first_actor_mb']:.2f} MB")
    print(f"  + BacktestSession arrays   {memory['session_mb']:8.2f} MB per symbol; with the indicator cache "
          f"after 64 trials {memory['session_and_cache_mb']:.2f} MB")
    print(f"first result after start     {first_result_s or float('nan'):8.2f} s (target <= 10 s: "
          f"{_met((first_result_s or math.inf) <= 10)}), of which ray.init {ray_init_s or float('nan'):.2f} s")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
