"""The guards, one small module each, found by discovery (freqtrade's ``hyperopt_loss`` habit).

Every module of this package (not starting with ``_``) exposes ``GUARD = Guard(...)``; adding a guard
is adding a file. ``get_guard`` turns a name into it and lists the valid names on a typo. Discovery
checks each plug-in's declaration (its name is its module's, its presets exist, it has a validate
threshold, its evidence field exists), so a malformed guard fails at import, not in a sweep.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil

from tradescan.errors import UnknownNameError, did_you_mean
from tradescan.guards._base import Guard
from tradescan.guards._inputs import GuardEvidence
from tradescan.guards._settings import PRESETS

__all__ = ["all_guards", "get_guard", "guard_names"]


def _check_declaration(guard: Guard[object], module_name: str) -> None:
    evidence_fields = {f.name for f in dataclasses.fields(GuardEvidence)}
    problems = []
    if guard.name != module_name:
        problems.append(f"name {guard.name!r} differs from its module's")
    if guard.comparison not in (">", "<"):
        problems.append(f"comparison {guard.comparison!r} is not '>' or '<'")
    if "validate" not in guard.thresholds or not set(guard.thresholds) <= set(PRESETS):
        problems.append(f"thresholds {dict(guard.thresholds)} need a 'validate' entry and only presets {PRESETS}")
    if not guard.critical_in <= set(guard.thresholds):
        problems.append(f"critical_in {sorted(guard.critical_in)} names presets it has no threshold in")
    if guard.evidence not in evidence_fields:
        problems.append(f"evidence {guard.evidence!r} is not a GuardEvidence field ({sorted(evidence_fields)})")
    if problems:
        raise RuntimeError(f"guard plug-in {module_name}: " + "; ".join(problems))


@functools.cache
def _registry() -> dict[str, Guard[object]]:
    found: dict[str, Guard[object]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        guard: Guard[object] = module.GUARD
        _check_declaration(guard, module_info.name)
        found[guard.name] = guard
    return dict(sorted(found.items()))


def guard_names() -> list[str]:
    """Return the names of every guard, sorted."""
    return list(_registry())


def all_guards() -> tuple[Guard[object], ...]:
    """Return every guard, sorted by name."""
    return tuple(_registry().values())


def get_guard(name: str) -> Guard[object]:
    """Return the guard called ``name`` or raise listing the known ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownNameError(did_you_mean(name, _registry(), what="guard")) from None
