"""The Strategy/Signals contract itself (the bundled strategies have their own suite)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

from tradescan import Bars, Signals, Strategy, instruments
from tradescan.errors import TradeScanError, UnknownNameError


class _Crossing(Strategy):
    name = "TEST_CROSSING"

    class Params(BaseModel):
        fast: int = Field(10, ge=1, le=100)
        slow: int = Field(30, ge=2, le=400)

    def signals(self, bars: Bars, params: Params) -> Signals:
        n_bars = len(bars)
        return Signals(np.zeros(n_bars), np.full(n_bars, np.nan), np.full(n_bars, np.nan))


def test_parse_params_fills_defaults_and_validates_bounds() -> None:
    strategy = _Crossing()
    assert strategy.parse_params({"fast": 5}).model_dump() == {"fast": 5, "slow": 30}
    with pytest.raises(TradeScanError, match=r"TEST_CROSSING: invalid parameters: fast=0: Input should be"):
        strategy.parse_params({"fast": 0})


def test_unknown_parameter_says_did_you_mean() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown parameter of TEST_CROSSING 'fats'; did you mean 'fast'"):
        _Crossing().parse_params({"fats": 3})


def test_signals_validated_rejects_bad_shapes_values_and_distances() -> None:
    ok = Signals(np.array([0, 1, -1]), np.array([np.nan, 1.0, 2.0]), np.full(3, np.nan)).validated(3)
    assert ok.entry.dtype == np.int8 and ok.entry.tolist() == [0, 1, -1]
    with pytest.raises(TradeScanError, match=r"Signals.entry must have shape \(4,\), got \(3,\)"):
        Signals(np.zeros(3), np.zeros(4), np.zeros(4)).validated(4)
    with pytest.raises(TradeScanError, match=r"Signals.entry must be -1, 0 or \+1, got 2 at bar 1"):
        Signals(np.array([0, 2, 0]), np.full(3, np.nan), np.full(3, np.nan)).validated(3)
    with pytest.raises(TradeScanError, match=r"Signals.stop_distance must be > 0 or NaN, got -1.0 at bar 2"):
        Signals(np.zeros(3), np.array([1.0, 1.0, -1.0]), np.full(3, np.nan)).validated(3)


def test_bars_are_read_only_and_cache_computes_once() -> None:
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC"),
            "open": [1.0, 1.1, 1.2], "high": [1.2, 1.3, 1.4], "low": [0.9, 1.0, 1.1], "close": [1.1, 1.2, 1.3],
        }
    )
    bars = Bars.from_frame(frame, instruments.get("EURUSD"))
    assert bars.volume.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="read-only"):
        bars.close[0] = 5.0
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return bars.close * 2

    first = bars.cached(("double",), compute)
    second = bars.cached(("double",), compute)
    assert first is second and len(calls) == 1
    assert bars.replace(close=bars.close + 1)._cache == {}


def test_indicator_cache_drops_least_recently_used_past_its_byte_limit() -> None:
    n_bars = 100  # 800 bytes per float64 array
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n_bars, freq="h", tz="UTC"),
            "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0,
        }
    )
    bars = Bars.from_frame(frame, instruments.get("EURUSD"))
    bars.max_cache_bytes = 2 * 800
    calls: list[str] = []

    def make(name: str):
        return lambda: calls.append(name) or np.zeros(n_bars)

    bars.cached("a", make("a"))
    bars.cached("b", make("b"))
    bars.cached("a", make("a"))  # a is now the most recently used
    bars.cached("c", make("c"))  # over the limit: b goes
    assert list(bars._cache) == ["a", "c"] and bars._cache_bytes == 1600
    bars.cached("b", make("b"))
    assert calls == ["a", "b", "c", "b"]
