"""Stage-1 objectives, one small module each, found by discovery.

Every module of this package (not starting with ``_``) exposes ``OBJECTIVE``; ``get_objective`` turns
the directive's ``stage1.objective`` into it and lists the valid names on a typo.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from tradescan.errors import UnknownNameError, did_you_mean
from tradescan.sweep.objectives._base import Objective, ObjectiveError, stage1_value

__all__ = ["Objective", "ObjectiveError", "get_objective", "objective_names", "stage1_value"]


@functools.cache
def _registry() -> dict[str, Objective]:
    found: dict[str, Objective] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        objective: Objective = module.OBJECTIVE
        found[objective.name] = objective
    return found


def objective_names() -> list[str]:
    """Return the names of every objective, sorted."""
    return sorted(_registry())


def get_objective(name: str) -> Objective:
    """Return the objective called ``name`` or raise listing the known ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownNameError(did_you_mean(name, _registry(), what="objective")) from None
