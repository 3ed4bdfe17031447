"""Trial Sharpe ratios and the effective number of independent trials."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan.guards import UndefinedStatistic, column_sharpes, effective_trials

A = np.array([1.0, -1.0, 1.0, -1.0])
B = np.array([1.0, 1.0, -1.0, -1.0])


def test_column_sharpes_with_a_flat_column():
    matrix = np.column_stack([[1.0, 2.0, 3.0, 4.0], np.zeros(4), [0.5, 0.5, 0.5, 0.5]])
    assert column_sharpes(matrix).tolist() == pytest.approx([2.5 / np.std([1, 2, 3, 4], ddof=1), 0.0, 0.0])


def test_effective_trials_of_a_hand_made_matrix():
    # corr(A, B) = 0, corr(A, A) = 1, corr(B, A) = 0 -> mean pairwise correlation 1/3
    result = effective_trials(np.column_stack([A, B, A]))
    assert result.mean_correlation == pytest.approx(1 / 3)
    assert result.n_effective == pytest.approx(1 / 3 + 2 / 3 * 3)
    assert effective_trials(np.column_stack([A, B, A]), n_trials=10).n_effective == pytest.approx(1 / 3 + 2 / 3 * 10)


def test_identical_trials_count_once_and_flat_ones_are_left_out():
    result = effective_trials(np.column_stack([A, A * 2, A + 5, np.zeros(4)]))
    assert result.n_effective == pytest.approx(1.0)
    assert result.n_columns_used == 3 and result.n_trials == 4


def test_mean_correlation_agrees_with_the_full_correlation_matrix():
    matrix = np.random.default_rng(1).normal(size=(300, 40)) + np.random.default_rng(2).normal(size=(300, 1))
    correlation = np.corrcoef(matrix, rowvar=False)
    expected = (correlation.sum() - 40) / (40 * 39)
    assert effective_trials(matrix).mean_correlation == pytest.approx(expected, abs=1e-12)


def test_negative_mean_correlation_is_clipped_to_n():
    result = effective_trials(np.column_stack([A, -A]))
    assert result.mean_correlation == pytest.approx(-1.0)
    assert result.n_effective == 2.0


def test_fewer_than_two_trading_columns_is_undefined():
    with pytest.raises(UndefinedStatistic, match="at least 2 trials that traded"):
        effective_trials(np.column_stack([A, np.zeros(4)]))
    with pytest.raises(ValueError, match="cannot be below"):
        effective_trials(np.column_stack([A, B]), n_trials=1)
