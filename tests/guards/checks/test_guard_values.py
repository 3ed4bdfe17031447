"""Exact values and detail lines of the guards on the hand-made inputs of ``guard_cases``."""

from __future__ import annotations

import numpy as np
import pytest
from guard_cases import CASES

from tradescan.guards import GuardSettings, get_guard


def _value(name: str, which: int, settings: GuardSettings | None = None) -> float:
    return get_guard(name).evaluate(CASES[name][which](), settings).value


def test_exact_values():
    assert _value("wfe", 0) == pytest.approx(1.0) and _value("wfe", 1) == pytest.approx(0.5)
    assert _value("sharpe_oos", 1) == 0.0
    two_folds = [0.002, 0.001] * 100
    assert _value("sharpe_oos", 0) == pytest.approx(0.0015 / np.std(two_folds, ddof=1) * np.sqrt(252))
    assert _value("trades_oos", 0) == 61.0 and _value("trades_oos", 1) == 60.0
    assert _value("mc_pvalue", 0) == pytest.approx(1 / 100)
    assert _value("sensitivity", 0) == pytest.approx(np.std([1.0, 1.02, 0.98]))
    assert _value("top10_share", 0) == pytest.approx(0.1) and _value("top10_share", 1) == pytest.approx(100 / 190)
    assert _value("stress_sharpe", 1) == 0.9
    assert _value("regime_mismatch", 0) == 0.0 and _value("regime_mismatch", 1) == pytest.approx(0.02)
    assert _value("pbo", 0) == 0.0 and _value("pbo", 1) > 0.95


def test_thresholds_follow_the_preset():
    screen = GuardSettings(preset="screen")
    result = get_guard("wfe").evaluate(CASES["wfe"][1](), screen)  # WFE 0.5 is not > 0.5
    assert result.threshold == 0.5 and not result.passed
    result = get_guard("trades_oos").evaluate(CASES["trades_oos"][1](), screen)  # 60 > 50
    assert result.threshold == 50.0 and result.passed
    assert not get_guard("dsr").evaluate(CASES["dsr"][0](), screen).critical


def test_the_bootstrap_is_seeded_from_the_settings():
    from tradescan.guards import TradeSample

    sample = TradeSample(np.random.default_rng(8).normal(0.3, 1.0, 200))
    first = get_guard("bootstrap_pf").evaluate(sample, GuardSettings(seed=1))
    assert first == get_guard("bootstrap_pf").evaluate(sample, GuardSettings(seed=1))
    assert first.value != get_guard("bootstrap_pf").evaluate(sample, GuardSettings(seed=2)).value


def test_too_few_trades_for_the_bootstrap_fails():
    settings = GuardSettings(bootstrap={"min_trades": 200})
    result = get_guard("bootstrap_pf").evaluate(CASES["bootstrap_pf"][0](), settings)
    assert result.detail == "cannot be computed: 100 trades under B, fewer than 200"


def test_sensitivity_without_neighbours_fails():
    from tradescan.guards import SensitivityScores

    result = get_guard("sensitivity").evaluate(SensitivityScores(1.0, (), []))
    assert result.detail.startswith("cannot be computed: no neighbour parameter set") and not result.passed


def test_dsr_detail_reports_the_effective_number_of_trials():
    result = get_guard("dsr").evaluate(CASES["dsr"][1]())
    assert "of N=30 trials" in result.detail and "N_eff" in result.detail and "gives DSR" in result.detail
    assert 0.0 <= result.value < 0.95


def test_the_best_of_many_noise_trials_is_deflated_away():
    # 500 zero-skill trials over 3 years of daily returns: the best one's raw PSR looks convincing,
    # its DSR does not, and PBO sits near one half.
    from tradescan.guards import DeflationInput, TrialReturns, probabilistic_sharpe_ratio, return_moments

    returns = np.random.default_rng(11).normal(0.0, 0.01, (756, 500))
    trials = TrialReturns(returns)
    best = returns[:, int(np.argmax(trials.sharpes))]
    moments = return_moments(best)
    raw_psr = probabilistic_sharpe_ratio(moments.sharpe, moments.n_obs, skew=moments.skew, kurtosis=moments.kurtosis)
    assert raw_psr > 0.99
    result = get_guard("dsr").evaluate(DeflationInput(best, trials))
    assert not result.passed and result.value < 0.5
    assert 0.2 < get_guard("pbo").evaluate(trials).value < 0.8
