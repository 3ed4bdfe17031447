"""Stationary-bootstrap confidence interval of the profit factor (Politis & Romano 1994).

The trade PnL sequence is resampled with ``arch.bootstrap.StationaryBootstrap`` (blocks of random,
geometrically distributed length, so serial dependence between neighbouring trades survives). The
expected block length defaults to Politis & White's (2004) optimal length for the stationary
bootstrap (``arch.bootstrap.optimal_block_length``, floored at 1 trade). The interval is the
percentile interval: its lower bound is the ``(1 − confidence)/2`` quantile of the resampled profit
factors, taken as an order statistic (``method="inverted_cdf"``), so no interpolation is done
between a finite value and ``inf``.

A resample with gains and no losing trade has PF = ``inf``: it is kept as ``inf`` (above any finite
bound, i.e. it counts towards passing) and the share of such resamples is reported. A resample with
neither gains nor losses has PF = 0.0, as in ``tradescan.metrics``. A *sample* with no losing trade
has no finite profit factor to bound: that is an ``UndefinedStatistic``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic

__all__ = ["BootstrapInterval", "optimal_block_length", "profit_factor_interval"]

_MIN_TRADES_FOR_BLOCK_RULE = 8


@dataclass(frozen=True)
class BootstrapInterval:
    """A bootstrap interval of the profit factor.

    Attributes:
        lower: lower bound of the ``confidence`` two-sided percentile interval.
        upper: upper bound (may be ``inf``).
        estimate: the sample's own profit factor.
        confidence: e.g. 0.95.
        block_length: expected block length used (trades).
        n_resamples: number of bootstrap resamples.
        share_no_loss: share of resamples with no losing trade (PF = inf).
    """

    lower: float
    upper: float
    estimate: float
    confidence: float
    block_length: float
    n_resamples: int
    share_no_loss: float


def _profit_factor(pnl: np.ndarray) -> float:
    # a resample with gains and no loss is inf (it clears any finite bound); neither gains nor losses is 0.0
    gains = float(pnl[pnl > 0].sum())
    losses = -float(pnl[pnl < 0].sum())
    if losses > 0:
        return gains / losses
    return math.inf if gains > 0 else 0.0


def optimal_block_length(values: ArrayLike) -> float:
    """Return Politis & White's optimal expected block length for the stationary bootstrap (≥ 1)."""
    from arch.bootstrap import optimal_block_length as politis_white

    series = np.asarray(values, dtype=np.float64).ravel()
    if len(series) < _MIN_TRADES_FOR_BLOCK_RULE:
        raise UndefinedStatistic(
            f"the optimal block length needs at least {_MIN_TRADES_FOR_BLOCK_RULE} observations, got {len(series)}"
        )
    if np.ptp(series) == 0:
        return 1.0
    length = float(politis_white(series)["stationary"].iloc[0])
    return max(1.0, length) if math.isfinite(length) else 1.0


def profit_factor_interval(
    pnl: ArrayLike,
    *,
    seed: int | np.random.SeedSequence,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    block_length: float | None = None,
) -> BootstrapInterval:
    """Return the stationary-bootstrap percentile interval of the profit factor of ``pnl``.

    Args:
        pnl: net PnL of each trade, in trade order (account currency or any unit).
        seed: seeds the bootstrap's ``numpy.random.Generator``.
        confidence: two-sided confidence level of the interval.
        n_resamples: number of bootstrap resamples.
        block_length: expected block length in trades; ``None`` = Politis & White's optimum.

    Raises:
        UndefinedStatistic: fewer than 2 trades, or no losing trade in the sample.
        ValueError: a non-finite PnL, ``confidence`` outside (0, 1), ``n_resamples < 1``, ``block_length < 1``.
    """
    from arch.bootstrap import StationaryBootstrap

    values = _checked_pnl(pnl)
    _check_options(confidence, n_resamples, block_length)
    length = optimal_block_length(values) if block_length is None else float(block_length)
    sampler = StationaryBootstrap(length, values, seed=np.random.default_rng(seed))  # type: ignore[arg-type]
    resampled = np.asarray(sampler.apply(_profit_factor, n_resamples), dtype=np.float64).ravel()  # type: ignore[arg-type]
    tail = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(resampled, [tail, 1.0 - tail], method="inverted_cdf")
    return BootstrapInterval(
        lower=float(lower),
        upper=float(upper),
        estimate=_profit_factor(values),
        confidence=confidence,
        block_length=length,
        n_resamples=n_resamples,
        share_no_loss=float(np.mean(np.isinf(resampled))),
    )


def _checked_pnl(pnl: ArrayLike) -> np.ndarray:
    values = np.asarray(pnl, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError(f"trade PnL must be finite; {int(np.sum(~np.isfinite(values)))} values are not")
    if len(values) < 2:
        raise UndefinedStatistic(f"a bootstrap of the profit factor needs at least 2 trades, got {len(values)}")
    if not np.any(values < 0):
        raise UndefinedStatistic(f"no losing trade among {len(values)}: the profit factor is inf, nothing to bound")
    return values


def _check_options(confidence: float, n_resamples: int, block_length: float | None) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples >= 1 must hold, got {n_resamples!r}")
    if block_length is not None and not block_length >= 1.0:
        raise ValueError(f"block_length >= 1 must hold (trades), got {block_length!r}")
