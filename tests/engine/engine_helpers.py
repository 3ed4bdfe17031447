"""Small builders shared by the engine tests: hand-made bars and a strategy that replays arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tradescan import instruments
from tradescan.bars import Bars
from tradescan.strategy import Signals, Strategy

NAN = float("nan")


def make_bars(
    ohlc: Sequence[Sequence[float]] | np.ndarray, symbol: str = "EURUSD", start: str = "2024-01-01", freq: str = "h"
) -> Bars:
    """Return ``Bars`` from rows of (open, high, low, close), one bar per ``freq`` from ``start``."""
    rows = np.asarray(ohlc, dtype=np.float64)
    times = pd.date_range(start, periods=len(rows), freq=freq).to_numpy("datetime64[ns]")
    return Bars(
        time=times,
        open=rows[:, 0],
        high=rows[:, 1],
        low=rows[:, 2],
        close=rows[:, 3],
        volume=np.zeros(len(rows)),
        instrument=instruments.get(symbol),
    )


def flat_rows(n_bars: int, price: float = 1.1000, half_range: float = 0.0005) -> list[list[float]]:
    """Return ``n_bars`` identical bars opening and closing at ``price`` (TR = 2·half_range)."""
    return [[price, price + half_range, price - half_range, price] for _ in range(n_bars)]


class ArrayStrategy(Strategy):
    """Replays fixed signal arrays: the engine's cases without any indicator."""

    name = "TEST_ARRAYS"

    class Params(BaseModel):
        pass

    def __init__(
        self,
        entry: Sequence[int] | np.ndarray,
        stop_distance: Sequence[float] | np.ndarray | float = NAN,
        target_distance: Sequence[float] | np.ndarray | float = NAN,
        warmup: int = 0,
        *,
        exit: Sequence[int] | np.ndarray | None = None,  # the Signals field's name
        trail_distance: Sequence[float] | np.ndarray | float | None = None,
        targets: Sequence[Sequence[float]] | np.ndarray | None = None,
        target_fractions: Sequence[float] | None = None,
        break_even: bool = False,
    ) -> None:
        self.entry = np.asarray(entry, dtype=np.int8)
        n_bars = len(self.entry)
        self.stop_distance = _per_bar(stop_distance, n_bars)
        self.target_distance = None if targets is not None else _per_bar(target_distance, n_bars)
        self.exit = None if exit is None else np.asarray(exit, dtype=np.int8)
        self.trail_distance = None if trail_distance is None else _per_bar(trail_distance, n_bars)
        self.targets = None if targets is None else np.asarray(targets, dtype=np.float64)
        self.target_fractions = None if target_fractions is None else tuple(target_fractions)
        self.break_even = break_even
        self._warmup = warmup

    def warmup(self, params: BaseModel) -> int:
        return self._warmup

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        return Signals(
            self.entry,
            self.stop_distance,
            self.target_distance,
            exit=self.exit,
            trail_distance=self.trail_distance,
            targets=self.targets,
            target_fractions=self.target_fractions,
            break_even=self.break_even,
        )


def _per_bar(values: Sequence[float] | np.ndarray | float, n_bars: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n_bars,)).copy()


def signal_at(n_bars: int, **bars_to_side: int) -> np.ndarray:
    """Return an entry array with ``side`` at each bar named ``b<index>`` (e.g. ``b2=1``)."""
    entry = np.zeros(n_bars, dtype=np.int8)
    for key, side in bars_to_side.items():
        entry[int(key[1:])] = side
    return entry


CONSTANT_COST_BROKER = {
    "name": "constant",
    "spread_pips": {"*": 1.0},
    "slippage": {"base_pips": 0.0, "atr_k": 0.0},
}


def random_walk_frame(n_bars: int, seed: int, price: float = 1.1000, freq: str = "h") -> pd.DataFrame:
    """Return a seeded random-walk bar frame shaped like ``tradescan.data.load``'s output."""
    rng = np.random.default_rng(seed)
    volatility = 0.0015 * (1.0 + 0.8 * np.sin(np.arange(n_bars) / 500.0))  # calm and busy stretches
    drift = 0.00002 * np.sin(np.arange(n_bars) / 300.0)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 1.0, n_bars) * volatility + drift))
    open_ = np.concatenate(([price], close[:-1]))
    wick = np.abs(rng.normal(0.0, 1.0, (2, n_bars))) * volatility * price * 0.6
    return pd.DataFrame(
        {
            "time": pd.date_range("2022-01-03", periods=n_bars, freq=freq, tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + wick[0],
            "low": np.minimum(open_, close) - wick[1],
            "close": close,
            "volume": np.ones(n_bars),
        }
    )
