"""Monte-Carlo permutation test: p = (1 + #{permuted ≥ real}) / (N + 1) (DESIGN §7)."""

from __future__ import annotations

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._inputs import PermutationScores
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.permutation import permutation_pvalue


def _measure(scores: PermutationScores, settings: GuardSettings) -> Measurement:
    p_value = permutation_pvalue(scores.real, scores.permuted)
    beaten = int((scores.permuted >= scores.real).sum())
    detail = (
        f"mode {scores.mode}: {beaten} of {len(scores.permuted)} permuted series reach the real "
        f"{scores.statistic} {scores.real:.4g}"
    )
    return Measurement(p_value, detail)


GUARD = Guard(
    name="mc_pvalue",
    measures="permutation-test p-value of the real score among scores on permuted bars (probability)",
    comparison="<",
    thresholds={"validate": 0.05},
    critical_in=frozenset({"validate"}),
    input_type=PermutationScores,
    evidence="permutation",
    measure=_measure,
)
