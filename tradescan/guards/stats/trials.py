"""The trials of a study as a return matrix: their Sharpe ratios and an effective number of them.

DSR deflates the best Sharpe by the expected maximum of N trials; trials of one strategy share most
of their trades, so N overstates how many *independent* tries were made. The effective number used
here is the average-correlation rule

    N_eff = ρ̄ + (1 − ρ̄)·N

(ρ̄ the mean pairwise correlation of the trials' returns, clipped to [0, 1]): N_eff = N for
uncorrelated trials and 1 when all are the same series. ρ̄ is computed in O(T·N) without the
N×N matrix: with every column centred and scaled to unit norm (z_i), Σ_ij corr_ij = ‖Σ_i z_i‖².
Columns with no dispersion (trials that never traded) have no correlation and are left out of ρ̄.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic

__all__ = ["EffectiveTrials", "as_return_matrix", "column_sharpes", "effective_trials"]

_FLAT_TOLERANCE = 1e-12  # std below this fraction of a column's largest |return|: no dispersion


class EffectiveTrials(NamedTuple):
    """Attributes: ``n_effective`` (N_eff), ``mean_correlation`` (ρ̄ before clipping), ``n_trials`` (N),
    ``n_columns_used`` (columns with dispersion that entered ρ̄)."""

    n_effective: float
    mean_correlation: float
    n_trials: int
    n_columns_used: int


def as_return_matrix(returns: ArrayLike, *, what: str = "returns") -> np.ndarray:
    """Return ``returns`` (T×N array or DataFrame) as a C-contiguous float64 matrix, every value finite."""
    matrix = np.ascontiguousarray(np.asarray(returns, dtype=np.float64))
    if matrix.ndim != 2:
        raise ValueError(f"{what} must be a 2-D T x N matrix (periods x trials), got shape {matrix.shape}")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what} must be finite; {int(bad.sum())} values are not, first at row {row}, column {column}")
    return matrix


def _flat_columns(matrix: np.ndarray, std: np.ndarray) -> np.ndarray:
    scale = np.max(np.abs(matrix), axis=0) if len(matrix) else np.zeros(matrix.shape[1])
    return np.asarray(std <= _FLAT_TOLERANCE * scale)


def column_sharpes(returns: ArrayLike) -> np.ndarray:
    """Return the per-period Sharpe ratio (mean / std, ddof 1) of every column; 0.0 for a flat column.

    A flat column is a trial that never traded: no risk, no Sharpe, as in ``tradescan.metrics``.
    """
    matrix = as_return_matrix(returns)
    if len(matrix) < 2:
        raise UndefinedStatistic(f"Sharpe ratios need at least 2 periods, got {len(matrix)}")
    std = np.std(matrix, axis=0, ddof=1)
    flat = _flat_columns(matrix, std)
    safe_std = np.where(flat, 1.0, std)
    return np.where(flat, 0.0, matrix.mean(axis=0) / safe_std)


def effective_trials(returns: ArrayLike, n_trials: int | None = None) -> EffectiveTrials:
    """Return the effective number of independent trials, ``ρ̄ + (1 − ρ̄)·N``.

    Args:
        returns: T×N returns, one column per trial (flat columns are skipped for ρ̄).
        n_trials: N, the number of trials the study ran (default: the number of columns).

    Raises:
        UndefinedStatistic: fewer than 2 columns with dispersion (no correlation to average).
    """
    matrix = as_return_matrix(returns)
    count = matrix.shape[1] if n_trials is None else int(n_trials)
    if count < matrix.shape[1]:
        raise ValueError(f"n_trials ({count}) cannot be below the number of return columns ({matrix.shape[1]})")
    centred = matrix - matrix.mean(axis=0)
    norms = np.sqrt(np.sum(centred * centred, axis=0))
    used = ~_flat_columns(matrix, norms / np.sqrt(max(len(matrix) - 1, 1)))
    k = int(used.sum())
    if k < 2:
        raise UndefinedStatistic(f"an average correlation needs at least 2 trials that traded, got {k}")
    unit = centred[:, used] / norms[used]
    total = unit.sum(axis=1)
    mean_correlation = (float(total @ total) - k) / (k * (k - 1))
    rho = min(max(mean_correlation, 0.0), 1.0)
    return EffectiveTrials(rho + (1.0 - rho) * count, mean_correlation, count, k)
