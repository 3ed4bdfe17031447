"""Which strategy outputs a sweep refuses to score: "no usable signal" is a FAIL, not a 0-trade trial.

A trial of a strategy that simply never trades (``entry`` 0 on every bar) is COMPLETE with 0 trades:
its score is the objective's 0 minus the full ``min_trades`` penalty, so the sampler learns to avoid
it. Output that says nothing at all is different — it is a broken computation, and scoring it as
"no trades" would hide the fault behind a plausible number. After the strategy's warm-up:

1. ``entry`` is NaN at any bar (a float ``entry`` — NaN is not -1, 0 or +1; the engine would read it
   as 0). NaN during the warm-up is tolerated: indicators are undefined there.
2. ``entry`` opens positions (some bar is ±1) but ``stop_distance`` is NaN or infinite at every one of
   those bars: not one trade would have a stop, so risk-based sizing and R multiples are meaningless.

Both raise ``NoUsableSignal``; the evaluator records the message as the trial's error, so the trial is
FAIL with e.g. ``no usable signal: Signals.entry is NaN at 2,960 of 2,960 bars after the warm-up …``.
The check sees the strategy's raw arrays (before ``Signals.validated`` turns NaN entries into 0), and
costs a few microseconds for a strategy whose first entry has a stop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from tradescan.errors import TradeScanError
from tradescan.strategy import Signals, Strategy


class NoUsableSignal(TradeScanError):
    """The strategy's output after the warm-up cannot be traded as it is (see the module docstring)."""


@njit(cache=True)
def _first_entry_with_a_stop_nb(entry: np.ndarray, stop_distance: np.ndarray, start: int) -> int:
    """Return the first bar >= ``start`` that enters (±1) with a finite stop, or -1 when there is none."""
    for bar in range(start, entry.shape[0]):
        signal = entry[bar]
        if signal != 0 and signal == signal and np.isfinite(stop_distance[bar]):
            return bar
    return -1


def require_usable(signals: Signals, warmup_bars: int) -> None:
    """Raise ``NoUsableSignal`` when ``signals`` break rule 1 or 2 of the module docstring.

    Arrays of the wrong shape or type are left to ``Signals.validated``, which names that fault.
    """
    entry, stop = np.asarray(signals.entry), np.asarray(signals.stop_distance)
    if entry.ndim != 1 or stop.shape != entry.shape or entry.dtype.kind not in "biuf" or stop.dtype.kind != "f":
        return
    start = min(max(int(warmup_bars), 0), entry.shape[0])
    if entry.dtype.kind == "f":
        _require_no_nan_entry(entry, start)
    if _first_entry_with_a_stop_nb(np.ascontiguousarray(entry), np.ascontiguousarray(stop), start) >= 0:
        return
    entries = int(np.count_nonzero(np.nan_to_num(entry[start:], nan=0.0)))
    if entries:
        raise NoUsableSignal(
            f"no usable signal: the strategy enters at {entries:,} bars after the warm-up but "
            "Signals.stop_distance is NaN (no stop) at every one of them"
        )


def _require_no_nan_entry(entry: np.ndarray, start: int) -> None:
    nan_bars = np.flatnonzero(np.isnan(entry[start:]))
    if nan_bars.size:
        raise NoUsableSignal(
            f"no usable signal: Signals.entry is NaN at {nan_bars.size:,} of {entry.shape[0] - start:,} bars "
            f"after the warm-up (first at bar {start + int(nan_bars[0])}); entry must be -1, 0 or +1 "
            f"(NaN only during the {start}-bar warm-up)"
        )


def with_usable_signal_check(strategy: Strategy) -> Strategy:
    """Return ``strategy`` as an instance of a subclass whose ``signals`` also runs ``require_usable``.

    The copy keeps the instance's state and every other method, name and ``Params``; the user's own
    instance and class are left untouched.
    """
    checked = object.__new__(_checked_class(type(strategy)))
    checked.__dict__.update(getattr(strategy, "__dict__", {}))
    return checked


_CHECKED_CLASSES: dict[type[Strategy], type[Strategy]] = {}


def _checked_class(base: type[Strategy]) -> type[Strategy]:
    if base not in _CHECKED_CLASSES:
        _CHECKED_CLASSES[base] = _subclass_with_check(base)
    return _CHECKED_CLASSES[base]


def _subclass_with_check(base: type[Strategy]) -> type[Strategy]:
    def signals(self: Strategy, bars: Any, params: Any) -> Any:
        raw = base.signals(self, bars, params)
        if isinstance(raw, Signals):  # anything else is refused by the session with its own message
            warmup = self.warmup(params)
            if isinstance(warmup, int | np.integer) and not isinstance(warmup, bool):
                require_usable(raw, int(warmup))
        return raw

    return type(base.__name__, (base,), {"signals": signals, "__doc__": base.__doc__, "__module__": base.__module__})
