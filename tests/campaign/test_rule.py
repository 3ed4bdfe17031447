"""``PassRule`` and ``Condition``: the small language that moves a symbol from one phase to the next."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from tradescan.campaign.rule import Condition, PassRule


@pytest.mark.parametrize(("text", "op", "threshold"), [
    ("> 0.8", ">", 0.8), (">=50", ">=", 50.0), ("<  -1.5", "<", -1.5), ("<= 1e-2", "<=", 0.01), ("> .5", ">", 0.5),
])
def test_condition_parses_op_and_number(text: str, op: str, threshold: float) -> None:
    condition = Condition.parse(text)
    assert (condition.op, condition.threshold) == (op, threshold)


@pytest.mark.parametrize("text", ["0.8", "=> 1", "> one", "", 0.8, "> 1 2", "== 1"])
def test_condition_refuses_other_forms(text: object) -> None:
    with pytest.raises(ValueError, match=r'written "<op> <number>" with op one of > >= < <='):
        Condition.parse(text)


def test_condition_holds_at_the_boundary_and_never_on_missing_values() -> None:
    assert Condition.parse("> 0.5").holds(0.5) is False
    assert Condition.parse(">= 0.5").holds(0.5) is True
    assert Condition.parse("< 0.05").holds(0.049) is True
    assert Condition.parse("<= 0.05").holds(0.051) is False
    assert Condition.parse("> -10").holds(None) is False
    assert Condition.parse("> -10").holds(math.nan) is False
    assert Condition.parse("< 10").holds(math.inf) is False


def test_flat_rule_sorts_guard_and_metric_conditions() -> None:
    rule = PassRule.model_validate({"guards": "critical", "wfe": "> 0.5", "sharpe": "> 1", "scenario": "C"})
    assert rule.guards == "critical"
    assert rule.scenario == "C"
    assert list(rule.guard_conditions()) == ["wfe"]
    assert list(rule.metric_conditions()) == ["sharpe"]
    assert rule.needs_guards is True
    assert rule.describe() == "guards: critical, wfe > 0.5, sharpe > 1"


def test_metric_only_rule_needs_no_guards() -> None:
    rule = PassRule.model_validate({"trades": ">= 30"})
    assert (rule.needs_guards, rule.scenario, rule.describe()) == (False, "B", "trades >= 30")


def test_unknown_name_suggests_the_close_one() -> None:
    with pytest.raises(ValidationError, match=r"unknown pass-rule name 'sharpe_os'; did you mean 'sharpe_oos'"):
        PassRule.model_validate({"sharpe_os": "> 1"})


def test_empty_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match="a pass rule needs at least one condition"):
        PassRule.model_validate({})


def test_guards_requirement_is_critical_or_all() -> None:
    with pytest.raises(ValidationError, match="'critical' or 'all'"):
        PassRule.model_validate({"guards": "most"})
