"""Scale benchmark: what one driver can feed, parallel symbols, and the headline run (not part of the tests).

Prints (the machine is shared: run it when ``uptime`` is low, twice):

* the driver's CPU per trial for random, grid and TPE (process CPU of the driver over a 3-symbol sweep
  on tiny data, so the actors' and the TPE sampler processes' work does not count; ``tpe-in-driver`` is
  the old driver that samples in its threads), the per-call overhead of one actor round trip, and the
  bytes moved per trial (parameters out, metrics back, pickled);
* how many workers one driver can feed at 10k / 100k / 1M bars per trial (the backtest rate per core
  measured at 10k and 100k bars, 1M extrapolated linearly from 100k);
* a 3-symbol TPE sweep, all in the same run: the old sequential driver (``max_parallel_symbols=1``,
  sampling in the driver: the reference), the same with sampler processes, and ``3`` symbols at once
  with sampler processes (and, for comparison, in driver threads): stage-1 trials/s (from the first
  symbol's stage-1 start to the last trial's result, so Ray's and the actors' start are left out;
  the whole sweep's wall is printed too) and the ratio to the reference (target >= 1.5x);
* the headline run: the ``medium`` grid (1,152 S1 combos) x 3 symbols x 100k bars, top-50 under A/B/C,
  wall time including Ray start, split by step, and the results folder's size by file (targets <= 12 s,
  < 30 MB), each with "met" or "NOT met".

Run: ``python benchmarks/bench_scale.py [--workers 2] [--skip-headline] [--tpe-only] [--cold-numba]``
(``--cold-numba``: numba compiles every kernel again in the driver and the actors, as on a first install).
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

STRATEGY = "S1_TREND_EMA_ATR_ADX"
TIMEFRAME = "H1"
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY"]
MB = 1024 * 1024
TPE_TRIALS = 400  # per symbol: TPE's ask grows with the study, so a longer sweep is what sampling limits


class StageOneSpan:
    """A progress display that only notes when the first symbol's stage 1 began and the last trial came back."""

    def __init__(self) -> None:
        self.first_start: float | None = None
        self.last_trial: float | None = None

    def __enter__(self) -> StageOneSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start_symbol(self, symbol: str, total: int, done: int) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter()

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        self.last_trial = time.perf_counter()

    def note(self, symbol: str, text: str) -> None:
        return None

    @property
    def seconds(self) -> float:
        assert self.first_start is not None and self.last_trial is not None
        return self.last_trial - self.first_start


def write_data(folder: Path, n_bars: int) -> Path:
    from tradescan import data

    folder.mkdir(parents=True, exist_ok=True)
    for seed, symbol in enumerate(SYMBOLS, start=1):
        data.write_dataset(data.synthesize(symbol, TIMEFRAME, n_bars, seed=seed), symbol, TIMEFRAME, data_dir=folder)
    return folder


def write_directive(folder: Path, tag: str, search: dict[str, Any], top_k: int, batch_size: int) -> Path:
    body = {"name": f"SCALE_{tag}", "strategy": STRATEGY, "symbols": SYMBOLS, "timeframe": TIMEFRAME,
            "search": search, "stage1": {"min_trades": 20}, "stage2": {"top_k": top_k}, "batch_size": batch_size}
    path = folder / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def sweep(directive: Path, data_dir: Path, results: Path, workers: int, parallel: int | None,
          tpe_in_driver: bool = False) -> dict[str, Any]:
    """Run one sweep in this process; return wall, driver CPU, trials ran and the manifest's stage seconds."""
    from tradescan.preflight import prepare
    from tradescan.results import ResultsStore
    from tradescan.sweep.driver import SweepDriver

    wall, cpu = time.perf_counter(), time.process_time()
    span = StageOneSpan()
    plan = prepare(directive, data_dir=data_dir)
    store = ResultsStore(results)
    store.root.mkdir(parents=True, exist_ok=True)
    with store.lock(plan.run_id):
        driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=workers,
                             max_parallel_symbols=parallel, tpe_in_driver=tpe_in_driver, progress=span)
        manifest = driver.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ran = sum(e.trials.ran for e in manifest.symbols.values() if e.trials is not None)
    run_dir = store.run_dir(plan.run_id)
    size = sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file())
    parts = {entry.name: sum(p.stat().st_size for p in ([entry] if entry.is_file() else entry.rglob("*"))
                             if p.is_file()) for entry in run_dir.iterdir()}
    return {"wall": wall, "cpu": cpu, "ran": ran, "seconds": manifest.stage_seconds.model_dump(), "bytes": size,
            "stage1_span": span.seconds if ran else 0.0,
            "parts": parts,
            "journal": store.storage_path(plan.run_id).stat().st_size, "status": manifest.status}


