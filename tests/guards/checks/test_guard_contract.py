"""The contract every guard plug-in keeps, checked for each of them (DESIGN §7's table)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from guard_cases import CASES

from tradescan.errors import UnknownNameError
from tradescan.guards import GuardEvidence, GuardSettings, all_guards, get_guard, guard_names

# DESIGN §7: (comparison, screen threshold or None, validate threshold); seed 002 makes all of them critical
TABLE = {
    "wfe": (">", 0.5, 0.6),
    "sharpe_oos": (">", 0.8, 1.0),
    "trades_oos": (">", 50.0, 60.0),
    "mc_pvalue": ("<", None, 0.05),
    "sensitivity": ("<", None, 0.10),
    "bootstrap_pf": (">", None, 1.0),
    "top10_share": ("<", None, 0.40),
    "stress_sharpe": (">", None, 1.0),
    "regime_mismatch": ("<", None, 0.01),
    "dsr": (">", None, 0.95),
    "pbo": ("<", None, 0.5),
}


def test_every_guard_of_the_table_is_registered_and_nothing_else():
    assert sorted(TABLE) == guard_names() == sorted(CASES)
    with pytest.raises(UnknownNameError, match=r"unknown guard 'wef'; did you mean 'wfe'"):
        get_guard("wef")


@pytest.mark.parametrize("name", sorted(TABLE))
def test_declaration_matches_the_design_table(name):
    guard = get_guard(name)
    comparison, screen, validate = TABLE[name]
    assert guard.comparison == comparison
    expected = {"validate": validate} if screen is None else {"screen": screen, "validate": validate}
    assert dict(guard.thresholds) == expected
    assert guard.critical_in == set(guard.thresholds)
    assert guard.measures and guard.evidence in {f.name for f in dataclasses.fields(GuardEvidence)}
    assert {f.type for f in dataclasses.fields(GuardEvidence) if f.name == guard.evidence} == {
        f"{guard.input_type.__name__} | None"
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_passing_input_passes(name):
    result = get_guard(name).evaluate(CASES[name][0]())
    assert result.passed, result
    assert result.name == name and result.critical and math.isfinite(result.value) and result.detail


@pytest.mark.parametrize("name", sorted(CASES))
def test_failing_input_fails_with_its_value(name):
    result = get_guard(name).evaluate(CASES[name][1]())
    assert not result.passed, result
    assert math.isfinite(result.value) and result.threshold == TABLE[name][2]


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_input_that_cannot_be_computed_fails_with_its_reason(name):
    result = get_guard(name).evaluate(CASES[name][2]())
    assert not result.passed and math.isnan(result.value)
    assert result.detail.startswith("cannot be computed: ") and CASES[name][3] in result.detail, result.detail


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_value_equal_to_the_threshold_fails(name):
    guard = get_guard(name)
    value = guard.evaluate(CASES[name][0]()).value
    result = guard.evaluate(CASES[name][0](), GuardSettings(thresholds={name: value}))
    assert result.threshold == value and not result.passed


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_wrong_input_type_is_a_wiring_error(name):
    expected_type = get_guard(name).input_type
    wrong = next(case[0]() for other, case in CASES.items() if get_guard(other).input_type is not expected_type)
    with pytest.raises(TypeError, match=f"guard '{name}' takes {get_guard(name).input_type.__name__}"):
        get_guard(name).evaluate(wrong)


def test_all_guards_are_sorted_by_name():
    assert [g.name for g in all_guards()] == sorted(TABLE)
