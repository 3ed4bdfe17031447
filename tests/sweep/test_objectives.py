"""Objectives and the stage-1 min-trades penalty."""

from __future__ import annotations

import math

import pytest

from tradescan.errors import UnknownNameError
from tradescan.sweep.objectives import ObjectiveError, get_objective, objective_names, stage1_value


def test_registry_lists_every_plugin() -> None:
    assert objective_names() == ["expectancy_r", "net_pnl", "profit_factor", "sharpe", "sortino"]
    with pytest.raises(UnknownNameError, match="did you mean 'sharpe'"):
        get_objective("sharp")


def test_penalty_shrinks_linearly_to_min_trades() -> None:
    sharpe = get_objective("sharpe")
    assert stage1_value(sharpe, {"sharpe": 1.5, "trades": 100}, min_trades=100, penalty_weight=1.0) == 1.5
    assert stage1_value(sharpe, {"sharpe": 1.5, "trades": 50}, min_trades=100, penalty_weight=1.0) == 1.0
    assert stage1_value(sharpe, {"sharpe": 1.5, "trades": 50}, min_trades=0, penalty_weight=1.0) == 1.5


def test_no_trades_scores_zero_minus_the_full_penalty() -> None:
    value = stage1_value(get_objective("sharpe"), {"sharpe": math.nan, "trades": 0}, min_trades=30, penalty_weight=2.0)
    assert value == -2.0


def test_capped_and_non_finite_objectives() -> None:
    profit_factor = get_objective("profit_factor")
    capped = stage1_value(profit_factor, {"profit_factor": math.inf, "trades": 40}, min_trades=0, penalty_weight=1)
    assert capped == 10.0
    with pytest.raises(ObjectiveError, match="not finite"):
        stage1_value(get_objective("sharpe"), {"sharpe": -math.inf, "trades": 5}, min_trades=0, penalty_weight=1)
    with pytest.raises(ObjectiveError, match="metric 'sortino' missing"):
        stage1_value(get_objective("sortino"), {"trades": 5}, min_trades=0, penalty_weight=1)


def test_net_pnl_is_scored_as_a_fraction_of_capital() -> None:
    assert get_objective("net_pnl").score({"total_return": 0.25, "net_pnl": 2500.0}) == 0.25
    assert get_objective("expectancy_r").score({"expectancy_r": 0.3}) == 0.3
