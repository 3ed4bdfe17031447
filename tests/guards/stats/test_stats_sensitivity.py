"""Neighbour parameter sets (±10 %, ±1 step, bounds, constraints) and the coefficient of variation."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan.guards import UndefinedStatistic, coefficient_of_variation, sensitivity_neighbours
from tradescan.search_space import CategoricalParam, FloatParam, IntParam, SearchSpace, parse_constraint

PARAMS = {
    "ema_fast": IntParam(type="int", low=5, high=60),
    "ema_slow": IntParam(type="int", low=50, high=200, step=5),
    "k_sl": FloatParam(type="float", low=1.0, high=4.0),
    "k_tp": FloatParam(type="float", low=0.0, high=3.0, step=0.25),
    "use_tp": CategoricalParam(type="categorical", choices=(True, False)),
}
SPACE = SearchSpace(None, "", PARAMS, (parse_constraint("ema_fast < ema_slow", PARAMS),), {})


def _moves(centre):
    return {(n.param, n.direction): n.value for n in sensitivity_neighbours(SPACE, centre)}


def test_each_numeric_parameter_moves_both_ways_and_categoricals_stay():
    centre = {"ema_fast": 20, "ema_slow": 150, "k_sl": 2.0, "k_tp": 1.5, "use_tp": True}
    neighbours = sensitivity_neighbours(SPACE, centre)
    assert {(n.param, n.direction): n.value for n in neighbours} == {
        ("ema_fast", -1): 19, ("ema_fast", 1): 21,
        ("ema_slow", -1): 145, ("ema_slow", 1): 155,
        ("k_sl", -1): 1.8, ("k_sl", 1): 2.2,
        ("k_tp", -1): 1.25, ("k_tp", 1): 1.75,  # 1.35 and 1.65 snap to the 0.25 grid
    }
    assert all(n.params["use_tp"] is True for n in neighbours)
    assert neighbours[0].params == {**centre, "ema_fast": 19}


def test_moves_are_clipped_to_bounds_and_dropped_when_they_go_nowhere():
    moves = _moves({"ema_fast": 5, "ema_slow": 200, "k_sl": 3.9, "k_tp": 0.0, "use_tp": False})
    assert ("ema_fast", -1) not in moves and moves[("ema_fast", 1)] == 6
    assert ("ema_slow", 1) not in moves and moves[("ema_slow", -1)] == 195
    assert moves[("k_sl", 1)] == 4.0 and moves[("k_sl", -1)] == pytest.approx(3.51)
    assert ("k_tp", -1) not in moves and moves[("k_tp", 1)] == 0.25  # 0 moves by 10 % of the range: 0.3 -> 0.25


def test_neighbours_breaking_a_constraint_are_skipped():
    moves = _moves({"ema_fast": 49, "ema_slow": 50, "k_sl": 2.0, "k_tp": 1.0, "use_tp": True})
    assert ("ema_fast", 1) not in moves  # 50 < 50 fails
    assert ("ema_slow", -1) not in moves  # 49 < 45 fails (and 45 is below the bound anyway)
    assert moves[("ema_fast", -1)] == 48 and moves[("ema_slow", 1)] == 55


def test_settings_and_missing_parameters():
    centre = {"ema_fast": 20, "ema_slow": 150, "k_sl": 2.0, "k_tp": 1.5}
    moves = {(n.param, n.direction): n.value for n in sensitivity_neighbours(SPACE, centre, integer_steps=2)}
    assert moves[("ema_slow", 1)] == 160 and moves[("ema_fast", -1)] == 18
    with pytest.raises(ValueError, match="has no 'k_sl'"):
        sensitivity_neighbours(SPACE, {"ema_fast": 20, "ema_slow": 150})


def test_coefficient_of_variation():
    assert coefficient_of_variation([2.0, 2.0, 2.0]) == 0.0
    assert coefficient_of_variation([1.0, 2.0, 3.0]) == pytest.approx(np.std([1, 2, 3]) / 2.0)
    with pytest.raises(UndefinedStatistic, match=r"mean objective over centre and neighbours is -0.5 <= 0"):
        coefficient_of_variation([1.0, -2.0])
    with pytest.raises(UndefinedStatistic, match="1 of 3 scores are not finite"):
        coefficient_of_variation([1.0, np.nan, 2.0])
    with pytest.raises(UndefinedStatistic, match="2 scores or more"):
        coefficient_of_variation([1.0])
