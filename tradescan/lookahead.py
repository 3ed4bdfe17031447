"""Generic look-ahead check: a strategy's output at bar t may not change when bars after t change.

For a spread of cut points t (after the warm-up), every bar after t is perturbed — open, high, low,
close and volume moved by seeded random factors, keeping every bar valid — and the signals are
recomputed on fresh ``Bars`` (empty indicator cache). ``entry``, ``stop_distance``,
``target_distance`` and the optional ``exit``, ``trail_distance`` and ``targets`` columns up to and
including t must be unchanged (NaN equals NaN; an absent array reads as no exits / NaN distances), and
the plan's ``target_fractions`` and ``break_even`` must not change at all. The report names the
first bar, time and array that moved. The strategy is also run twice on the same bars first: output
that changes without any change in the data is reported as non-deterministic, not as look-ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tradescan.bars import Bars
from tradescan.errors import TradeScanError
from tradescan.instruments import get as get_instrument
from tradescan.registry import get_strategy
from tradescan.strategy import Signals, Strategy

__all__ = ["LookaheadReport", "Violation", "assert_causal", "check_lookahead"]

SIGNAL_ARRAYS = ("entry", "stop_distance", "target_distance", "exit", "trail_distance")
DEFAULT_POINTS = 50  # a leak that shows only on rare bars (entries at crosses) needs many cuts: 10 missed one
_PERTURB_SEED = 20240607


@dataclass(frozen=True)
class Violation:
    """The first place where a strategy's output depended on later bars."""

    bar: int
    time: np.datetime64
    array: str
    original: float | int
    perturbed: float | int
    cut: int
    kind: str = "lookahead"  # or "nondeterministic"

    def __str__(self) -> str:
        if self.kind == "nondeterministic":
            return (
                f"{self.array} at bar {self.bar} ({_format_time(self.time)}) differs between two runs on "
                f"the same bars: {self.original!r} then {self.perturbed!r} (the strategy is not deterministic)"
            )
        return (
            f"{self.array} at bar {self.bar} ({_format_time(self.time)}) changed from {self.original!r} to "
            f"{self.perturbed!r} when the bars after bar {self.cut} were changed: it uses future data"
        )


@dataclass(frozen=True)
class LookaheadReport:
    """Outcome of ``check_lookahead``.

    Attributes:
        ok: True when no checked output depended on later bars.
        strategy: the strategy's name.
        checked_points: the cut points t that were checked (bar indices).
        first_violation: the earliest violation found, or None.
        failed_points: how many cut points showed a violation.
        n_bars: bars in the series checked.
    """

    ok: bool
    strategy: str
    checked_points: tuple[int, ...]
    first_violation: Violation | None
    failed_points: int
    n_bars: int

    def __str__(self) -> str:
        if self.ok:
            return (
                f"{self.strategy}: causal — output up to bar t unchanged when every later bar changes "
                f"({len(self.checked_points)} cut points over {self.n_bars} bars)"
            )
        if self.first_violation is not None and self.first_violation.kind == "nondeterministic":
            return f"{self.strategy}: NOT DETERMINISTIC — {self.first_violation}"
        return (
            f"{self.strategy}: LOOK-AHEAD — {self.first_violation} "
            f"({self.failed_points} of {len(self.checked_points)} cut points failed)"
        )


def check_lookahead(
    strategy: str | Strategy,
    bars: pd.DataFrame | Bars,
    params: Mapping[str, Any] | BaseModel | None = None,
    symbol: str = "EURUSD",
    n_points: int = DEFAULT_POINTS,
    seed: int = _PERTURB_SEED,
) -> LookaheadReport:
    """Check that ``strategy``'s signals at bar t depend on bars ``0..t`` only.

    Args:
        strategy: a registered name or a ``Strategy`` instance.
        bars: a DataFrame as ``tradescan.data.load`` returns it, or ``Bars`` (then ``symbol`` is unused).
        params: parameter values (defaults fill the rest).
        symbol: instrument of a DataFrame's bars (pip size for stop distances).
        n_points: cut points, spread evenly from the end of the warm-up to the next-to-last bar.
        seed: seed of the random perturbation (the check is deterministic).
    """
    instance = get_strategy(strategy)
    parsed = instance.parse_params(params)
    series = bars if isinstance(bars, Bars) else Bars.from_frame(bars, get_instrument(symbol))
    points = cut_points(len(series), instance.warmup(parsed), n_points)
    baseline = _signals(instance, _fresh(series), parsed)
    repeat = _first_difference(baseline, _signals(instance, _fresh(series), parsed), len(series) - 1)
    if repeat is not None:
        violation = _violation(series, repeat, cut=len(series) - 1, kind="nondeterministic")
        return LookaheadReport(False, instance.name, points, violation, len(points), len(series))
    rng = np.random.default_rng(seed)
    violations = []
    for cut in points:
        perturbed = _signals(instance, perturb_after(series, cut, rng), parsed)
        difference = _first_difference(baseline, perturbed, cut)
        if difference is not None:
            violations.append(_violation(series, difference, cut=cut))
    first = min(violations, key=lambda v: (v.bar, v.cut)) if violations else None
    return LookaheadReport(not violations, instance.name, points, first, len(violations), len(series))


