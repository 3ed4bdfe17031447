"""Stationary-bootstrap interval of the profit factor (arch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from arch.bootstrap import optimal_block_length as politis_white

from tradescan.guards import UndefinedStatistic, optimal_block_length, profit_factor_interval


def test_seeded_and_deterministic():
    pnl = np.random.default_rng(0).normal(0.2, 1.0, 300)
    first = profit_factor_interval(pnl, seed=1, n_resamples=500)
    assert first == profit_factor_interval(pnl, seed=1, n_resamples=500)
    assert first != profit_factor_interval(pnl, seed=2, n_resamples=500)
    assert first.lower < first.estimate < first.upper
    assert first.estimate == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())


def test_an_edge_clears_one_and_noise_does_not():
    rng = np.random.default_rng(3)
    assert profit_factor_interval(rng.normal(0.5, 1.0, 400), seed=1).lower > 1.0
    assert profit_factor_interval(rng.normal(0.0, 1.0, 400), seed=1).lower < 1.0


def test_resamples_without_a_loss_are_inf_and_counted():
    pnl = np.array([5.0] * 19 + [-1.0])
    interval = profit_factor_interval(pnl, seed=4, n_resamples=2000, block_length=1.0)
    assert math.isinf(interval.upper)
    assert interval.share_no_loss == pytest.approx((19 / 20) ** 20, abs=0.03)  # i.i.d. draws: P(no -1 drawn)
    # PF with k of 20 draws losing is 5(20 - k)/k; P(k >= 3) = 7.5 % and P(k >= 4) = 1.6 % under
    # Binomial(20, 1/20), so the 2.5 % order statistic is k = 3: no interpolation between resamples.
    assert interval.lower == 5 * 17 / 3


def test_a_sample_without_losses_is_undefined():
    with pytest.raises(UndefinedStatistic, match="no losing trade among 3"):
        profit_factor_interval([1.0, 2.0, 0.0], seed=1)
    with pytest.raises(UndefinedStatistic, match="at least 2 trades"):
        profit_factor_interval([-1.0], seed=1)


def test_block_length_rule_and_override():
    pnl = np.random.default_rng(5).normal(0.1, 1.0, 250)
    expected = max(1.0, float(politis_white(pnl)["stationary"].iloc[0]))
    assert optimal_block_length(pnl) == pytest.approx(expected)
    assert profit_factor_interval(pnl, seed=1, n_resamples=200).block_length == pytest.approx(expected)
    assert profit_factor_interval(pnl, seed=1, n_resamples=200, block_length=7.5).block_length == 7.5
    with pytest.raises(ValueError, match="block_length >= 1"):
        profit_factor_interval(pnl, seed=1, block_length=0.5)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        profit_factor_interval(pnl, seed=1, confidence=1.0)
