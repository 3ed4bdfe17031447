"""Plain helpers of the sweep tests (directives, plug-in strategy sources), importable by name.

The fixtures live in ``conftest.py``; test modules import these with ``from sweep_support import ...``
(a module named ``conftest`` would clash with the other test folders' when pytest collects several).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

SMALL_BARS = 3_000


def write_directive(folder: Path, name: str = "T", **fields: Any) -> Path:
    """Write a directive YAML into ``folder`` (defaults: S1 on EURUSD, 24 TPE trials) and return its path."""
    body: dict[str, Any] = {
        "name": name,
        "strategy": "S1_TREND_EMA_ATR_ADX",
        "symbols": ["EURUSD"],
        "timeframe": "H1",
        "search": {"sampler": "tpe", "trials": 24, "seed": 5},
        "stage1": {"min_trades": 20},
        "stage2": {"top_k": 2},
        "batch_size": 8,
    }
    body.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


PLUGIN_STRATEGIES = textwrap.dedent(
    '''
    """Plug-in strategies written by the sweep tests (failure isolation)."""
    from __future__ import annotations

    import os
    import time
    from typing import Literal

    import numpy as np
    from pydantic import BaseModel, Field

    from tradescan import Signals, Strategy


    def _cross(bars, fast, slow):
        close = bars.close
        fast_mean = np.convolve(close, np.ones(fast) / fast)[: len(close)]
        slow_mean = np.convolve(close, np.ones(slow) / slow)[: len(close)]
        entry = np.where(fast_mean > slow_mean, 1, -1).astype(np.int8)
        entry[:slow] = 0
        stop = np.full(len(close), 30 * bars.instrument.pip_size)
        return Signals(entry=entry, stop_distance=stop, target_distance=stop * 2)


    class Flaky(Strategy):
        """Raises for odd ``fast``: half of its space fails."""

        name = "TEST_FLAKY"

        class Params(BaseModel):
            fast: int = Field(10, ge=2, le=40)
            slow: int = Field(50, ge=3, le=200)

        def warmup(self, params):
            return params.slow

        def signals(self, bars, params):
            if params.fast % 2:
                raise ValueError(f"odd fast={params.fast} is not supported")
            return _cross(bars, params.fast, params.slow)


    class Killer(Strategy):
        """Kills its own process for x == 13 (an actor that dies)."""

        name = "TEST_KILLER"

        class Params(BaseModel):
            x: int = Field(1, ge=1, le=20)

        def warmup(self, params):
            return 40

        def signals(self, bars, params):
            if params.x == 13:
                os._exit(1)
            return _cross(bars, 5 + params.x, 40)


    class Sleeper(Strategy):
        """Never returns for x == 7 (a stuck trial)."""

        name = "TEST_SLEEPER"

        class Params(BaseModel):
            x: int = Field(1, ge=1, le=20)

        def warmup(self, params):
            return 40

        def signals(self, bars, params):
            while params.x == 7:
                time.sleep(0.2)
            return _cross(bars, 5 + params.x, 40)


    class NoSignal(Strategy):
        """Good signals (``ok``), or one kind of unusable or empty output, chosen by ``kind``."""

        name = "TEST_NO_SIGNAL"

        class Params(BaseModel):
            kind: Literal["ok", "nan_entry", "nan_after_warmup", "nan_stops", "never", "nan_in_warmup"] = "ok"

        def warmup(self, params):
            return 40

        def signals(self, bars, params):
            good = _cross(bars, 10, 40)
            nan = np.full(len(bars.close), np.nan)
            entry = good.entry.astype(np.float64)
            if params.kind == "nan_entry":
                return Signals(entry=nan, stop_distance=nan, target_distance=nan)
            if params.kind == "nan_stops":
                return Signals(entry=good.entry, stop_distance=nan, target_distance=good.target_distance)
            if params.kind == "never":
                return Signals(entry=np.zeros(len(entry), np.int8), stop_distance=good.stop_distance,
                               target_distance=good.target_distance)
            if params.kind == "nan_after_warmup":
                entry[[100, 200, 300]] = np.nan
            if params.kind == "nan_in_warmup":
                entry[:40] = np.nan
            return Signals(entry=entry, stop_distance=good.stop_distance, target_distance=good.target_distance)
    '''
)

NO_SIGNAL_KINDS = ("ok", "nan_entry", "nan_after_warmup", "nan_stops", "never", "nan_in_warmup")

PLUGIN_SPACES = {
    "flaky.yaml": {"params": {"fast": {"type": "int", "low": 2, "high": 40},
                              "slow": {"type": "int", "low": 50, "high": 100, "step": 10}},
                   "constraints": ["fast < slow"]},
    "killer.yaml": {"params": {"x": {"type": "int", "low": 1, "high": 20}},
                    "presets": {"all": {"x": list(range(1, 21))}}},
    "sleeper.yaml": {"params": {"x": {"type": "int", "low": 1, "high": 20}},
                     "presets": {"all": {"x": list(range(1, 21))}}},
    "no_signal.yaml": {"params": {"kind": {"type": "categorical", "choices": list(NO_SIGNAL_KINDS)}},
                       "presets": {"all": {"kind": list(NO_SIGNAL_KINDS)}}},
}