def assert_causal(
    strategy: str | Strategy,
    bars: pd.DataFrame | Bars,
    params: Mapping[str, Any] | BaseModel | None = None,
    symbol: str = "EURUSD",
) -> LookaheadReport:
    """Run ``check_lookahead`` and raise ``TradeScanError`` with its report when it fails."""
    report = check_lookahead(strategy, bars, params, symbol=symbol)
    if not report.ok:
        raise TradeScanError(str(report))
    return report


def cut_points(n_bars: int, warmup: int, n_points: int = DEFAULT_POINTS) -> tuple[int, ...]:
    """Return up to ``n_points`` distinct bars from the warm-up's end to the next-to-last bar."""
    last = n_bars - 2  # at least one bar after the cut must exist to be perturbed
    first = min(max(warmup, 1), last)
    if last < 1:
        raise TradeScanError(f"look-ahead check needs at least 3 bars, got {n_bars}")
    if n_points < 1:
        raise TradeScanError(f"n_points >= 1 must hold, but got n_points={n_points}")
    return tuple(int(t) for t in np.unique(np.linspace(first, last, n_points).round().astype(np.int64)))


def perturb_after(bars: Bars, cut: int, rng: np.random.Generator) -> Bars:
    """Return fresh bars where every bar after ``cut`` has new, still valid, OHLC and volume."""
    n_after = len(bars) - cut - 1
    factors = np.exp(rng.normal(0.0, 0.02, size=(4, n_after)))
    open_ = bars.open[cut + 1 :] * factors[0]
    close = bars.close[cut + 1 :] * factors[1]
    high = np.maximum(bars.high[cut + 1 :] * factors[2], np.maximum(open_, close))
    low = np.minimum(bars.low[cut + 1 :] * factors[3], np.minimum(open_, close))
    volume = bars.volume[cut + 1 :] * rng.uniform(0.5, 1.5, n_after) + rng.uniform(1.0, 10.0, n_after)
    return bars.replace(
        open=_splice(bars.open, cut, open_),
        high=_splice(bars.high, cut, high),
        low=_splice(bars.low, cut, low),
        close=_splice(bars.close, cut, close),
        volume=_splice(bars.volume, cut, volume),
    )


def _splice(values: np.ndarray, cut: int, tail: np.ndarray) -> np.ndarray:
    return np.concatenate((values[: cut + 1], tail))


def _fresh(bars: Bars) -> Bars:
    return bars.replace()


def _signals(strategy: Strategy, bars: Bars, params: BaseModel) -> Signals:
    return strategy.signals(bars, params).validated(len(bars), strategy_name=strategy.name)


_Difference = tuple[int, str, float | int, float | int]


def _compared_arrays(signals: Signals) -> dict[str, np.ndarray]:
    """Return every per-bar output as float64[n_bars], by the name a report shows."""
    n_bars = len(signals.entry)
    arrays = {}
    for name in SIGNAL_ARRAYS:
        values = getattr(signals, name)
        missing = 0.0 if name in ("entry", "exit") else np.nan
        arrays[name] = np.full(n_bars, missing) if values is None else np.asarray(values, dtype=np.float64)
    if signals.targets is not None:
        for column in range(signals.targets.shape[1]):
            arrays[f"targets[:, {column}]"] = np.asarray(signals.targets[:, column], dtype=np.float64)
    return arrays


def _first_difference(original: Signals, other: Signals, cut: int) -> _Difference | None:
    """Return (bar, array, original value, other value) of the earliest change in bars 0..cut."""
    plan = (original.target_fractions, original.break_even, original.n_targets)
    if plan != (other.target_fractions, other.break_even, other.n_targets):
        return (0, "target_fractions/break_even", float("nan"), float("nan"))
    found: _Difference | None = None
    before_arrays, after_arrays = _compared_arrays(original), _compared_arrays(other)
    for name, values in before_arrays.items():
        before = values[: cut + 1]
        after = after_arrays[name][: cut + 1]
        same = (before == after) | (np.isnan(before) & np.isnan(after))
        if not same.all():
            bar = int(np.flatnonzero(~same)[0])
            if found is None or bar < found[0]:
                convert = int if name in ("entry", "exit") else float
                found = (bar, name, convert(before[bar]), convert(after[bar]))
    return found


def _violation(bars: Bars, difference: _Difference, *, cut: int, kind: str = "lookahead") -> Violation:
    bar, array, original, perturbed = difference
    return Violation(bar, bars.time[bar], array, original, perturbed, cut, kind)


def _format_time(time: np.datetime64) -> str:
    return str(np.datetime_as_string(time, unit="s")).replace("T", " ")
