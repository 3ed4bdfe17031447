"""What a guard plug-in is, and the one place that turns a measurement into pass or fail.

Each guard lives in its own module of ``tradescan.guards.checks`` (freqtrade's ``hyperopt_loss``
habit) and exposes ``GUARD = Guard(...)``: its name, what it measures, how it compares with its
threshold, its threshold in each preset, the presets where it is critical, the type of its input and
a ``measure`` function. ``Guard.evaluate`` is the only place a value becomes ``passed``:

* ``measure`` raising ``UndefinedStatistic`` (too few trades, IS return ≤ 0, no losing trade, ...)
  → FAIL with ``cannot be computed: <reason>`` and value NaN;
* a NaN value → FAIL;
* otherwise ``value > threshold`` (or ``<``), strictly: a value equal to the threshold fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from tradescan.guards._errors import UndefinedStatistic

if TYPE_CHECKING:
    from tradescan.guards._settings import GuardSettings

__all__ = ["Comparison", "Guard", "GuardResult", "Measurement"]

Comparison = Literal[">", "<"]
InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Measurement:
    """A guard's value and a one-line account of how it was obtained."""

    value: float
    detail: str = ""


@dataclass(frozen=True)
class GuardResult:
    """The outcome of one guard for one finalist (one row of ``guards.parquet`` with ``symbol, rank``).

    Attributes:
        name: the guard's name.
        value: its measured value (NaN when it could not be computed).
        threshold: the threshold it was compared with.
        passed: whether ``value`` beat ``threshold``; False whenever the value is undefined.
        critical: whether the guard decides ``prod_ready`` in the settings it ran with.
        detail: how the value was obtained, or why it could not be.
    """

    name: str
    value: float
    threshold: float
    passed: bool
    critical: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (for a DataFrame row or JSON, after ``json_safe``)."""
        return {
            "guard": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "critical": self.critical,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Guard(Generic[InputT]):
    """A guard plug-in.

    Attributes:
        name: the guard's name (its module's name; used in directives and ``guards.parquet``).
        measures: one line on what the value is, with its unit.
        comparison: ``">"`` (the value must exceed the threshold) or ``"<"`` (stay below it).
        thresholds: threshold by preset; the guard belongs to these presets (``validate`` is required
            and is the fallback threshold when the guard runs outside its presets).
        critical_in: presets in which a failure of this guard makes a finalist not prod-ready.
        input_type: the dataclass ``evaluate`` takes.
        evidence: the ``GuardEvidence`` field the guard stage puts that input in.
        measure: ``(input, settings) -> Measurement``; raises ``UndefinedStatistic`` when the input
            does not define the value.
    """

    name: str
    measures: str
    comparison: Comparison
    thresholds: Mapping[str, float]
    critical_in: frozenset[str]
    input_type: type[InputT]
    evidence: str
    measure: Callable[[InputT, GuardSettings], Measurement]

    def preset_threshold(self, preset: str) -> float:
        """Return the threshold in ``preset``, or the validate preset's when the guard is not in it."""
        return float(self.thresholds.get(preset, self.thresholds["validate"]))

    def threshold_under(self, settings: GuardSettings) -> float:
        """Return the threshold under ``settings``: its override, else the preset's (``preset_threshold``)."""
        if self.name in settings.thresholds:
            return float(settings.thresholds[self.name])
        return self.preset_threshold(settings.preset)

    def critical_under(self, settings: GuardSettings) -> bool:
        """Return whether a failure decides ``prod_ready`` under ``settings``: its override, else the preset's."""
        if self.name in settings.critical:
            return bool(settings.critical[self.name])
        return settings.preset in self.critical_in

    def passes(self, value: float, threshold: float) -> bool:
        """Return whether ``value`` beats ``threshold`` strictly (NaN never does)."""
        if math.isnan(value):
            return False
        return value > threshold if self.comparison == ">" else value < threshold

    def evaluate(self, inputs: InputT, settings: GuardSettings | None = None) -> GuardResult:
        """Measure ``inputs`` and compare with the threshold ``settings`` give (defaults: validate preset).

        Raises:
            TypeError: ``inputs`` is not an ``input_type`` (a wiring bug, not a property of the data).
        """
        from tradescan.guards._settings import GuardSettings

        settings = settings if settings is not None else GuardSettings()
        if not isinstance(inputs, self.input_type):
            raise TypeError(f"guard {self.name!r} takes {self.input_type.__name__}, got {type(inputs).__name__}")
        threshold, critical = self.threshold_under(settings), self.critical_under(settings)
        try:
            measurement = self.measure(inputs, settings)
        except UndefinedStatistic as exc:
            return self.failure(f"cannot be computed: {exc}", threshold, critical)
        value = float(measurement.value)
        if math.isnan(value):
            return self.failure(f"value is NaN: {measurement.detail}", threshold, critical)
        return GuardResult(self.name, value, threshold, self.passes(value, threshold), critical, measurement.detail)

    def failure(self, reason: str, threshold: float, critical: bool) -> GuardResult:
        """Return a failed result with no value (NaN) and ``reason`` as its detail."""
        return GuardResult(self.name, math.nan, threshold, False, critical, reason)
