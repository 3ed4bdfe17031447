"""Parameter sensitivity: the neighbours of a parameter set and the spread of the objective over them.

Neighbours are one-at-a-time moves of each numeric parameter of the search space (categorical ones
are not moved): a float by ±``relative_step`` of its value (of its range when the value is 0),
snapped to its ``step`` grid when it has one (at least one step); an integer by ±``integer_steps``
of its step (DESIGN §7: "±1 step for integers"). A move is clipped to the parameter's bounds; a move that clipping (or
snapping) brings back to the centre value is dropped, and so is a neighbour that breaks one of the
space's constraints. The coefficient of variation of the objective over the centre and its
neighbours is ``std / mean`` (population std, ddof 0); it is undefined when the mean is ≤ 0 (a
spread relative to a non-positive mean says nothing about stability).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradescan.guards._errors import UndefinedStatistic
from tradescan.search_space import FloatParam, IntParam, SearchSpace

__all__ = ["Neighbour", "coefficient_of_variation", "sensitivity_neighbours"]


@dataclass(frozen=True)
class Neighbour:
    """One neighbour of a centre parameter set.

    Attributes:
        param: the parameter moved.
        direction: −1 (down) or +1 (up).
        value: its new value.
        params: the full parameter set (the centre with ``param`` replaced).
    """

    param: str
    direction: int
    value: int | float
    params: Mapping[str, Any]


def sensitivity_neighbours(
    space: SearchSpace, centre: Mapping[str, Any], *, relative_step: float = 0.10, integer_steps: int = 1
) -> tuple[Neighbour, ...]:
    """Return the neighbours of ``centre`` in ``space`` (down then up for each numeric parameter, in file order).

    Raises:
        ValueError: ``centre`` lacks a numeric parameter of the space, or a step setting is not positive.
    """
    if not relative_step > 0 or integer_steps < 1:
        raise ValueError(f"relative_step > 0 and integer_steps >= 1 must hold: {relative_step!r}, {integer_steps!r}")
    neighbours = []
    for name, spec in space.params.items():
        if not isinstance(spec, IntParam | FloatParam):
            continue
        if name not in centre:
            raise ValueError(f"the centre parameter set has no {name!r} (it has {sorted(centre)})")
        for direction in (-1, +1):
            value = _moved(spec, centre[name], direction, relative_step, integer_steps)
            if value is None:
                continue
            params = {**centre, name: value}
            if space.violated_constraint(params) is None:
                neighbours.append(Neighbour(name, direction, value, params))
    return tuple(neighbours)


def _moved(
    spec: IntParam | FloatParam, value: Any, direction: int, relative_step: float, integer_steps: int
) -> int | float | None:
    if isinstance(spec, IntParam):
        moved_int = min(max(int(value) + direction * integer_steps * spec.step, spec.low), spec.high)
        return None if moved_int == int(value) else moved_int
    base = float(value)
    distance = abs(base) * relative_step if base != 0 else (spec.high - spec.low) * relative_step
    moved = base + direction * distance
    if spec.step is not None:
        moved = spec.low + round((moved - spec.low) / spec.step) * spec.step
        if math.isclose(moved, base, rel_tol=1e-12, abs_tol=1e-15):
            moved = base + direction * spec.step  # a move smaller than the grid is one step
    moved = round(float(min(max(moved, spec.low), spec.high)), 12)
    return None if math.isclose(moved, base, rel_tol=1e-12, abs_tol=1e-15) else moved


def coefficient_of_variation(scores: Sequence[float] | np.ndarray) -> float:
    """Return ``std / mean`` (ddof 0) of ``scores``.

    Raises:
        UndefinedStatistic: fewer than 2 scores, a NaN or infinite score, or a mean ≤ 0.
    """
    values = np.asarray(scores, dtype=np.float64).ravel()
    if len(values) < 2:
        raise UndefinedStatistic(f"a coefficient of variation needs 2 scores or more, got {len(values)}")
    if not np.all(np.isfinite(values)):
        raise UndefinedStatistic(f"{int(np.sum(~np.isfinite(values)))} of {len(values)} scores are not finite")
    mean = float(values.mean())
    if mean <= 0:
        raise UndefinedStatistic(f"the mean objective over centre and neighbours is {mean:.6g} <= 0")
    return float(values.std() / mean)
