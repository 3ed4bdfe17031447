"""Guard.evaluate: the one place a measurement becomes pass or fail."""

from __future__ import annotations

import math

import pytest

from tradescan.guards import Guard, GuardSettings, Measurement, UndefinedStatistic, get_guard


def _guard(measure, comparison=">"):
    return Guard(
        name="probe",
        measures="a test probe",
        comparison=comparison,
        thresholds={"screen": 1.0, "validate": 2.0},
        critical_in=frozenset({"validate"}),
        input_type=float,
        evidence="trades",
        measure=measure,
    )


def test_comparisons_are_strict():
    above = _guard(lambda value, settings: Measurement(value, "as given"))
    assert above.evaluate(2.5).passed and not above.evaluate(2.0).passed
    below = _guard(lambda value, settings: Measurement(value), comparison="<")
    assert below.evaluate(1.5).passed and not below.evaluate(2.0).passed
    result = above.evaluate(1.5, GuardSettings(preset="screen"))
    assert result.passed and result.threshold == 1.0 and not result.critical


def test_an_undefined_value_fails_with_its_reason():
    def undefined(value, settings):
        raise UndefinedStatistic("only 3 trades")

    result = _guard(undefined).evaluate(1.0)
    assert not result.passed and math.isnan(result.value) and result.detail == "cannot be computed: only 3 trades"


def test_a_nan_value_fails():
    result = _guard(lambda value, settings: Measurement(math.nan, "empty window")).evaluate(1.0)
    assert not result.passed and result.detail == "value is NaN: empty window"


def test_other_errors_are_not_swallowed():
    def broken(value, settings):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        _guard(broken).evaluate(1.0)


def test_stress_sharpe_nan_is_a_failure_not_a_pass():
    from tradescan.guards import ScenarioSharpe

    result = get_guard("stress_sharpe").evaluate(ScenarioSharpe(math.nan, 40))
    assert not result.passed and "is NaN" in result.detail


def test_result_row_for_guards_parquet():
    row = _guard(lambda value, settings: Measurement(value, "ok")).evaluate(3.0).to_dict()
    assert row == {"guard": "probe", "value": 3.0, "threshold": 2.0, "passed": True, "critical": True, "detail": "ok"}
