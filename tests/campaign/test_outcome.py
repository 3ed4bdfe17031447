"""``judge_symbol`` on hand-made stage-2 and guard tables."""

from __future__ import annotations

import pandas as pd

from tradescan.campaign.outcome import judge_symbol
from tradescan.campaign.rule import PassRule
from tradescan.results.manifest import SymbolEntry

DONE = SymbolEntry(status="DONE")


def _stage2(rows: list[tuple[str, int, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["symbol", "rank", "scenario", "sharpe", "trades"])


def _guards(rows: list[tuple[str, int, str, float, bool, bool]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["symbol", "rank", "guard", "value", "passed", "critical"])
    frame["threshold"], frame["detail"] = 0.0, ""
    return frame


STAGE2 = _stage2([
    ("EURUSD", 1, "B", 0.4, 80), ("EURUSD", 1, "C", 0.1, 80),
    ("EURUSD", 2, "B", 1.3, 40), ("EURUSD", 2, "C", 0.9, 40),
])
GUARDS = _guards([
    ("EURUSD", 1, "wfe", 0.42, False, True), ("EURUSD", 1, "sharpe_oos", 1.1, True, True),
    ("EURUSD", 1, "mc_pvalue", 0.2, False, False),
    ("EURUSD", 2, "wfe", 0.71, True, True), ("EURUSD", 2, "sharpe_oos", 0.9, True, True),
    ("EURUSD", 2, "mc_pvalue", 0.3, False, False),
])


def test_the_best_ranked_passing_finalist_is_shown() -> None:
    outcome = judge_symbol("EURUSD", DONE, STAGE2, GUARDS, PassRule.model_validate({"guards": "critical"}))
    assert outcome.verdict == "PASS"
    assert (outcome.rank, outcome.wfe, outcome.sharpe_oos) == (2, 0.71, 0.9)
    assert (outcome.guards_passed, outcome.guards_total, outcome.reasons) == (2, 3, ())


def test_all_guards_counts_the_non_critical_ones_too() -> None:
    outcome = judge_symbol("EURUSD", DONE, STAGE2, GUARDS, PassRule.model_validate({"guards": "all"}))
    assert outcome.verdict == "FAIL"
    assert outcome.rank == 1
    assert outcome.reasons == ("all guard failed: mc_pvalue", "all guard failed: wfe")
    assert (outcome.wfe, outcome.guards_passed, outcome.guards_total) == (0.42, 1, 3)


def test_metric_conditions_read_the_named_scenario() -> None:
    rule_b = PassRule.model_validate({"sharpe": "> 1.0"})
    assert judge_symbol("EURUSD", DONE, STAGE2, GUARDS, rule_b).rank == 2
    rule_c = PassRule.model_validate({"sharpe": "> 1.0", "scenario": "C"})
    failed = judge_symbol("EURUSD", DONE, STAGE2, GUARDS, rule_c)
    assert failed.verdict == "FAIL"
    assert failed.reasons == ("C.sharpe 0.1 not > 1",)


def test_guard_conditions_name_the_value_and_missing_guards() -> None:
    rule = PassRule.model_validate({"wfe": "> 0.8", "pbo": "< 0.5"})
    outcome = judge_symbol("EURUSD", DONE, STAGE2, GUARDS, rule)
    assert outcome.verdict == "FAIL"
    assert outcome.reasons == ("wfe 0.42 not > 0.8", "pbo: not measured")


def test_a_rule_on_guards_fails_without_guard_results() -> None:
    outcome = judge_symbol("EURUSD", DONE, STAGE2, GUARDS.iloc[0:0], PassRule.model_validate({"guards": "critical"}))
    assert (outcome.verdict, outcome.reasons, outcome.guards_total) == ("FAIL", ("no guard results",), 0)


def test_a_symbol_the_sweep_did_not_finish_is_an_error_with_its_reasons() -> None:
    blocked = SymbolEntry(status="BLOCK", reasons=("no data: no data for USDJPY H1",))
    outcome = judge_symbol("USDJPY", blocked, STAGE2, GUARDS, PassRule.model_validate({"sharpe": "> 0"}))
    assert (outcome.verdict, outcome.reasons, outcome.rank) == ("ERROR", ("no data: no data for USDJPY H1",), None)
    failed = SymbolEntry(status="FAILED", error="every trial failed")
    assert judge_symbol("X", failed, STAGE2, GUARDS, PassRule.model_validate({"sharpe": "> 0"})).reasons == (
        "every trial failed",)


def test_no_finalist_is_a_failure() -> None:
    outcome = judge_symbol("GBPUSD", DONE, STAGE2, GUARDS, PassRule.model_validate({"sharpe": "> 0"}))
    assert (outcome.verdict, outcome.reasons) == ("FAIL", ("no finalist (stage 2 re-ran no trial)",))
