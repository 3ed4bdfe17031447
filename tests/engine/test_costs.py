"""Per-bar cost arrays: the DESIGN §4 formula, the ratio's warm-up rule and the spike multiplier."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan.engine.broker import DEFAULT_SCENARIOS, ScenarioCosts, SlippageModel
from tradescan.engine.costs import cost_pips_per_bar, slippage_pips, tr_atr_ratio

SEED_SLIPPAGE = SlippageModel(base_pips=0.1, atr_k=0.5, spike_tr_atr=1.5, spike_mult=2.0)
NAN = np.nan


def test_ratio_is_tr_over_previous_atr_and_one_where_undefined() -> None:
    true_range = np.array([NAN, 2.0, 3.0, 4.0, 5.0])
    atr14 = np.array([NAN, NAN, 2.0, 0.0, 4.0])
    np.testing.assert_allclose(tr_atr_ratio(true_range, atr14), [1.0, 1.0, 1.0, 2.0, 1.0])
    #                                    bar 0, no ATR[0], ATR[1] NaN, 4/2, ATR[3]=0 -> 1


def test_short_series_are_fine() -> None:
    assert tr_atr_ratio(np.array([NAN]), np.array([NAN])).tolist() == [1.0]
    assert tr_atr_ratio(np.array([]), np.array([])).tolist() == []


def test_spike_multiplies_the_core_before_the_scenario_multiplier() -> None:
    ratio = np.array([1.0, 1.5, 3.0])
    scenario_c = DEFAULT_SCENARIOS["C"]
    # core = 0.1 + 0.5·ratio; spike only strictly above 1.5; then × 1.8
    expected = [0.6 * 1.8, 0.85 * 1.8, 1.6 * 2.0 * 1.8]
    np.testing.assert_allclose(slippage_pips(ratio, SEED_SLIPPAGE, scenario_c), expected)


def test_no_spike_without_the_scenario_flag() -> None:
    ratio = np.array([3.0])
    np.testing.assert_allclose(slippage_pips(ratio, SEED_SLIPPAGE, DEFAULT_SCENARIOS["B"]), [1.6 + 0.3])


def test_cost_rows_follow_the_scenarios_in_order() -> None:
    true_range = np.array([NAN, 1.0, 3.0])
    atr14 = np.array([1.0, 1.0, 1.0])
    scenarios = [DEFAULT_SCENARIOS[name] for name in "ABC"]
    costs = cost_pips_per_bar(true_range, atr14, 0.7, SEED_SLIPPAGE, scenarios)
    assert costs.shape == (3, 3)
    np.testing.assert_allclose(costs[0], [0.35 + 0.6, 0.35 + 0.6, 0.35 + 1.6])
    np.testing.assert_allclose(costs[1], [0.455 + 0.9, 0.455 + 0.9, 0.455 + 1.9])
    np.testing.assert_allclose(costs[2], [0.56 + 1.08, 0.56 + 1.08, 0.56 + 5.76])


def test_slippage_add_is_not_spiked() -> None:
    scenario = ScenarioCosts(slippage_mult=1.0, slippage_add_pips=1.0, spikes=True)
    assert slippage_pips(np.array([3.0]), SEED_SLIPPAGE, scenario)[0] == pytest.approx(1.6 * 2.0 + 1.0)


def test_cost_fraction_is_the_bps_part_of_a_fill() -> None:
    from tradescan.engine.costs import cost_fraction_per_bar

    true_range = np.array([NAN, 2.0, 6.0])
    atr14 = np.array([NAN, 2.0, 2.0])  # ratios 1.0, 1.0, 3.0
    slippage = SlippageModel(base_bps=1.0, atr_k_bps=0.5, spike_tr_atr=2.0, spike_mult=2.0)
    stressed = ScenarioCosts(spread_mult=2.0, slippage_mult=1.5, slippage_add_bps=0.2, spikes=True)
    scenarios = [DEFAULT_SCENARIOS["A"], stressed]
    fractions = cost_fraction_per_bar(true_range, atr14, 4.0, slippage, scenarios)
    # A: 4/2 + (1 + 0.5 r); the second: 4*2/2 + (1 + 0.5 r) [x2 when r > 2] * 1.5 + 0.2, all x 1e-4
    np.testing.assert_allclose(fractions[0], np.array([3.5, 3.5, 4.5]) * 1e-4, rtol=1e-15)
    np.testing.assert_allclose(fractions[1], np.array([6.45, 6.45, 11.7]) * 1e-4, rtol=1e-15)
    pips = cost_pips_per_bar(true_range, atr14, 0.0, slippage, scenarios)
    assert pips[0].tolist() == [0.0, 0.0, 0.0]  # a bps-only profile has no pip part
