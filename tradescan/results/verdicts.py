"""The finalists' verdicts as the manifest's ``guards`` section stores them (``top``'s verdict column)."""

from __future__ import annotations

from typing import Any

from tradescan.results.manifest import RunManifest

__all__ = ["NO_VERDICT", "finalist_verdicts", "verdict_label"]

NO_VERDICT = "-"


def finalist_verdicts(manifest: RunManifest) -> dict[tuple[str, int], dict[str, Any]]:
    """Return ``{(symbol, rank): {"prod_ready": bool, "failed": [...]}}`` of every guarded finalist."""
    symbols = (manifest.guards or {}).get("symbols", {})
    return {
        (str(symbol), int(finalist["rank"])): {"prod_ready": bool(finalist["prod_ready"]),
                                               "failed": list(finalist.get("failed", []))}
        for symbol, entry in symbols.items() for finalist in entry.get("finalists", [])
    }


def verdict_label(verdict: dict[str, Any] | None) -> str:
    """Return ``prod-ready``, ``failed: a, b`` or ``-`` (no guard stage ran for it)."""
    if verdict is None:
        return NO_VERDICT
    return "prod-ready" if verdict["prod_ready"] else "failed: " + ", ".join(verdict["failed"])
