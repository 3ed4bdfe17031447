"""``FrozenModel``: frozen, unknown fields refused, booleans refused where a number is expected."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, ValidationError

from tradescan.directive import load_directive
from tradescan.engine import BrokerProfile, CapitalConfig, ScenarioCosts
from tradescan.errors import ConfigError
from tradescan.frozen import BOOL_NOT_NUMBER, FrozenModel, boolean_problem
from tradescan.instruments import Instrument
from tradescan.regime import RegimeSettings
from tradescan.search_space import SearchSpaceFile


class Example(FrozenModel):
    count: int = 1
    ratio: float | None = None
    spreads: dict[str, float] = Field(default_factory=dict)
    names: tuple[str, ...] = ()
    levels: tuple[float, ...] = ()
    enabled: bool = False
    calendar: Literal[252, 365] = 252


@pytest.mark.parametrize(
    ("annotation", "value", "problem"),
    [
        (int, True, "expected an integer, got true"),
        (int | None, False, "expected an integer, got false"),
        (float, True, "expected a number, got true"),
        (int | float, True, "expected a number, got true"),
        (dict[str, float], {"EURUSD": 0.7, "GBPUSD": True}, "'GBPUSD': expected a number, got true"),
        (tuple[float, ...], [1.0, False], "item 1: expected a number, got false"),
        (Literal[252, 365], True, "expected an integer, got true"),
        (bool, True, None),
        (int | bool, True, None),
        (str | dict, {"a": True}, None),
        (int, 5, None),
    ],
)
def test_boolean_problem(annotation: object, value: object, problem: str | None) -> None:
    assert boolean_problem(annotation, value) == problem


def test_a_model_reports_boolean_faults_with_the_others_in_field_order() -> None:
    with pytest.raises(ValidationError) as caught:
        Example(count=True, spreads={"X": False}, enabled=True, unknown=1, calendar=300)  # type: ignore[call-arg]
    errors = [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()]
    assert errors == [
        (("count",), BOOL_NOT_NUMBER, "expected an integer, got true"),
        (("spreads",), BOOL_NOT_NUMBER, "'X': expected a number, got false"),
        (("calendar",), "literal_error", "Input should be 252 or 365"),
        (("unknown",), "extra_forbidden", "Extra inputs are not permitted"),
    ]


def test_valid_values_pass_and_the_model_is_frozen() -> None:
    example = Example(count=2, ratio=1, spreads={"X": 1}, levels=[1, 2.5], enabled=True, calendar=365)
    assert (example.count, example.ratio, example.spreads, example.levels) == (2, 1.0, {"X": 1.0}, (1.0, 2.5))
    with pytest.raises(ValidationError, match="frozen"):
        example.count = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (CapitalConfig, {"initial": True}, "initial"),
        (RegimeSettings, {"window": True}, "window"),
        (ScenarioCosts, {"spread_mult": True}, "spread_mult"),
        (BrokerProfile, {"spread_pips": {"EURUSD": True}}, "spread_pips"),
        (Instrument, {"symbol": "X", "pip_size": True, "price_precision": 5, "contract_size": 1, "base": "AB",
                      "quote": "CD", "asset_class": "fx", "days_per_year": 252}, "pip_size"),
        (SearchSpaceFile, {"params": {"n": {"type": "int", "low": True, "high": 5}}}, "params"),
    ],
)
def test_every_config_model_refuses_a_boolean_number(model: type, fields: dict[str, object], field: str) -> None:
    assert issubclass(model, FrozenModel)
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    assert caught.value.errors()[0]["loc"][0] == field and "got true" in caught.value.errors()[0]["msg"]


def test_a_directive_with_a_boolean_time_stop_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("name: T\nstrategy: S\nsymbols: [EURUSD]\ntimeframe: H1\nmax_hold_bars: true\n"
                    "search: {trials: true}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_directive(path)
    assert str(caught.value) == (
        "d.yaml: max_hold_bars: expected an integer, got true; search.trials: expected an integer, got true"
    )
