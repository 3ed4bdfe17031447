"""Running the active guards on a finalist's evidence, and the prod-ready verdict (DESIGN §7).

A finalist is *prod-ready* when every critical guard of the settings passes. A critical guard with no
result (not run, or its evidence not gathered) counts as failed: nothing passes by default.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tradescan.guards._base import GuardResult
from tradescan.guards._inputs import GuardEvidence
from tradescan.guards._settings import GuardSettings, Preset
from tradescan.guards.checks import get_guard

__all__ = ["Verdict", "evaluate_guards", "verdict"]


@dataclass(frozen=True)
class Verdict:
    """A finalist's verdict.

    Attributes:
        prod_ready: every critical guard passed.
        failed: critical guards that failed or gave no result, sorted (empty when prod-ready).
        failed_noncritical: other guards that failed (reported, not deciding), sorted.
        preset: the preset the verdict was taken under.
    """

    prod_ready: bool
    failed: tuple[str, ...]
    failed_noncritical: tuple[str, ...]
    preset: str


def _settings(preset: Preset | GuardSettings) -> GuardSettings:
    return preset if isinstance(preset, GuardSettings) else GuardSettings(preset=preset)


def evaluate_guards(
    evidence: GuardEvidence, settings: GuardSettings | None = None, *, names: Collection[str] | None = None
) -> tuple[GuardResult, ...]:
    """Return the result of every active guard on ``evidence``, in name order.

    A guard whose evidence field is ``None`` fails with ``not evaluated: GuardEvidence.<field> was not
    gathered``. ``names`` restricts the evaluation to those of the active guards (the guard stage
    evaluates the guards that need no new backtest on an actor, the others in the driver).
    """
    settings = settings if settings is not None else GuardSettings()
    results = []
    for name in settings.active_guards():
        if names is not None and name not in names:
            continue
        guard = get_guard(name)
        inputs = getattr(evidence, guard.evidence)
        if inputs is None:
            reason = f"not evaluated: GuardEvidence.{guard.evidence} was not gathered"
            results.append(guard.failure(reason, settings.threshold(name), settings.is_critical(name)))
        else:
            results.append(guard.evaluate(inputs, settings))
    return tuple(results)


def verdict(results: Iterable[GuardResult], preset: Preset | GuardSettings = "validate") -> Verdict:
    """Return whether a finalist is prod-ready under ``preset`` (a name or the run's ``GuardSettings``).

    The critical guards are those of the settings plus any result flagged critical; one that failed or
    has no result is named in ``failed``.
    """
    settings = _settings(preset)
    by_name = {result.name: result for result in results}
    critical = set(settings.critical_guards()) | {r.name for r in by_name.values() if r.critical}
    failed = tuple(sorted(name for name in critical if name not in by_name or not by_name[name].passed))
    others = tuple(sorted(r.name for r in by_name.values() if r.name not in critical and not r.passed))
    return Verdict(prod_ready=not failed, failed=failed, failed_noncritical=others, preset=settings.preset)
