"""``judge_symbol``: a phase's verdict on one symbol, from the phase run's stored tables.

The verdict is PASS (some finalist meets the phase's ``PassRule``), FAIL (none does; the reasons are
the best-ranked finalist's unmet conditions) or ERROR (the sweep did not finish the symbol: no data,
a BLOCK in preflight, every trial failed — the manifest's reasons are kept).
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from tradescan.campaign.rule import PassRule
from tradescan.frozen import FrozenModel
from tradescan.results.manifest import SymbolEntry

__all__ = ["SymbolOutcome", "Verdict", "judge_symbol"]

Verdict = Literal["PASS", "FAIL", "ERROR"]


class SymbolOutcome(FrozenModel):
    """What one phase decided about one symbol, and the figures the tracker shows.

    Attributes:
        verdict: PASS, FAIL or ERROR.
        reasons: why it failed or errored (empty on PASS).
        rank: the finalist shown (the best-ranked passing one, else rank 1); None without finalists.
        wfe, sharpe_oos: that finalist's guard values (None when the phase ran no such guard).
        guards_passed, guards_total: that finalist's guard counts (0/0 without a guard stage).
    """

    verdict: Verdict
    reasons: tuple[str, ...] = ()
    rank: int | None = None
    wfe: float | None = None
    sharpe_oos: float | None = None
    guards_passed: int = 0
    guards_total: int = 0


def judge_symbol(symbol: str, entry: SymbolEntry | None, stage2: pd.DataFrame, guards: pd.DataFrame,
                 rule: PassRule) -> SymbolOutcome:
    """Return the phase's verdict on ``symbol`` from its manifest entry and the run's tables."""
    if entry is None or entry.status != "DONE":
        return _errored(entry)
    ranks = sorted(int(rank) for rank in stage2.loc[stage2["symbol"] == symbol, "rank"].unique())
    if not ranks:
        return SymbolOutcome(verdict="FAIL", reasons=("no finalist (stage 2 re-ran no trial)",))
    symbol_guards = guards[guards["symbol"] == symbol]
    judged = [(rank, _unmet(symbol, rank, stage2, symbol_guards, rule)) for rank in ranks]
    passing = [rank for rank, unmet in judged if not unmet]
    shown = passing[0] if passing else ranks[0]
    reasons = () if passing else tuple(dict(judged)[shown])
    return _outcome("PASS" if passing else "FAIL", reasons, shown, symbol_guards[symbol_guards["rank"] == shown])


def _errored(entry: SymbolEntry | None) -> SymbolOutcome:
    if entry is None:
        return SymbolOutcome(verdict="ERROR", reasons=("not in the phase run's manifest",))
    reasons = list(entry.reasons) + ([entry.error] if entry.error else [])
    return SymbolOutcome(verdict="ERROR", reasons=tuple(reasons) or (f"sweep status {entry.status}",))


def _outcome(verdict: Verdict, reasons: tuple[str, ...], rank: int, rows: pd.DataFrame) -> SymbolOutcome:
    values = dict(zip(rows["guard"], rows["value"], strict=True))
    return SymbolOutcome(
        verdict=verdict, reasons=reasons, rank=rank,
        wfe=_number(values.get("wfe")), sharpe_oos=_number(values.get("sharpe_oos")),
        guards_passed=int(rows["passed"].astype(bool).sum()), guards_total=len(rows),
    )


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _unmet(symbol: str, rank: int, stage2: pd.DataFrame, guards: pd.DataFrame, rule: PassRule) -> list[str]:
    """Return the rule's conditions finalist ``rank`` does not meet, each as a short reason."""
    rows = guards[guards["rank"] == rank]
    unmet = _unmet_guards(rows, rule)
    values = dict(zip(rows["guard"], rows["value"], strict=True))
    for name, condition in rule.guard_conditions().items():
        value = _number(values.get(name))
        if not condition.holds(value):
            unmet.append(f"{name} {_shown(value)} not {condition}" if name in values else f"{name}: not measured")
    chosen = (stage2["symbol"] == symbol) & (stage2["rank"] == rank) & (stage2["scenario"] == rule.scenario)
    scenario_rows = stage2[chosen]
    for name, condition in rule.metric_conditions().items():
        value = _number(scenario_rows[name].iloc[0]) if len(scenario_rows) and name in scenario_rows else None
        if not condition.holds(value):
            unmet.append(f"{rule.scenario}.{name} {_shown(value)} not {condition}")
    return unmet


def _unmet_guards(rows: pd.DataFrame, rule: PassRule) -> list[str]:
    if rule.guards is None:
        return []
    if rows.empty:
        return ["no guard results"]
    considered = rows[rows["critical"].astype(bool)] if rule.guards == "critical" else rows
    failed = sorted(considered.loc[~considered["passed"].astype(bool), "guard"])
    return [f"{rule.guards} guard failed: {name}" for name in failed]


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
