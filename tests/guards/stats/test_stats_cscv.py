"""PBO by CSCV: a hand-made case, a slow reference, and its behaviour on noise and on overfit data."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from tradescan.guards import UndefinedStatistic, pbo

# Four blocks of two rows. Column 0 is strong in blocks 0-1 and loses in 2-3, column 1 the reverse,
# column 2 is mildly positive everywhere. Halves {0,1} and {2,3} pick the column that is strong there
# and it is the OOS worst (rank 1 of 3: λ = ln(1/3)); mixed halves pick column 2, OOS best (λ = ln 3).
HAND = np.array(
    [
        [2.0, -2.0, 0.5],
        [2.2, -2.2, 0.7],
        [2.0, -2.0, 0.5],
        [2.2, -2.2, 0.7],
        [-2.0, 2.0, 0.5],
        [-2.2, 2.2, 0.7],
        [-2.0, 2.0, 0.5],
        [-2.2, 2.2, 0.7],
    ]
)


def test_hand_made_four_block_case_has_exact_logits():
    result = pbo(HAND, n_splits=4)
    # splits in combinations order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    expected = [math.log(1 / 3), math.log(3), math.log(3), math.log(3), math.log(3), math.log(1 / 3)]
    np.testing.assert_allclose(result.logits, expected, rtol=0, atol=1e-12)
    assert result.selected.tolist() == [0, 2, 2, 2, 2, 1]
    assert result.pbo == pytest.approx(2 / 6)
    assert result.prob_oos_loss == pytest.approx(2 / 6)
    assert result.n_combinations == 6 and result.n_trials == 3 and result.n_obs == 8
    strong, mild = 2.1 / np.std([2.0, 2.2, 2.0, 2.2], ddof=1), 0.6 / np.std([0.5, 0.7, 0.5, 0.7], ddof=1)
    np.testing.assert_allclose(result.is_sharpe, [strong, mild, mild, mild, mild, strong], rtol=1e-12)
    np.testing.assert_allclose(result.oos_sharpe, [-strong, mild, mild, mild, mild, -strong], rtol=1e-12)


def _reference_pbo(matrix: np.ndarray, n_splits: int) -> np.ndarray:
    """The definition, one split at a time."""
    blocks = np.array_split(np.arange(len(matrix)), n_splits)
    n_trials = matrix.shape[1]
    logits = []
    for chosen in itertools.combinations(range(n_splits), n_splits // 2):
        inside = np.concatenate([blocks[b] for b in chosen])
        outside = np.concatenate([blocks[b] for b in range(n_splits) if b not in chosen])
        is_sharpe = matrix[inside].mean(0) / matrix[inside].std(0, ddof=1)
        oos_sharpe = matrix[outside].mean(0) / matrix[outside].std(0, ddof=1)
        best = int(np.argmax(is_sharpe))
        rank = 1 + np.sum(oos_sharpe < oos_sharpe[best]) + 0.5 * (np.sum(oos_sharpe == oos_sharpe[best]) - 1)
        omega = rank / (n_trials + 1)
        logits.append(math.log(omega / (1 - omega)))
    return np.array(logits)


@pytest.mark.parametrize(("seed", "n_splits", "shape"), [(0, 6, (61, 7)), (1, 8, (200, 25)), (2, 4, (9, 3))])
def test_vectorised_pbo_agrees_with_the_reference(seed, n_splits, shape):
    matrix = np.random.default_rng(seed).normal(0.0005, 0.01, shape)
    result = pbo(matrix, n_splits=n_splits)
    reference = _reference_pbo(matrix, n_splits)
    np.testing.assert_allclose(result.logits, reference, rtol=0, atol=1e-12)
    assert result.pbo == pytest.approx(np.mean(reference <= 0))


def test_dataframe_input_gives_the_same_result():
    matrix = np.random.default_rng(5).normal(size=(64, 6))
    frame = pd.DataFrame(matrix, columns=[f"trial_{i}" for i in range(6)])
    np.testing.assert_array_equal(pbo(frame, 8).logits, pbo(matrix, 8).logits)


def test_pure_noise_sits_near_one_half():
    values = [pbo(np.random.default_rng(seed).normal(0, 0.01, (1000, 40))).pbo for seed in range(8)]
    assert 0.35 < float(np.mean(values)) < 0.65


def test_same_full_sample_sharpe_is_overfit_everywhere():
    # Every column rescaled to the same full-sample mean and std: what a column gains in-sample it
    # loses out-of-sample, so the IS winner ranks low OOS.
    for seed in range(3):
        noise = np.random.default_rng(seed).normal(size=(800, 30))
        matrix = (noise - noise.mean(0)) / noise.std(0) * 0.01 + 0.001
        assert pbo(matrix).pbo > 0.95


def test_a_consistently_better_trial_is_not_overfit():
    rng = np.random.default_rng(4)
    matrix = rng.normal(0, 0.01, (1600, 20))
    matrix[:, 7] += 0.02
    result = pbo(matrix)
    assert result.pbo == 0.0
    assert np.all(result.selected == 7)
    assert result.prob_oos_loss == 0.0


def test_identical_columns_tie_at_the_median_and_count_as_overfit():
    column = np.random.default_rng(6).normal(size=(64, 1))
    result = pbo(np.hstack([column, column, column]), 4)
    np.testing.assert_allclose(result.logits, 0.0, atol=1e-12)
    assert result.pbo == 1.0
    assert np.all(result.selected == 0)  # the first of equal IS Sharpe ratios is the winner


def test_flat_columns_score_zero():
    rng = np.random.default_rng(7)
    matrix = np.column_stack([rng.normal(0.01, 0.01, 64), np.zeros(64), rng.normal(-0.01, 0.01, 64)])
    result = pbo(matrix, 4)
    assert np.all(result.selected == 0)  # the flat column (Sharpe 0) never beats a positive one


def test_bad_inputs():
    with pytest.raises(ValueError, match="even integer"):
        pbo(np.zeros((40, 3)), n_splits=5)
    with pytest.raises(UndefinedStatistic, match="at least 2 columns"):
        pbo(np.ones((40, 1)), n_splits=4)
    with pytest.raises(UndefinedStatistic, match="at least 32 rows"):
        pbo(np.ones((31, 3)), n_splits=16)
    with pytest.raises(ValueError, match="finite; 1 values are not, first at row 2, column 1"):
        bad = np.zeros((40, 3))
        bad[2, 1] = np.nan
        pbo(bad, 4)
    with pytest.raises(ValueError, match="2-D"):
        pbo(np.zeros(40), 4)