def backtest_rate(data_dir: Path, n_trials: int = 20) -> float:
    """Backtests per second in this process on one core, scenario B (the stage-1 work of one trial)."""
    import optuna

    from tradescan import data
    from tradescan.engine import BacktestSession
    from tradescan.engine.api import as_bars
    from tradescan.paths import SEARCH_SPACES_DIR
    from tradescan.registry import get_strategy
    from tradescan.search_space import load_search_space

    strategy = get_strategy(STRATEGY)
    space = load_search_space(SEARCH_SPACES_DIR / "s1_trend_ema_atr_adx.yaml", strategy)
    session = BacktestSession(as_bars(data.load(SYMBOLS[0], TIMEFRAME, data_dir=data_dir), SYMBOLS[0]),
                              scenarios=("B",))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    params = [study.ask(space.distributions()).params for _ in range(n_trials)]
    for warm in params[:3]:
        session.evaluate(strategy, warm, ("B",))
    started = time.perf_counter()
    for values in params:
        session.evaluate(strategy, values, ("B",))
    return n_trials / (time.perf_counter() - started)


def call_overhead_s(n_calls: int = 200) -> float:
    """Seconds of one empty actor round trip (submit + get), the fixed cost of every batch chunk."""
    import ray

    @ray.remote(num_cpus=0)
    class Echo:
        def echo(self, value: Any) -> Any:
            return value

    echo = Echo.remote()  # type: ignore[attr-defined]
    ray.get(echo.echo.remote(0))
    started = time.perf_counter()
    for _ in range(n_calls):
        ray.get(echo.echo.remote(0))
    seconds = (time.perf_counter() - started) / n_calls
    ray.kill(echo)
    return seconds


