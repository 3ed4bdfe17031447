"""Deflated Sharpe ratio of the finalist's daily returns, counting every trial of the study (DESIGN §7).

The value deflates by N = every trial the study ran, with V[SR_n] the variance of the trials'
per-period Sharpe ratios and E[SR_n] = 0 (zero skill, as in the paper). The detail also gives the
effective number of independent trials (average-correlation rule) and the DSR that N_eff gives.
"""

from __future__ import annotations

import numpy as np

from tradescan.guards._base import Guard, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import DeflationInput
from tradescan.guards._settings import GuardSettings
from tradescan.guards.stats.sharpe import ReturnMoments, deflated_sharpe_ratio, expected_max_sharpe, return_moments


def _dsr(moments: ReturnMoments, n_trials: float, trial_std: float) -> float:
    return deflated_sharpe_ratio(
        moments.sharpe,
        moments.n_obs,
        n_trials=n_trials,
        trial_sharpe_std=trial_std,
        skew=moments.skew,
        kurtosis=moments.kurtosis,
    )


def _effective_note(inputs: DeflationInput, moments: ReturnMoments, trial_std: float) -> str:
    try:
        effective = inputs.trials.effective_trials()
        value = _dsr(moments, effective.n_effective, trial_std)
    except UndefinedStatistic as exc:
        return f"N_eff undefined ({exc})"
    correlation = effective.mean_correlation
    return f"N_eff {effective.n_effective:.1f} (mean correlation {correlation:.3f}) gives DSR {value:.4f}"


def _measure(inputs: DeflationInput, settings: GuardSettings) -> Measurement:
    moments = return_moments(inputs.daily_returns)
    trial_sharpes = inputs.trials.sharpes
    if len(trial_sharpes) < 2:
        raise UndefinedStatistic(f"trial Sharpe variance needs 2 trials or more, got {len(trial_sharpes)}")
    trial_std = float(np.std(trial_sharpes, ddof=1))
    n_trials = inputs.trials.trial_count
    detail = (
        f"SR {moments.sharpe:.4f}/day over {moments.n_obs} days (skew {moments.skew:.2f}, "
        f"kurtosis {moments.kurtosis:.2f}) against E[max] {expected_max_sharpe(n_trials, 0.0, trial_std):.4f} "
        f"of N={n_trials} trials (trial SR std {trial_std:.4f}); {_effective_note(inputs, moments, trial_std)}"
    )
    return Measurement(_dsr(moments, n_trials, trial_std), detail)


GUARD = Guard(
    name="dsr",
    measures="deflated Sharpe ratio: probability the finalist's Sharpe beats the best of N zero-skill trials",
    comparison=">",
    thresholds={"validate": 0.95},
    critical_in=frozenset({"validate"}),
    input_type=DeflationInput,
    evidence="deflation",
    measure=_measure,
)
