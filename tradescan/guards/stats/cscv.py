"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu (2015). The T×N matrix of trial returns (periods × trials) is
split into S contiguous row blocks (``np.array_split``: sizes differ by at most one row). For each of
the C(S, S/2) ways to pick half of the blocks as in-sample (IS) — the rest is out-of-sample (OOS) —
the trial with the best IS performance is selected, and its OOS relative rank ω = rank / (N + 1) gives
the logit λ = ln(ω / (1 − ω)). PBO is the share of splits with λ ≤ 0: the IS winner ranked at or
below the OOS median.

Choices (documented because they change numbers):

* performance = per-period Sharpe ratio (mean / std, ddof 1) of each column in each half; 0.0 for a
  column with no dispersion in that half (a trial that did not trade), as in ``tradescan.metrics``;
* the IS winner is the first column with the highest IS Sharpe; its OOS rank counts ties as half
  (rank = 1 + #{worse} + ½·#{tied others}), so N identical columns give ω = ½ and λ = 0 (overfit);
* ``degradation_slope`` is the least-squares slope of the winners' OOS Sharpe on their IS Sharpe
  (NaN when every IS Sharpe is the same); ``prob_oos_loss`` the share of splits whose winner has an
  OOS Sharpe below 0.

Fast: the per-block count, sum and sum of squares of every column are computed once with NumPy (on
returns centred by the column mean, for precision); a compiled pass then adds the S/2 blocks of each
split, takes the OOS sums as the totals minus the IS ones, and ranks — O(C(S, S/2)·N·S/2) additions,
no C×N matrix in memory. A split and its complement share one pass (complement of combination i is
combination C − 1 − i in lexicographic order). 12,870 splits over 1,000 trials take ~0.1 s.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards.stats.trials import as_return_matrix

__all__ = ["PboResult", "pbo"]

_FLAT_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class PboResult:
    """The outcome of CSCV over one T×N return matrix.

    Attributes:
        pbo: share of splits whose IS winner has λ ≤ 0.
        logits: λ of every split, in ``itertools.combinations(range(S), S // 2)`` order.
        degradation_slope: OLS slope of the winners' OOS Sharpe on their IS Sharpe.
        degradation_intercept: the intercept of that fit.
        prob_oos_loss: share of splits whose winner's OOS Sharpe is below 0.
        selected: column index of each split's IS winner.
        is_sharpe: each winner's IS Sharpe (per period).
        oos_sharpe: each winner's OOS Sharpe (per period).
        n_splits: S, the number of row blocks.
        n_trials: N, the number of columns.
        n_obs: T, the number of rows.
    """

    pbo: float
    logits: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    prob_oos_loss: float
    selected: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    n_splits: int
    n_trials: int
    n_obs: int

    @property
    def n_combinations(self) -> int:
        """Return C(S, S/2), the number of IS/OOS splits."""
        return len(self.logits)


def pbo(returns: ArrayLike, n_splits: int = 16) -> PboResult:
    """Return the probability of backtest overfitting of the trials in ``returns`` (CSCV).

    Args:
        returns: T×N array or DataFrame of per-period returns, one column per trial, all finite.
        n_splits: S, an even number of contiguous row blocks (16 in the paper: 12,870 splits).

    Raises:
        ValueError: S odd or < 2, or a non-finite return.
        UndefinedStatistic: fewer than 2 trials, or fewer than 2 rows per block.
    """
    matrix = as_return_matrix(returns)
    _check_shape(matrix, n_splits)
    selected, is_sharpe, oos_sharpe, logits = _all_splits(_combinations(n_splits), _block_sums(matrix, n_splits))
    slope, intercept = _degradation(is_sharpe, oos_sharpe)
    return PboResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        degradation_slope=slope,
        degradation_intercept=intercept,
        prob_oos_loss=float(np.mean(oos_sharpe < 0.0)),
        selected=selected,
        is_sharpe=is_sharpe,
        oos_sharpe=oos_sharpe,
        n_splits=n_splits,
        n_trials=matrix.shape[1],
        n_obs=matrix.shape[0],
    )


def _check_shape(matrix: np.ndarray, n_splits: int) -> None:
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2 or n_splits % 2:
        raise ValueError(f"n_splits must be an even integer >= 2, got {n_splits!r}")
    n_obs, n_trials = matrix.shape
    if n_trials < 2:
        raise UndefinedStatistic(f"PBO compares trials: it needs at least 2 columns, got {n_trials}")
    if n_obs < 2 * n_splits:
        raise UndefinedStatistic(
            f"PBO with {n_splits} blocks needs at least {2 * n_splits} rows (2 per block), got {n_obs}"
        )


