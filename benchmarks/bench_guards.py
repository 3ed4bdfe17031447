"""Guard-stage benchmark: one symbol, 100k bars, 5 finalists, the validate preset (not part of the tests).

Prints:

* stage-1 trials/s in one process with and without the daily returns the guards need (the overhead
  of keeping them), and the trial-returns file's size;
* the sweep's stage-1 seconds, the guard stage's seconds and its seconds per guard;
* the guard stage's backtests per second against the compute limit (workers × the in-process
  single-core rate), and the actors' utilisation during the guard stage (busy time / (workers × wall)).

Target: the guard stage's backtests at >= 80 % of the compute limit.

The budgets are small by default (the machine is shared); raise them with the flags:
``python benchmarks/bench_guards.py [--bars 100000] [--workers 2] [--trials 100] [--fold-trials 20]
[--permutations 10] [--search-trials 20]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tradescan.paths import SEARCH_SPACES_DIR

SYMBOL = "EURUSD"
TIMEFRAME = "H1"
STRATEGY = "S1_TREND_EMA_ATR_ADX"
SPACE_FILE = Path(SEARCH_SPACES_DIR) / "s1_trend_ema_atr_adx.yaml"


def write_inputs(folder: Path, args: argparse.Namespace) -> Path:
    from tradescan import data

    data.write_dataset(data.synthesize(SYMBOL, TIMEFRAME, args.bars, seed=1), SYMBOL, TIMEFRAME,
                       data_dir=folder / "data")
    body = {"name": "BENCH_GUARDS", "strategy": STRATEGY, "symbols": [SYMBOL], "timeframe": TIMEFRAME,
            "search": {"space": str(SPACE_FILE), "sampler": "random", "trials": args.trials, "seed": 1},
            "stage1": {"min_trades": 100}, "stage2": {"top_k": 5}, "batch_size": 32,
            "guards": {"preset": "validate", "seed": 1,
                       "walk_forward": {"folds": 5, "trials_per_fold": args.fold_trials},
                       "permutation": {"n_permutations": args.permutations, "search_trials": args.search_trials}}}
    path = folder / "bench_guards.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def in_process_rates(data_dir: Path, n_trials: int) -> tuple[float, float]:
    """Return single-core trials/s of stage 1 without and with the daily returns (same parameters)."""
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


class BusyClock:
    """A progress display that records when the guard stage starts (its first progress call)."""

    def __init__(self) -> None:
        self.guard_started: float | None = None

    def __enter__(self) -> BusyClock:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start_symbol(self, symbol: str, total: int, done: int) -> None:
        return None

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        return None

    def note(self, symbol: str, text: str) -> None:
        if text == "guards" and self.guard_started is None:
            self.guard_started = time.perf_counter()


def count_backtests(plan: Any, settings: Any, n_finalists: int, n_neighbours: int) -> int:
    """Return the guard stage's backtests (searches, tests, permutations, neighbours)."""
    wf = settings.walk_forward.folds * (settings.walk_forward.trials_per_fold + 1)
    per_perm = settings.permutation.search_trials or plan.directive.search.trials
    return wf + settings.permutation.n_permutations * per_perm + n_finalists + n_neighbours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--fold-trials", type=int, default=20)
    parser.add_argument("--permutations", type=int, default=10)
    parser.add_argument("--search-trials", type=int, default=20)
    args = parser.parse_args()

    import ray

    from tradescan.preflight import prepare
    from tradescan.results import ResultsStore
    from tradescan.results.trial_returns import trial_returns_path
    from tradescan.sweep.driver import SweepDriver

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        directive = write_inputs(folder, args)
        plain_rate, returns_rate = in_process_rates(folder / "data", 40)
        ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                 logging_level=40)
        plan = prepare(directive, data_dir=folder / "data")
        store = ResultsStore(folder / "r")
        store.root.mkdir(parents=True, exist_ok=True)
        clock = BusyClock()
        busy_before: list[float] = []
        with store.lock(plan.run_id):
            driver = SweepDriver(plan, store, str(store.storage_path(plan.run_id)), workers=args.workers,
                                 progress=clock)  # type: ignore[arg-type]
            original = driver._guards

            def timed_guards(pool: Any, *rest: Any) -> Any:
                busy_before.extend(pool.call_all("busy_seconds"))
                started = time.perf_counter()
                result = original(pool, *rest)
                wall = time.perf_counter() - started
                busy = sum(pool.call_all("busy_seconds")) - sum(busy_before)
                timed.update(wall=wall, busy=busy, workers=pool.size)
                return result

            timed: dict[str, float] = {}
            driver._guards = timed_guards  # type: ignore[method-assign,assignment]
            manifest = driver.run()
        ray.shutdown()
        section = manifest.guards["symbols"][SYMBOL]
        run = store.run_dir(plan.run_id)
        series = ResultsStore(folder / "r").read_parquet(plan.run_id, "guard_series.parquet")
        n_neighbours = int((series[series["series"] == "sensitivity_value"]["i"] > 0).sum())
        n_finalists = len(section["finalists"])
        backtests = count_backtests(plan, plan.directive.guards, n_finalists, n_neighbours)
        size = trial_returns_path(run, SYMBOL).stat().st_size
        stage1_s = manifest.stage_seconds.stage1
        limit = args.workers * plain_rate
        rate = backtests / timed["wall"]
        print(f"bars {args.bars}, workers {args.workers}, stage-1 trials {args.trials}, finalists {n_finalists}")
        print(f"in-process stage-1 rate: {plain_rate:.1f} trials/s plain, {returns_rate:.1f} with daily returns "
              f"({(1 - returns_rate / plain_rate) * 100:+.1f} % overhead)")
        print(f"trial_returns/{SYMBOL}.parquet: {size / 1e6:.2f} MB for {args.trials} trials")
        print(f"stage 1: {stage1_s:.1f} s; guard stage: {timed['wall']:.1f} s "
              f"({timed['wall'] / max(stage1_s, 1e-9):.2f} x stage 1)")
        for name, seconds in sorted(section["seconds"].items()):
            print(f"  {name:<16} {seconds:8.2f} s")
        print(f"guard-stage backtests: {backtests} at {rate:.1f}/s over the whole stage = {rate / limit * 100:.0f} % "
              f"of the compute limit ({limit:.1f}/s = {args.workers} x {plain_rate:.1f})")
        on_actors = sum(section["seconds"].get(k, 0.0) for k in ("walk_forward", "mc_pvalue", "sensitivity",
                                                                 "regime_mismatch"))
        print(f"  during the backtest phases ({on_actors:.1f} s): {backtests / on_actors:.1f}/s = "
              f"{backtests / on_actors / limit * 100:.0f} % of the limit; the rest "
              f"({section['seconds']['statistics']:.1f} s) is the driver's statistics (bootstrap, PBO), actors idle")
        utilisation = timed["busy"] / (timed["workers"] * timed["wall"])
        print(f"actor utilisation during the guard stage: {utilisation * 100:.0f} %")
        print(f"DSR {section['dsr']}, PBO {section['pbo']}, WFE {section['wfe']}, N_eff {section['n_eff_trials']}")
        print("verdicts:", [(f["rank"], f["prod_ready"], f["failed"]) for f in section["finalists"]])
        _ = np  # numpy is imported for the session's arrays


if __name__ == "__main__":
    main()
