"""PSR, DSR and the expected maximum Sharpe against published values and Lo's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradescan.guards import (
    UndefinedStatistic,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    return_moments,
)


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def test_dsr_matches_the_papers_example():
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example.
    value = deflated_sharpe_ratio(
        2.5 / math.sqrt(250), 1250, n_trials=100, trial_sharpe_std=math.sqrt(0.5 / 250), skew=-3.0, kurtosis=10.0
    )
    assert round(value, 4) == 0.9004


def test_expected_max_sharpe_of_the_papers_example():
    assert round(expected_max_sharpe(100, 0.0, math.sqrt(0.5 / 250)), 4) == 0.1132
    assert expected_max_sharpe(100) == pytest.approx(2.5306028932, abs=1e-9)  # std 1: the z factor alone


def test_psr_matches_the_sharpe_ratio_efficient_frontier_example():
    # Bailey & López de Prado (2012): 24 monthly returns, annual SR 1.585, skew -2.448, kurtosis 10.164.
    value = probabilistic_sharpe_ratio(1.585 / math.sqrt(12), 24, benchmark=0.0, skew=-2.448, kurtosis=10.164)
    assert round(value, 4) == 0.9132


@pytest.mark.parametrize(("sharpe", "n_obs", "target"), [(0.1, 250, 0.0), (0.05, 1000, 0.02), (-0.03, 60, 0.0)])
def test_psr_reduces_to_lo_for_normal_returns(sharpe, n_obs, target):
    lo = _phi((sharpe - target) * math.sqrt(n_obs - 1) / math.sqrt(1 + sharpe**2 / 2))
    assert probabilistic_sharpe_ratio(sharpe, n_obs, target) == pytest.approx(lo, abs=1e-12)


def test_an_excess_kurtosis_is_refused_with_the_convention_named():
    with pytest.raises(ValueError, match=r"kurtosis must be raw \(3 for a normal"):
        probabilistic_sharpe_ratio(0.1, 250, skew=0.0, kurtosis=0.0)
    with pytest.raises(ValueError, match=r"1 \+ skew\^2 = 5"):
        deflated_sharpe_ratio(0.1, 250, n_trials=10, trial_sharpe_std=0.05, skew=-2.0, kurtosis=4.0)


def test_a_non_positive_variance_term_is_undefined():
    with pytest.raises(UndefinedStatistic, match="variance term"):
        probabilistic_sharpe_ratio(2.0, 100, skew=1.0, kurtosis=2.0)


def test_expected_max_grows_with_trials_and_one_trial_is_the_mean():
    assert expected_max_sharpe(1, mean=0.3, std=2.0) == 0.3
    values = [expected_max_sharpe(n) for n in (2, 10, 100, 1000)]
    assert values == sorted(values) and values[0] > 0
    assert expected_max_sharpe(100, mean=0.5, std=2.0) == pytest.approx(0.5 + 2.0 * expected_max_sharpe(100))
    with pytest.raises(ValueError, match="n_trials >= 1"):
        expected_max_sharpe(0.5)


def test_dsr_falls_as_trials_grow():
    values = [deflated_sharpe_ratio(0.1, 1000, n_trials=n, trial_sharpe_std=0.03) for n in (1, 10, 100, 10_000)]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(probabilistic_sharpe_ratio(0.1, 1000))


def test_return_moments_of_a_hand_made_series():
    moments = return_moments([1.0, 2.0, 3.0, 4.0])
    assert moments.sharpe == pytest.approx(2.5 / np.std([1, 2, 3, 4], ddof=1))
    assert moments.skew == pytest.approx(0.0, abs=1e-15)
    assert moments.kurtosis == pytest.approx(2.5625 / 1.5625)  # m4 / m2² with m2 = 1.25, m4 = 2.5625
    assert moments.n_obs == 4


def test_return_moments_of_a_normal_sample_have_raw_kurtosis_near_3():
    moments = return_moments(np.random.default_rng(3).normal(0.001, 0.01, 200_000))
    assert moments.kurtosis == pytest.approx(3.0, abs=0.05)
    assert moments.skew == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("returns", [[0.01], [0.0, 0.0, 0.0], [0.002] * 5])
def test_return_moments_undefined_without_dispersion(returns):
    with pytest.raises(UndefinedStatistic):
        return_moments(returns)
