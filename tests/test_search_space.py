"""Search spaces: bundled files, validation against Params, safe constraints, grid presets."""

from __future__ import annotations

import pytest

from tradescan.errors import ConfigError
from tradescan.paths import SEARCH_SPACES_DIR
from tradescan.registry import get_strategy
from tradescan.search_space import build_search_space, load_search_space, parse_constraint

S1 = "S1_TREND_EMA_ATR_ADX"
BUNDLED = {
    S1: "s1_trend_ema_atr_adx.yaml",
    "S2_MR_ZSCORE_EMA_REGIME": "s2_mr_zscore_ema_regime.yaml",
    "S3_BREAKOUT_ATR_REGIME_EMA200": "s3_breakout_atr_regime_ema200.yaml",
}


@pytest.mark.parametrize("strategy_name", sorted(BUNDLED))
def test_bundled_spaces_load_with_seed_preset_sizes(strategy_name: str) -> None:
    space = load_search_space(SEARCH_SPACES_DIR / BUNDLED[strategy_name], get_strategy(strategy_name))
    assert [space.grid_size(p) for p in ("small", "medium", "large")] == [6, 1152, 13500]
    assert len(space.grid("medium")) == 1152
    assert set(space.distributions()) == set(space.params)


def test_s1_small_preset_is_the_design_example() -> None:
    space = load_search_space(SEARCH_SPACES_DIR / BUNDLED[S1], get_strategy(S1))
    grid = space.grid("small")
    assert grid[0] == {"ema_fast": 20, "ema_slow": 50, "adx_th": 20, "k_sl": 2.0, "k_tp": 1.5}
    assert [p["adx_th"] for p in grid] == [20, 20, 25, 25, 30, 30]  # first name varies slowest


def _space(**params: object) -> dict[str, object]:
    return {"params": params}


def test_unknown_parameter_suggests_the_name() -> None:
    with pytest.raises(ConfigError, match=r"params\.ema_fst: unknown parameter of S1_TREND_EMA_ATR_ADX 'ema_fst'; "
                                          r"did you mean 'ema_fast'"):
        build_search_space(_space(ema_fst={"type": "int", "low": 5, "high": 10}), get_strategy(S1))


def test_bounds_types_and_presets_are_checked_against_params_all_at_once() -> None:
    raw = {
        "params": {
            "ema_slow": {"type": "float", "low": 50, "high": 100},
            "adx_th": {"type": "float", "low": -5, "high": 30},
            "k_sl": {"type": "float", "low": 3.0, "high": 1.0},
            "ema_fast": {"type": "int", "low": 5, "high": 40},
        },
        "presets": {"small": {"ema_fast": [4, 20], "k_tpp": [1.0]}},
    }
    with pytest.raises(ConfigError) as caught:
        build_search_space(raw, get_strategy(S1))
    message = str(caught.value)
    assert "params.ema_slow: a float range for an int parameter" in message
    assert ("params.adx_th: -5.0 is outside S1_TREND_EMA_ATR_ADX.Params.adx_th: "
            "Input should be greater than or equal to 0") in message
    assert "params.k_sl: `low <= high` must hold" in message
    assert "presets.small.ema_fast: 4 is outside the space (int 5..40, step 1)" in message
    assert "presets.small.k_tpp: unknown parameter of the space 'k_tpp'" in message


def test_schema_errors_use_dotted_paths() -> None:
    with pytest.raises(ConfigError, match=r"params\.ema_fast\.int\.hgh: unknown field|params\.ema_fast"):
        build_search_space(_space(ema_fast={"type": "int", "low": 5, "hgh": 10}), get_strategy(S1))


def test_constraints_evaluate_without_eval() -> None:
    known = {"a", "b", "flag"}
    constraint = parse_constraint("a < b and not flag or a * 2 >= b + 1", known)
    assert constraint.holds({"a": 1, "b": 2, "flag": False})
    assert not constraint.holds({"a": 1, "b": 5, "flag": True})
    assert parse_constraint("1 < a <= b", known).holds({"a": 2, "b": 2})


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "a.__class__", "[a][0] < b", "a ** 99 < b",
                                  "(lambda: 1)() < a", "a if b else a"])
def test_constraints_refuse_anything_but_the_small_language(text: str) -> None:
    with pytest.raises(ConfigError, match=r"is not allowed|not a valid expression"):
        parse_constraint(text, {"a", "b"})


def test_constraint_names_are_checked_and_applied() -> None:
    raw = {"params": {"ema_fast": {"type": "int", "low": 5, "high": 60}}, "constraints": ["ema_fast < ema_slow"]}
    space = build_search_space(raw, get_strategy(S1))
    assert space.violated_constraint({"ema_fast": 55}) == "ema_fast < ema_slow"  # default ema_slow = 50
    assert space.violated_constraint({"ema_fast": 20}) is None
    with pytest.raises(ConfigError, match=r"unknown parameter 'ema_slw'"):
        build_search_space({**raw, "constraints": ["ema_fast < ema_slw"]}, get_strategy(S1))
