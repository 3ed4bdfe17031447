"""``PassRule``: what moves a symbol from one campaign phase to the next (seed 002's PASS criteria).

A rule is a small explicit mapping, every condition must hold for one finalist::

    pass: {guards: critical}                        # every critical guard of the phase's preset passes
    pass: {sharpe_oos: "> 0.8", wfe: "> 0.5"}       # guard values (from guards.parquet)
    pass: {sharpe: "> 1.0", trades: ">= 50", scenario: B}   # stage-2 metrics of one scenario

A name is either a guard (``tradescan.guards.guard_names()``: its measured value) or a stage-2 metric
(``tradescan.metrics.METRIC_NAMES``, read in ``scenario``, default B). A symbol passes when at least one
of its finalists meets every condition; the best-ranked such finalist is the one the tracker shows.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from tradescan.errors import did_you_mean
from tradescan.frozen import FrozenModel

__all__ = ["CONDITION_PATTERN", "Condition", "PassRule", "guard_metric_names", "stage2_metric_names"]

CONDITION_PATTERN = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}
GuardsRequirement = Literal["critical", "all"]
_RULE_KEYS = ("guards", "scenario")


def guard_metric_names() -> tuple[str, ...]:
    """Return the guard names a condition may test (their measured value)."""
    from tradescan.guards import guard_names

    return tuple(guard_names())


def stage2_metric_names() -> tuple[str, ...]:
    """Return the stage-2 metric names a condition may test."""
    from tradescan.metrics import METRIC_NAMES

    return tuple(METRIC_NAMES)


class Condition(FrozenModel):
    """One threshold: ``value <op> threshold`` (``"> 0.8"`` is ``op=">", threshold=0.8``)."""

    op: Literal[">", ">=", "<", "<="]
    threshold: float = Field(allow_inf_nan=False)

    @classmethod
    def parse(cls, text: Any) -> Condition:
        """Return the condition written as ``"<op> <number>"`` or raise ``ValueError`` naming the form."""
        match = CONDITION_PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"a condition is written \"<op> <number>\" with op one of > >= < <=, got {text!r}")
        return cls(op=match.group(1), threshold=float(match.group(2)))

    def holds(self, value: float | None) -> bool:
        """Return whether ``value`` meets the condition (a missing or NaN value never does)."""
        if value is None or not math.isfinite(value):
            return False
        return _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


class PassRule(FrozenModel):
    """The conditions a finalist must meet (see the module docstring for the YAML)."""

    guards: GuardsRequirement | None = None
    scenario: str = "B"
    conditions: dict[str, Condition] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_conditions(cls, raw: Any) -> Any:
        # The conditions are parsed here, not in a field validator, so an error names ``pass`` (what the
        # user wrote) rather than the internal ``conditions`` field.
        if not isinstance(raw, Mapping):
            raise ValueError(f"a pass rule is a mapping such as {{guards: critical}} or {{sharpe: '> 1'}}, got {raw!r}")
        if "conditions" in raw:
            return raw
        fields = {key: value for key, value in raw.items() if key in _RULE_KEYS}
        fields["conditions"] = _parse_conditions({str(k): v for k, v in raw.items() if k not in _RULE_KEYS})
        return fields

    @model_validator(mode="after")
    def _not_empty(self) -> PassRule:
        if self.guards is None and not self.conditions:
            raise ValueError("a pass rule needs at least one condition (e.g. {guards: critical} or {sharpe: \"> 1\"})")
        return self

    def guard_conditions(self) -> dict[str, Condition]:
        """Return the conditions on guard values."""
        names = set(guard_metric_names())
        return {name: condition for name, condition in self.conditions.items() if name in names}

    def metric_conditions(self) -> dict[str, Condition]:
        """Return the conditions on stage-2 metrics (read in ``scenario``)."""
        names = set(stage2_metric_names())
        return {name: condition for name, condition in self.conditions.items() if name in names}

    @property
    def needs_guards(self) -> bool:
        """Return whether the rule reads guard results (so its phase must run a guard stage)."""
        return self.guards is not None or bool(self.guard_conditions())

    def describe(self) -> str:
        """Return the rule on one line, e.g. ``guards: critical, sharpe > 1``."""
        parts = [f"guards: {self.guards}"] if self.guards else []
        parts += [f"{name} {condition}" for name, condition in self.conditions.items()]
        return ", ".join(parts)


def _parse_conditions(raw: Mapping[str, Any]) -> dict[str, Condition]:
    known = (*guard_metric_names(), *stage2_metric_names())
    parsed = {}
    for name, text in raw.items():
        if name not in known:
            raise ValueError(did_you_mean(name, (*known, *_RULE_KEYS), what="pass-rule name"))
        parsed[name] = Condition.parse(text)
    return parsed
