"""The prod-ready verdict and running the active guards on a finalist's evidence."""

from __future__ import annotations

import math

from tradescan.guards import GuardEvidence, GuardResult, GuardSettings, TradeSample, evaluate_guards, verdict


def _result(name: str, passed: bool, critical: bool = True) -> GuardResult:
    return GuardResult(name, 1.0 if passed else 0.0, 0.5, passed, critical, "")


def test_prod_ready_when_every_critical_guard_of_the_preset_passes():
    results = [_result("wfe", True), _result("sharpe_oos", True), _result("trades_oos", True)]
    screened = verdict(results, "screen")
    assert screened.prod_ready and screened.failed == () and screened.preset == "screen"
    validated = verdict(results, "validate")  # the validate preset's other eight critical guards are missing
    assert not validated.prod_ready
    assert validated.failed == (
        "bootstrap_pf", "dsr", "mc_pvalue", "pbo", "regime_mismatch", "sensitivity", "stress_sharpe", "top10_share",
    )


def test_failed_names_the_critical_failures_and_others_are_reported_apart():
    results = [_result("wfe", False), _result("sharpe_oos", True), _result("trades_oos", True)]
    results.append(_result("dsr", False, critical=False))
    result = verdict(results, GuardSettings(preset="screen", thresholds={"dsr": 0.9}))
    assert not result.prod_ready
    assert result.failed == ("wfe",) and result.failed_noncritical == ("dsr",)


def test_a_result_flagged_critical_counts_even_outside_the_preset():
    results = [_result("wfe", True), _result("sharpe_oos", True), _result("trades_oos", True), _result("pbo", False)]
    assert verdict(results, "screen").failed == ("pbo",)


def test_evaluating_empty_evidence_fails_every_active_guard_with_its_reason():
    results = evaluate_guards(GuardEvidence(), GuardSettings(preset="screen"))
    assert [r.name for r in results] == ["sharpe_oos", "trades_oos", "wfe"]
    assert all(not r.passed and math.isnan(r.value) and r.critical for r in results)
    assert results[0].detail == "not evaluated: GuardEvidence.walk_forward was not gathered"
    assert verdict(results, "screen").failed == ("sharpe_oos", "trades_oos", "wfe")


def test_evidence_reaches_the_guards_that_read_it():
    pnl = [10.0] * 5 + [1.0] * 95
    results = {r.name: r for r in evaluate_guards(GuardEvidence(trades=TradeSample(pnl)), GuardSettings())}
    assert len(results) == 11
    assert results["top10_share"].value == 55.0 / 145.0 and results["top10_share"].detail.startswith("the 10 best")
    assert results["bootstrap_pf"].detail == (
        "cannot be computed: no losing trade among 100: the profit factor is inf, nothing to bound"
    )
    assert results["wfe"].detail.startswith("not evaluated")
