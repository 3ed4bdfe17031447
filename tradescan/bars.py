"""The bar arrays a strategy sees, with a per-series indicator cache.

A sweep runs thousands of parameter sets over the same bars; indicators such as EMA(20) recur across
trials. ``Bars.cached`` memoises any array computed from these bars under a key the caller chooses,
so an evaluator that keeps one ``Bars`` per symbol computes each indicator once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradescan.instruments import Instrument

PRICE_COLUMNS = ("open", "high", "low", "close")
# A sweep over EMA periods 5..200 would otherwise keep ~200 arrays per symbol per actor; past this
# many bytes the least recently used indicator is dropped (and recomputed if asked for again).
DEFAULT_CACHE_BYTES = 256 * 2**20


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(values)
    values.flags.writeable = False
    return values


@dataclass(eq=False)
class Bars:
    """Read-only OHLCV arrays of one symbol and timeframe, oldest first.

    Attributes:
        time: bar open times, ``datetime64[ns]`` in UTC.
        open, high, low, close, volume: float64 arrays of the same length.
        instrument: the symbol's instrument record (pip size, calendar, currencies).
    """

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    instrument: Instrument
    max_cache_bytes: int = DEFAULT_CACHE_BYTES
    _cache: OrderedDict[Hashable, object] = field(default_factory=OrderedDict, repr=False)
    _cache_bytes: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        n_bars = len(self.close)
        for name in ("time", "open", "high", "low", "volume"):
            if len(getattr(self, name)) != n_bars:
                raise ValueError(f"Bars.{name} has {len(getattr(self, name))} values, close has {n_bars}")
        self.time = _frozen(np.asarray(self.time, dtype="datetime64[ns]"))
        for name in (*PRICE_COLUMNS, "volume"):
            setattr(self, name, _frozen(np.asarray(getattr(self, name), dtype=np.float64)))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, instrument: Instrument) -> Bars:
        """Build bars from a DataFrame with ``time`` (UTC) and OHLC columns (``volume`` optional)."""
        missing = [c for c in ("time", *PRICE_COLUMNS) if c not in frame.columns]
        if missing:
            raise ValueError(f"bars frame lacks column(s) {missing}; has {list(frame.columns)}")
        column = frame["time"]
        if isinstance(column.dtype, pd.DatetimeTZDtype):  # as data.load returns it: 10x faster than to_datetime
            times = column.array.tz_convert(None).to_numpy().astype("datetime64[ns]", copy=False)
        else:
            times = pd.to_datetime(column, utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]")
        volume = frame["volume"].to_numpy(np.float64) if "volume" in frame else np.zeros(len(frame))
        return cls(
            time=times,
            open=frame["open"].to_numpy(np.float64),
            high=frame["high"].to_numpy(np.float64),
            low=frame["low"].to_numpy(np.float64),
            close=frame["close"].to_numpy(np.float64),
            volume=volume,
            instrument=instrument,
        )

    def __len__(self) -> int:
        return len(self.close)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def cached(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Return the array stored under ``key``, computing (and freezing) it on first use.

        The cache keeps at most ``max_cache_bytes`` of arrays, dropping the least recently used.
        """
        try:
            value = self._cache[key]
        except KeyError:
            value = compute()
            if isinstance(value, np.ndarray):
                value = _frozen(value)
            self._store(key, value)
            return value
        self._cache.move_to_end(key)
        return value  # type: ignore[return-value]

    def is_cached(self, key: Hashable) -> bool:
        """Return whether an array is stored under ``key`` (to compute several missing ones in one pass)."""
        return key in self._cache

    def clear_cache(self) -> None:
        """Drop every cached indicator (benchmarks use it to time a cold evaluation)."""
        self._cache.clear()
        self._cache_bytes = 0

    def _store(self, key: Hashable, value: object) -> None:
        self._cache[key] = value
        self._cache_bytes += value.nbytes if isinstance(value, np.ndarray) else 0
        while self._cache_bytes > self.max_cache_bytes and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= dropped.nbytes if isinstance(dropped, np.ndarray) else 0

    def replace(self, **arrays: np.ndarray) -> Bars:
        """Return new bars with some arrays replaced and an empty cache (used by the look-ahead check)."""
        fields = {name: getattr(self, name) for name in ("time", *PRICE_COLUMNS, "volume")}
        fields.update(arrays)
        return Bars(instrument=self.instrument, max_cache_bytes=self.max_cache_bytes, **fields)