def bytes_per_trial(results: Path) -> float:
    """Pickled bytes of one trial's parameters out and its metrics back (from a finished run's trials)."""
    from tradescan.results import ResultsStore, load_run

    run_id = sorted(ResultsStore(results).list_runs())[0]
    trials = load_run(run_id, results).trials
    row = {str(k): v for k, v in trials.iloc[0].to_dict().items()}
    params = {k[len("param_"):]: v for k, v in row.items() if k.startswith("param_")}
    metrics = {k: v for k, v in row.items() if not k.startswith("param_") and k not in ("symbol", "state")}
    return float(len(pickle.dumps(params)) + len(pickle.dumps((metrics, None))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tpe-only", action="store_true", help="only the 3-symbol TPE comparison")
    parser.add_argument("--skip-headline", action="store_true")
    parser.add_argument("--cold-numba", action="store_true",
                        help="compile every kernel again (an empty NUMBA_CACHE_DIR): what a first run costs")
    args = parser.parse_args()
    if args.cold_numba:
        import os

        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench_scale_numba_")  # before numba loads
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        headline = None
        if not (args.skip_headline or args.tpe_only):  # first, so its wall time includes starting Ray
            big = write_data(root / "d100k", 100_000)
            # search.trials caps a grid (default 200): every one of the preset's 1,152 points
            directive = write_directive(root, "HEADLINE", {"sampler": "grid", "preset": "medium", "trials": 1152,
                                                           "seed": 1}, top_k=50, batch_size=256)
            headline = sweep(directive, big, root / "r_headline", args.workers, None)
            report_headline(headline)
        if not ray.is_initialized():
            ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        if not args.tpe_only:
            report(*driver_costs(root, args.workers))
        report_tpe(tpe_sweeps(root, args.workers), args.workers)


def driver_costs(root: Path, workers: int) -> tuple[dict[str, float], float, float, dict[int, float]]:
    """Driver CPU per trial by sampler, one actor round trip, bytes per trial and backtest rates."""
    tiny = write_data(root / "d2k", 2_000)
    cpu: dict[str, float] = {}
    grid = {"sampler": "grid", "preset": "medium", "trials": 1152, "seed": 1}  # search.trials caps a grid
    for label, search, in_driver in (("random", {"sampler": "random", "trials": 600, "seed": 1}, False),
                                     ("grid", grid, False),
                                     ("tpe", {"sampler": "tpe", "trials": 200, "seed": 1}, False),
                                     ("tpe-in-driver", {"sampler": "tpe", "trials": 200, "seed": 1}, True)):
        result = sweep(write_directive(root, f"CPU_{label}", search, 1, 64), tiny, root / f"r_{label}",
                       workers, None, tpe_in_driver=in_driver)
        cpu[label] = result["cpu"] / max(1, result["ran"])
    overhead = call_overhead_s()
    moved = bytes_per_trial(root / "r_random")
    rates = {10_000: backtest_rate(write_data(root / "d10k", 10_000)),
             100_000: backtest_rate(write_data(root / "d100k", 100_000))}
    rates[1_000_000] = rates[100_000] / 10
    return cpu, overhead, moved, rates


# (label, max_parallel_symbols, sample in the driver's threads); the first is the reference
TPE_RUNS = (("sequential, in-driver sampler (old driver)", 1, True),
            ("sequential, sampler processes", 1, False),
            ("3 symbols at once, in-driver sampler threads", 3, True),
            ("3 symbols at once, sampler processes", 3, False))


def tpe_sweeps(root: Path, workers: int) -> list[tuple[str, dict[str, Any]]]:
    """Run the 3-symbol TPE sweep (TPE_TRIALS per symbol, 10k bars, batches of 8) each way of TPE_RUNS."""
    mid = write_data(root / "d10k", 10_000)
    tpe = {"sampler": "tpe", "trials": TPE_TRIALS, "seed": 1}
    runs = []
    for index, (label, parallel, in_driver) in enumerate(TPE_RUNS):
        directive = write_directive(root, f"TPE_{index}", tpe, 1, 8)
        runs.append((label, sweep(directive, mid, root / f"r_tpe{index}", workers, parallel, tpe_in_driver=in_driver)))
    return runs


def _throughput(result: dict[str, Any]) -> float:
    """Trials per second from the first symbol's stage 1 start to the last trial's result."""
    return float(result["ran"] / result["stage1_span"])


def report(cpu: dict[str, float], overhead: float, moved: float, rates: dict[int, float]) -> None:
    print("driver CPU per trial (ms): " + ", ".join(f"{k} {v * 1000:.2f}" for k, v in cpu.items()))
    print(f"per-call overhead (one actor round trip): {overhead * 1000:.2f} ms; bytes moved per trial: {moved:.0f}")
    print("workers one driver feeds (driver CPU per trial vs. one core's backtest time per trial):")
    for bars, rate in rates.items():
        feeds = ", ".join(f"{k} {1 / (v * rate):,.1f}" for k, v in cpu.items())
        print(f"  {bars:>9,} bars/trial: {rate:8.1f} backtests/s per core -> {feeds}")


def report_tpe(runs: list[tuple[str, dict[str, Any]]], workers: int) -> None:
    reference = _throughput(runs[0][1])
    print(f"3-symbol TPE ({TPE_TRIALS} trials each, 10k bars, batches of 8), {workers} workers: stage-1 trials/s "
          "(first stage-1 start to last trial), ratio, whole sweep's wall incl. Ray start, driver CPU per trial:")
    for label, result in runs:
        print(f"  {label:<46} {_throughput(result):7.1f}  {_throughput(result) / reference:5.2f}x  "
              f"wall {result['wall']:6.2f} s  driver CPU {1000 * result['cpu'] / max(1, result['ran']):.2f} ms  "
              f"{result['status']}")
    ratio = _throughput(runs[-1][1]) / reference
    print(f"3-symbol TPE, {workers} workers: sequential {reference:.1f} trials/s, parallel symbols "
          f"{_throughput(runs[-1][1]):.1f} trials/s -> {ratio:.2f}x "
          f"(target >= 1.5x: {'met' if ratio >= 1.5 else 'NOT met'})", flush=True)


def report_headline(headline: dict[str, Any]) -> None:
    seconds = headline["seconds"]
    split = ", ".join(f"{k} {v:.2f}" for k, v in seconds.items() if k != "total")
    size_mb = headline["bytes"] / MB
    print(f"headline (1,152 x 3 symbols x 100k bars, top-50, A/B/C): wall {headline['wall']:.2f} s incl. Ray "
          f"start ({split}; stage/preflight seconds summed over symbols) -> target <= 12 s: "
          f"{'met' if headline['wall'] <= 12 else 'NOT met'}")
    parts = sorted(headline["parts"].items(), key=lambda item: -item[1])
    shown = ", ".join(f"{name} {size / MB:.1f}" for name, size in parts if size >= MB / 10)
    print(f"  results folder {size_mb:.1f} MB ({shown} MB) -> target < 30 MB: "
          f"{'met' if size_mb < 30 else 'NOT met'}; status {headline['status']}; {headline['ran']:,} trials",
          flush=True)


if __name__ == "__main__":
    main()
