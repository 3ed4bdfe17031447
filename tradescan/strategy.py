"""The strategy contract: a ``Strategy`` subclass turns bars and parameters into ``Signals``.

A strategy is vectorised: one call computes per-bar arrays for the whole series. Values at bar *t*
may depend on bars ``0..t`` only (checked by ``tradescan.lookahead``). The engine reads a signal at the
close of bar *t* and fills at the open of bar *t+1* (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tradescan.bars import Bars
from tradescan.errors import TradeScanError, UnknownNameError, describe_validation_error, did_you_mean

LONG = 1
SHORT = -1
FLAT = 0


MAX_TARGETS = 4  # targets of one multi-target plan (tradescan.engine.records.MAX_TARGETS)
_FRACTION_SUM_TOLERANCE = 1e-9  # 0.4 + 0.3 + 0.3 may add up to a hair above 1 in floating point


@dataclass(frozen=True)
class Signals:
    """Per-bar strategy output (DESIGN §3); every array has one value per bar, read at its close.

    Attributes:
        entry: +1 (go long), -1 (go short) or 0 at each bar's close.
        stop_distance: stop distance in price units from the reference price; NaN = no stop.
        target_distance: single-target distance in price units (closes the whole position); NaN or
            ``None`` = no target. Leave it ``None`` when ``targets`` gives a multi-target plan.
        exit: optional +1 (close a long), -1 (close a short) or 0; read at the close of bar t, filled
            at the open of t+1 (reason ``SIGNAL``). An entry on the same bar opens the next position
            at that open (a reversal when the side differs).
        trail_distance: optional trailing-stop distance in price units, read at the signal bar; NaN =
            no trailing for that position. After each bar closes the stop moves to the best price
            since entry minus (long) / plus (short) the distance, never backwards.
        targets: optional ``(n_bars, k)`` multi-target plan, 1 <= k <= 4: column j is the distance of
            target j+1 (NaN = unused on that bar); a bar's distances must increase (TP1 < TP2 < ...).
        target_fractions: with ``targets``, k fractions of the position, one closed at each target
            (e.g. ``(0.4, 0.3, 0.3)``); each in (0, 1], summing to at most 1. The remainder, and the
            fraction of an unused or unreached target, rides the stop, time stop, signal or end of data.
        break_even: with ``targets``, move the stop to the entry fill after the first target fills
            (from the next bar on; a stop already beyond the entry stays where it is).
    """

    entry: np.ndarray
    stop_distance: np.ndarray
    target_distance: np.ndarray | None = None
    exit: np.ndarray | None = None
    trail_distance: np.ndarray | None = None
    targets: np.ndarray | None = None
    target_fractions: Sequence[float] | np.ndarray | None = None
    break_even: bool = False

    @property
    def n_targets(self) -> int:
        """Return the number of target columns of the multi-target plan (0 without one)."""
        return 0 if self.targets is None else int(np.shape(self.targets)[1])

    def validated(self, n_bars: int, *, strategy_name: str = "strategy") -> Signals:
        """Return the signals as contiguous int8/float64 arrays, or raise naming the broken rule."""
        from tradescan._signal_check import signals_look_valid_nb  # lazy: keeps numba out of import time

        check = _Checker(strategy_name, n_bars)
        entry = check.side_array("entry", self.entry)
        stop = check.float_array("stop_distance", self.stop_distance)
        target = check.float_array("target_distance", _or_nan(self.target_distance, n_bars))
        exit_signal = None if self.exit is None else check.side_array("exit", self.exit)
        trail = None if self.trail_distance is None else check.float_array("trail_distance", self.trail_distance)
        targets = None if self.targets is None else check.targets(self.targets)
        fractions = check.fractions(self.target_fractions, targets)
        check.exclusive_targets(self.target_distance, target, targets)
        check.break_even(self.break_even)
        # int8 entries (what strategies return) are checked in one compiled pass; other dtypes, and
        # signals that pass fails, go through the NumPy checks, which name the first problem.
        fast = entry.dtype == np.int8 and (exit_signal is None or exit_signal.dtype == np.int8)
        if not (fast and signals_look_valid_nb(entry, stop, target, exit_signal, trail, targets)):
            entry = check.sides("entry", entry)
            exit_signal = None if exit_signal is None else check.sides("exit", exit_signal)
            for label, values in (("stop_distance", stop), ("target_distance", target), ("trail_distance", trail)):
                check.positive(label, values)
            check.progression(targets)
        return Signals(
            np.ascontiguousarray(entry.astype(np.int8, copy=False)),
            stop,
            target,
            None if exit_signal is None else np.ascontiguousarray(exit_signal.astype(np.int8, copy=False)),
            trail,
            targets,
            fractions,
            bool(self.break_even),
        )


def _or_nan(values: np.ndarray | None, n_bars: int) -> np.ndarray:
    return np.full(n_bars, np.nan) if values is None else values


class _Checker:
    """The NumPy rules of ``Signals.validated``; each error names the strategy, array, bar and value."""

    def __init__(self, strategy_name: str, n_bars: int) -> None:
        self.strategy_name = strategy_name
        self.n_bars = n_bars

    def fail(self, message: str) -> TradeScanError:
        return TradeScanError(f"{self.strategy_name}: Signals.{message}")

    def shaped(self, label: str, values: np.ndarray) -> np.ndarray:
        if values.shape != (self.n_bars,):
            raise self.fail(f"{label} must have shape ({self.n_bars},), got {values.shape}")
        return values

    def side_array(self, label: str, values: Any) -> np.ndarray:
        array = self.shaped(label, np.asarray(values))
        return np.nan_to_num(array, nan=0.0) if array.dtype.kind == "f" else array

    def float_array(self, label: str, values: Any) -> np.ndarray:
        return self.shaped(label, np.ascontiguousarray(values, dtype=np.float64))

    def sides(self, label: str, values: np.ndarray) -> np.ndarray:
        as_int8 = values.astype(np.int8, copy=False)
        invalid = (as_int8 != values) | (as_int8 < -1) | (as_int8 > 1)
        if invalid.any():
            bad = int(np.flatnonzero(invalid)[0])
            raise self.fail(f"{label} must be -1, 0 or +1, got {values[bad].item()!r} at bar {bad}")
        return as_int8

    def positive(self, label: str, values: np.ndarray | None) -> None:
        if values is not None and (values <= 0).any():
            bad = int(np.flatnonzero(values <= 0)[0])
            raise self.fail(f"{label} must be > 0 or NaN, got {values[bad].item()!r} at bar {bad}")

    def targets(self, values: Any) -> np.ndarray:
        targets = np.ascontiguousarray(values, dtype=np.float64)
        if targets.ndim != 2 or targets.shape[0] != self.n_bars or not 1 <= targets.shape[1] <= MAX_TARGETS:
            raise self.fail(
                f"targets must have shape ({self.n_bars}, k) with 1 <= k <= {MAX_TARGETS} "
                f"(one column per target), got {targets.shape}"
            )
        return targets

    def progression(self, targets: np.ndarray | None) -> None:
        if targets is None:
            return
        for column in range(targets.shape[1]):
            if (targets[:, column] <= 0).any():
                bad = int(np.flatnonzero(targets[:, column] <= 0)[0])
                raise self.fail(
                    f"targets must be > 0 or NaN, got TP{column + 1}={targets[bad, column].item()!r} at bar {bad}"
                )
        # the last used distance before each column, NaN where none was used yet
        previous = np.full(self.n_bars, np.nan)
        for column in range(targets.shape[1]):
            current = targets[:, column]
            broken = current <= previous
            if broken.any():
                bad = int(np.flatnonzero(broken)[0])
                raise self.fail(
                    f"targets must increase from one target to the next (TP1 < TP2 < ...), got "
                    f"{_previous_label(targets[bad], column)} >= TP{column + 1}={current[bad].item()!r} at bar {bad}"
                )
            previous = np.where(np.isnan(current), previous, current)

    def fractions(self, values: Any, targets: np.ndarray | None) -> tuple[float, ...] | None:
        if targets is None:
            if values is not None:
                raise self.fail("target_fractions needs Signals.targets (the multi-target plan it divides)")
            return None
        k = targets.shape[1]
        if values is None or np.ndim(values) != 1 or len(values) != k:
            raise self.fail(f"target_fractions must give one fraction per target column (k={k}), got {values!r}")
        fractions = tuple(float(value) for value in values)
        for index, fraction in enumerate(fractions):
            if not 0.0 < fraction <= 1.0:
                raise self.fail(f"target_fractions must each be in (0, 1], got TP{index + 1}={fraction!r}")
        if sum(fractions) > 1.0 + _FRACTION_SUM_TOLERANCE:
            raise self.fail(f"target_fractions must sum to at most 1, got {sum(fractions)!r} for {fractions}")
        return fractions

    def exclusive_targets(self, given: Any, target: np.ndarray, targets: np.ndarray | None) -> None:
        if targets is not None and given is not None and not np.isnan(target).all():
            bad = int(np.flatnonzero(~np.isnan(target))[0])
            raise self.fail(
                f"target_distance and targets exclude each other: put a multi-target plan in targets "
                f"only (target_distance has {target[bad].item()!r} at bar {bad})"
            )

    def break_even(self, value: Any) -> None:
        if not isinstance(value, bool | np.bool_):
            raise self.fail(f"break_even must be True or False, got {value!r}")


def _previous_label(row: np.ndarray, column: int) -> str:
    for earlier in range(column - 1, -1, -1):
        if not np.isnan(row[earlier]):
            return f"TP{earlier + 1}={row[earlier].item()!r}"
    return "an earlier target"


class NoParams(BaseModel):
    """Parameters of a strategy that has none (the default ``Strategy.Params``)."""

    model_config = ConfigDict(extra="forbid")


class Strategy:
    """Base class of every strategy; subclass it in a module under ``strategies/``.

    Subclasses set ``name`` (the registry key) and ``Params`` (a pydantic model whose defaults are the
    strategy's defaults) and implement ``signals``; ``warmup`` says how many leading bars may not
    trade.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def warmup(self, params: Any) -> int:
        """Return the number of leading bars on which no signal may be taken."""
        return 0

    def signals(self, bars: Bars, params: Any) -> Signals:
        """Compute per-bar entries and stop/target distances from ``bars`` (causally)."""
        raise NotImplementedError(f"{type(self).__name__}.signals is not implemented")

    def parse_params(self, values: Mapping[str, Any] | BaseModel | None = None) -> BaseModel:
        """Validate ``values`` against ``Params`` (defaults fill the rest).

        Unknown names and out-of-bounds values raise a ``TradeScanError`` naming the parameter.
        """
        if isinstance(values, self.Params):
            return values
        given = dict(values.model_dump() if isinstance(values, BaseModel) else (values or {}))
        known = self.Params.model_fields
        for key in given:
            if key not in known:
                raise UnknownNameError(did_you_mean(key, known, what=f"parameter of {self.name}"))
        try:
            return self.Params(**given)
        except ValidationError as exc:
            problems = describe_validation_error(exc)
            raise TradeScanError(f"{self.name}: invalid parameters: {problems}") from None

    def __repr__(self) -> str:
        return f"<Strategy {self.name}>"