def _combinations(n_splits: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(n_splits), n_splits // 2)), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class _BlockSums:
    count: np.ndarray  # (S,) rows per block
    sum_1: np.ndarray  # (S, N) sum of centred returns per block
    sum_2: np.ndarray  # (S, N) sum of squared centred returns per block
    centre: np.ndarray  # (N,) column means the returns were centred by
    flat_std: np.ndarray  # (N,) a std at or below this is no dispersion (a trial that did not trade)


def _block_sums(matrix: np.ndarray, n_splits: int) -> _BlockSums:
    centre = matrix.mean(axis=0)
    centred = matrix - centre
    bounds = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(len(matrix)), n_splits)])
    sum_1 = np.add.reduceat(centred, bounds[:-1], axis=0)
    sum_2 = np.add.reduceat(centred * centred, bounds[:-1], axis=0)
    flat_std = _FLAT_TOLERANCE * np.max(np.abs(matrix), axis=0)
    return _BlockSums(np.diff(bounds).astype(np.float64), sum_1, sum_2, centre, flat_std)


def _all_splits(
    combinations: np.ndarray, sums: _BlockSums
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return _all_splits_nb(combinations, sums.count, sums.sum_1, sums.sum_2, sums.centre, sums.flat_std)


@njit(cache=True)
def _all_splits_nb(
    combinations: np.ndarray,
    count: np.ndarray,
    sum_1: np.ndarray,
    sum_2: np.ndarray,
    centre: np.ndarray,
    flat_std: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (selected, IS Sharpe, OOS Sharpe, logit) of every split.

    In lexicographic order the complement of combination i is combination C − 1 − i: the OOS half of
    split i is the IS half of split C − 1 − i, so one pass over the blocks of i serves both splits.
    """
    n_combinations, n_trials = combinations.shape[0], sum_1.shape[1]
    total_count, total_1, total_2 = count.sum(), sum_1.sum(axis=0), sum_2.sum(axis=0)
    selected = np.empty(n_combinations, dtype=np.int64)
    is_sharpe, oos_sharpe, logits = np.empty(n_combinations), np.empty(n_combinations), np.empty(n_combinations)
    inside_1, inside_2 = np.empty(n_trials), np.empty(n_trials)
    inside, outside = np.empty(n_trials), np.empty(n_trials)
    for split in range(n_combinations // 2):
        inside_1[:] = 0.0
        inside_2[:] = 0.0
        inside_count = 0.0
        for block in combinations[split]:
            inside_count += count[block]
            for trial in range(n_trials):
                inside_1[trial] += sum_1[block, trial]
                inside_2[trial] += sum_2[block, trial]
        for trial in range(n_trials):
            inside[trial] = _sharpe_nb(inside_count, inside_1[trial], inside_2[trial], centre[trial], flat_std[trial])
            outside[trial] = _sharpe_nb(
                total_count - inside_count,
                total_1[trial] - inside_1[trial],
                total_2[trial] - inside_2[trial],
                centre[trial],
                flat_std[trial],
            )
        complement = n_combinations - 1 - split
        selected[split], is_sharpe[split], oos_sharpe[split], logits[split] = _rank_winner_nb(inside, outside)
        selected[complement], is_sharpe[complement], oos_sharpe[complement], logits[complement] = _rank_winner_nb(
            outside, inside
        )
    return selected, is_sharpe, oos_sharpe, logits


@njit(cache=True, inline="always")
def _sharpe_nb(count: float, sum_1: float, sum_2: float, centre: float, flat_std: float) -> float:
    """Sharpe ratio (ddof 1) from the count, sum and sum of squares of centred returns; 0 when flat."""
    variance = (sum_2 - sum_1 * sum_1 / count) / (count - 1.0)
    std = math.sqrt(variance) if variance > 0.0 else 0.0
    if std <= flat_std:
        return 0.0
    return (centre + sum_1 / count) / std


@njit(cache=True)
def _rank_winner_nb(inside: np.ndarray, outside: np.ndarray) -> tuple[int, float, float, float]:
    """Return the IS winner (first maximum), its IS and OOS Sharpe and the logit of its OOS rank."""
    winner = 0
    for trial in range(1, len(inside)):
        if inside[trial] > inside[winner]:
            winner = trial
    winner_oos = outside[winner]
    worse = tied = 0
    for trial in range(len(outside)):
        if outside[trial] < winner_oos:
            worse += 1
        elif outside[trial] == winner_oos:
            tied += 1
    omega = (1.0 + worse + 0.5 * (tied - 1)) / (len(outside) + 1.0)
    return winner, inside[winner], winner_oos, math.log(omega / (1.0 - omega))


def _degradation(is_sharpe: np.ndarray, oos_sharpe: np.ndarray) -> tuple[float, float]:
    spread = is_sharpe - is_sharpe.mean()
    denominator = float(spread @ spread)
    if denominator <= 0.0 or not math.isfinite(denominator):
        return math.nan, math.nan
    slope = float(spread @ (oos_sharpe - oos_sharpe.mean())) / denominator
    return slope, float(oos_sharpe.mean() - slope * is_sharpe.mean())
