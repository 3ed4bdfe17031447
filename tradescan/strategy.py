"""The strategy contract: a ``Strategy`` subclass turns bars and parameters into ``Signals``.

A strategy is vectorised: one call computes per-bar arrays for the whole series. Values at bar *t*
may depend on bars ``0..t`` only (checked by ``tradescan.lookahead``). The engine reads a signal at the
close of bar *t* and fills at the open of bar *t+1* (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from tradescan.bars import Bars
from tradescan.errors import TradeScanError, UnknownNameError, describe_validation_error, did_you_mean

LONG = 1
SHORT = -1
FLAT = 0


@dataclass(frozen=True)
class Signals:
    """Per-bar strategy output.

    Attributes:
        entry: +1 (go long), -1 (go short) or 0 at each bar's close.
        stop_distance: stop distance in price units from the reference price; NaN = no stop.
        target_distance: target distance in price units; NaN = no target.
    """

    entry: np.ndarray
    stop_distance: np.ndarray
    target_distance: np.ndarray

    def validated(self, n_bars: int, *, strategy_name: str = "strategy") -> Signals:
        """Return the signals as contiguous int8/float64 arrays, or raise naming the broken rule."""
        from tradescan._signal_check import signals_look_valid_nb  # lazy: keeps numba out of import time

        entry = np.asarray(self.entry)
        stop = np.ascontiguousarray(self.stop_distance, dtype=np.float64)
        target = np.ascontiguousarray(self.target_distance, dtype=np.float64)
        for label, values in (("entry", entry), ("stop_distance", stop), ("target_distance", target)):
            if values.shape != (n_bars,):
                raise TradeScanError(
                    f"{strategy_name}: Signals.{label} must have shape ({n_bars},), got {values.shape}"
                )
        if entry.dtype.kind == "f":
            entry = np.nan_to_num(entry, nan=0.0)
        entry_int8 = entry.astype(np.int8, copy=False)
        # int8 entries (what strategies return) are checked in one compiled pass; other dtypes, and
        # signals that pass fails, go through the NumPy checks below, which name the first problem.
        if entry.dtype == np.int8 and signals_look_valid_nb(entry_int8, stop, target):
            return Signals(np.ascontiguousarray(entry_int8), stop, target)
        invalid = (entry_int8 != entry) | (entry_int8 < -1) | (entry_int8 > 1)
        if invalid.any():
            bad = int(np.flatnonzero(invalid)[0])
            raise TradeScanError(
                f"{strategy_name}: Signals.entry must be -1, 0 or +1, got {entry[bad].item()!r} at bar {bad}"
            )
        for label, values in (("stop_distance", stop), ("target_distance", target)):
            if (values <= 0).any():
                bad = int(np.flatnonzero(values <= 0)[0])
                raise TradeScanError(
                    f"{strategy_name}: Signals.{label} must be > 0 or NaN, got {values[bad].item()!r} at bar {bad}"
                )
        return Signals(np.ascontiguousarray(entry_int8), stop, target)


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
