"""Probabilistic and deflated Sharpe ratios (Bailey & López de Prado 2012, 2014).

Every Sharpe ratio here is **per period** (the mean over the standard deviation of the returns
as sampled, e.g. daily, not annualised) and every kurtosis is **raw** (3 for a normal
distribution). Mixing either up is the most common bug in open implementations, so a kurtosis
below ``1 + skew²`` — impossible for any distribution, and what an *excess* kurtosis of a
near-normal series looks like — is refused with that explanation.

* ``PSR(SR*) = Φ((SR − SR*)·√(T − 1) / √(1 − γ3·SR + (γ4 − 1)/4 · SR²))``; for normal returns
  (γ3 = 0, γ4 = 3) this is Lo's (2002) ``Φ((SR − SR*)·√(T − 1) / √(1 + SR²/2))``.
* ``E[max SR] = E[SR_n] + √V[SR_n] · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`` with γ the
  Euler–Mascheroni constant: the expected best of N zero-skill trials.
* ``DSR = PSR(E[max SR])``.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic

__all__ = [
    "EULER_MASCHERONI",
    "ReturnMoments",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "return_moments",
]

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()
_KURTOSIS_SLACK = 1e-9  # sample moments meet γ4 ≥ 1 + γ3² exactly up to rounding


class ReturnMoments(NamedTuple):
    """Per-period Sharpe ratio and higher moments of one return series.

    Attributes:
        sharpe: mean / standard deviation (ddof 1), per period.
        skew: m3 / m2^1.5 (sample moments, ddof 0).
        kurtosis: m4 / m2² — raw, 3 for a normal distribution.
        n_obs: number of returns.
    """

    sharpe: float
    skew: float
    kurtosis: float
    n_obs: int


def return_moments(returns: ArrayLike) -> ReturnMoments:
    """Return the per-period Sharpe ratio, skewness and raw kurtosis of ``returns``.

    Raises:
        UndefinedStatistic: fewer than 2 returns, or all equal (no dispersion, no Sharpe).
        ValueError: a return that is not finite.
    """
    values = np.asarray(returns, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError(f"returns must be finite; {int(np.sum(~np.isfinite(values)))} are not")
    if len(values) < 2:
        raise UndefinedStatistic(f"a Sharpe ratio needs at least 2 returns, got {len(values)}")
    deviations = values - values.mean()
    m2 = float(np.mean(deviations**2))
    if m2 <= (1e-12 * float(np.max(np.abs(values)))) ** 2:
        raise UndefinedStatistic(f"the {len(values)} returns are all equal: no dispersion, no Sharpe ratio")
    sharpe = float(values.mean() / np.std(values, ddof=1))
    skew = float(np.mean(deviations**3)) / m2**1.5
    kurtosis = float(np.mean(deviations**4)) / m2**2
    return ReturnMoments(sharpe, skew, kurtosis, len(values))


def expected_max_sharpe(n_trials: float, mean: float = 0.0, std: float = 1.0) -> float:
    """Return the expected maximum Sharpe ratio of ``n_trials`` zero-skill trials.

    Args:
        n_trials: number of independent trials N (≥ 1; a float is allowed for an effective N).
        mean: E[SR_n], the mean of the trials' Sharpe ratios under the null.
        std: √V[SR_n], the standard deviation of the trials' Sharpe ratios.

    With one trial the expected maximum is the mean itself.
    """
    if not n_trials >= 1:
        raise ValueError(f"n_trials >= 1 must hold, got {n_trials!r}")
    if not std >= 0:
        raise ValueError(f"std >= 0 must hold, got {std!r}")
    if n_trials == 1:
        return float(mean)
    gamma = EULER_MASCHERONI
    z_max = (1 - gamma) * _NORMAL.inv_cdf(1 - 1 / n_trials) + gamma * _NORMAL.inv_cdf(1 - 1 / (n_trials * math.e))
    return float(mean + std * z_max)


def probabilistic_sharpe_ratio(
    sharpe: float, n_obs: int, benchmark: float = 0.0, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """Return the probability that the true Sharpe ratio exceeds ``benchmark``.

    Args:
        sharpe: the observed per-period Sharpe ratio.
        n_obs: number of returns T it was measured on (≥ 2).
        benchmark: SR*, per period.
        skew: skewness γ3 of the returns.
        kurtosis: raw kurtosis γ4 of the returns (3 for a normal distribution).

    Raises:
        ValueError: ``n_obs < 2``, or a kurtosis below ``1 + skew²`` (an excess kurtosis passed as raw).
        UndefinedStatistic: the variance term ``1 − γ3·SR + (γ4 − 1)/4·SR²`` is not positive.
    """
    if n_obs < 2:
        raise ValueError(f"n_obs >= 2 must hold, got {n_obs!r}")
    _check_raw_kurtosis(skew, kurtosis)
    variance_term = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if not variance_term > 0:
        raise UndefinedStatistic(
            f"PSR variance term 1 - skew*SR + (kurtosis-1)/4*SR^2 = {variance_term:.6g} is not positive "
            f"(SR={sharpe:.6g}, skew={skew:.6g}, kurtosis={kurtosis:.6g})"
        )
    z_score = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance_term)
    return _NORMAL.cdf(z_score)


def deflated_sharpe_ratio(
    sharpe: float,
    n_obs: int,
    *,
    n_trials: float,
    trial_sharpe_std: float,
    trial_sharpe_mean: float = 0.0,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Return the deflated Sharpe ratio: PSR against the expected best of ``n_trials`` trials.

    Args:
        sharpe: the selected strategy's per-period Sharpe ratio.
        n_obs: number of its returns T.
        n_trials: how many trials the selection was made from (every trial of the study).
        trial_sharpe_std: standard deviation of the trials' per-period Sharpe ratios, √V[SR_n].
        trial_sharpe_mean: their mean under the null (0 in the paper).
        skew: skewness of the selected strategy's returns.
        kurtosis: raw kurtosis of its returns.
    """
    benchmark = expected_max_sharpe(n_trials, trial_sharpe_mean, trial_sharpe_std)
    return probabilistic_sharpe_ratio(sharpe, n_obs, benchmark=benchmark, skew=skew, kurtosis=kurtosis)


def _check_raw_kurtosis(skew: float, kurtosis: float) -> None:
    if not math.isfinite(skew) or not math.isfinite(kurtosis):
        raise ValueError(f"skew and kurtosis must be finite, got skew={skew!r}, kurtosis={kurtosis!r}")
    floor = 1.0 + skew * skew
    if kurtosis < floor - _KURTOSIS_SLACK * max(1.0, floor):
        raise ValueError(
            f"kurtosis must be raw (3 for a normal distribution) and at least 1 + skew^2 = {floor:.6g}, "
            f"got {kurtosis!r}; an excess kurtosis needs 3 added"
        )
