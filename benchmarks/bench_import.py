"""Import speed: ``tradescan.data.import_file`` versus ``pandas.read_csv`` alone on 1,000,000 rows.

The target (issue "Foundation") is an import at most about 3x the time ``pandas.read_csv`` needs to
read the same file: parsing, validation, the Parquet write and the manifest together may cost no more
than two extra reads. Run: ``python benchmarks/bench_import.py [--rows N] [--repeats K]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tradescan.data import import_file, synthesize

TARGET_RATIO = 3.0


def best_seconds(actions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Return the fastest of ``repeats`` runs of each action, in seconds.

    The actions take turns within each repeat, so a burst of load on a shared machine hits both
    sides of the ratio alike instead of one of them.
    """
    best = dict.fromkeys(actions, float("inf"))
    for _ in range(repeats):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def _price_text(bars: pd.DataFrame, decimals: int) -> dict[str, pd.Series]:
    return {name: bars[name].map(f"{{:.{decimals}f}}".format) for name in ("open", "high", "low", "close")}


def _generic(bars: pd.DataFrame, prices: dict[str, pd.Series], volume: pd.Series) -> pd.DataFrame:
    times = bars["time"].dt.tz_localize(None)
    return pd.DataFrame({"time": times.dt.strftime("%Y-%m-%d %H:%M:%S"), **prices, "volume": volume})


def _mt4(bars: pd.DataFrame, prices: dict[str, pd.Series], volume: pd.Series) -> pd.DataFrame:
    times = bars["time"].dt.tz_localize(None)
    dates, clocks = times.dt.strftime("%Y.%m.%d"), times.dt.strftime("%H:%M")
    return pd.DataFrame({"date": dates, "clock": clocks, **prices, "volume": volume})


def _binance(bars: pd.DataFrame, prices: dict[str, pd.Series], volume: pd.Series) -> pd.DataFrame:
    open_ms = bars["time"].astype("int64") // 1_000_000
    extra = {"quote": "0", "trades": 1, "taker_base": "0", "taker_quote": "0", "ignore": 0}
    return pd.DataFrame({"open_time": open_ms, **prices, "volume": volume, "close_time": open_ms + 59_999, **extra})


def write_files(folder: Path, n_rows: int) -> dict[str, tuple[Path, str, str]]:
    """Write synthetic M1 bars as the files people import most: FX in generic CSV and MT4, BTC from Binance.

    Also a generic CSV of BTC prices with 2 decimals: its short fields make ``read_csv`` fastest, so it
    is the hardest case for the ratio. Returns ``{case: (path, format, symbol)}``.
    """
    cases: dict[str, tuple[Path, str, str]] = {}
    for symbol, decimals in (("EURUSD", 5), ("BTCUSDT", 2)):
        bars = synthesize(symbol, "M1", n_rows, seed=1)
        prices, volume = _price_text(bars, decimals), bars["volume"].astype(np.int64).astype(str)
        writers = {"csv": _generic, "mt4": _mt4} if symbol == "EURUSD" else {"csv": _generic, "binance": _binance}
        for fmt, writer in writers.items():
            path = folder / f"{symbol}_{fmt}.csv"
            writer(bars, prices, volume).to_csv(path, index=False, header=fmt == "csv")
            cases[f"{fmt} {symbol}"] = (path, fmt, symbol)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = write_files(Path(folder), args.rows)
        print(
            f"{'file':<16} {'rows':>9} {'read_csv ms':>12} {'import ms':>10} {'ratio':>6}  target <= {TARGET_RATIO:g}"
        )
        for case, (path, fmt, symbol) in cases.items():
            header = "infer" if fmt == "csv" else None
            seconds = best_seconds(
                {
                    "read_csv": lambda p=path, h=header: pd.read_csv(p, header=h),
                    "import": lambda p=path, f=fmt, s=symbol: import_file(
                        p, s, "M1", fmt=f, data_dir=Path(folder) / "d", force=True
                    ),
                },
                args.repeats,
            )
            read_ms, import_ms = 1000 * seconds["read_csv"], 1000 * seconds["import"]
            print(f"{case:<16} {args.rows:>9,} {read_ms:>12.0f} {import_ms:>10.0f} {import_ms / read_ms:>6.2f}")


if __name__ == "__main__":
    main()
