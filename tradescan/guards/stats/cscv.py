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

Vectorised: the per-block count, sum and sum of squares of every column are computed once (on
returns centred by the column mean, for precision), each split's IS sums are a 0/1 matrix product
over blocks, OOS sums the totals minus IS; splits are processed in chunks to bound memory.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards.stats.trials import as_return_matrix

__all__ = ["PboResult", "pbo"]

_CHUNK_CELLS = 1_000_000  # half-splits x trials per chunk (a few float64 arrays of this size are alive)
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
    selected, is_sharpe, oos_sharpe, logits = _all_splits(_membership(n_splits), _block_sums(matrix, n_splits))
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


def _membership(n_splits: int) -> np.ndarray:
    combos = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)), dtype=np.int64)
    membership = np.zeros((len(combos), n_splits), dtype=np.float64)
    np.put_along_axis(membership, combos, 1.0, axis=1)
    return membership


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
    membership: np.ndarray, sums: _BlockSums
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # In lexicographic order the complement of combination i is combination C - 1 - i, so the OOS half
    # of split i is the IS half of split C - 1 - i: each half's Sharpe row is computed once and serves
    # twice. Chunks pair rows lo..hi with their complements, which are contiguous too.
    n_combinations, n_trials = len(membership), len(sums.centre)
    selected = np.empty(n_combinations, dtype=np.int64)
    is_sharpe, oos_sharpe, logits = (np.empty(n_combinations) for _ in range(3))
    chunk = max(1, _CHUNK_CELLS // n_trials)
    for lo in range(0, n_combinations // 2, chunk):
        hi = min(lo + chunk, n_combinations // 2)
        front = np.arange(lo, hi)
        back = n_combinations - 1 - front
        front_sharpe, back_sharpe = _half_sharpe(membership[front], sums), _half_sharpe(membership[back], sums)
        for rows, inside, outside in ((front, front_sharpe, back_sharpe), (back, back_sharpe, front_sharpe)):
            selected[rows], is_sharpe[rows], oos_sharpe[rows], logits[rows] = _rank_winners(inside, outside)
    return selected, is_sharpe, oos_sharpe, logits


def _half_sharpe(membership: np.ndarray, sums: _BlockSums) -> np.ndarray:
    """Return the Sharpe ratio of every column over the blocks each row of ``membership`` selects."""
    n = (membership @ sums.count)[:, None]
    sum_1 = membership @ sums.sum_1
    variance = membership @ sums.sum_2
    variance -= sum_1 * sum_1 / n
    variance /= n - 1.0
    np.maximum(variance, 0.0, out=variance)
    std = np.sqrt(variance, out=variance)
    mean = sum_1
    mean /= n
    mean += sums.centre
    flat = std <= sums.flat_std
    std[flat] = 1.0
    mean /= std
    mean[flat] = 0.0
    return mean


def _rank_winners(
    inside: np.ndarray, outside: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(len(inside))
    selected = np.argmax(inside, axis=1)
    winner_oos = outside[rows, selected]
    worse = np.count_nonzero(outside < winner_oos[:, None], axis=1)
    tied_others = np.count_nonzero(outside == winner_oos[:, None], axis=1) - 1
    omega = (1.0 + worse + 0.5 * tied_others) / (outside.shape[1] + 1.0)
    return selected, inside[rows, selected], winner_oos, np.log(omega / (1.0 - omega))


def _degradation(is_sharpe: np.ndarray, oos_sharpe: np.ndarray) -> tuple[float, float]:
    spread = is_sharpe - is_sharpe.mean()
    denominator = float(spread @ spread)
    if denominator <= 0.0 or not math.isfinite(denominator):
        return math.nan, math.nan
    slope = float(spread @ (oos_sharpe - oos_sharpe.mean())) / denominator
    return slope, float(oos_sharpe.mean() - slope * is_sharpe.mean())
