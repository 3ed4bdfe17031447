"""The validation stage: guards, Deflated Sharpe, PBO and a prod-ready verdict (DESIGN §7, §11).

Layout (one concept per module):

* ``stats/`` — the pure statistics: ``sharpe`` (expected maximum Sharpe, PSR, DSR), ``trials``
  (effective number of trials), ``cscv`` (PBO), ``permutation`` (``permute_bars``, p-value),
  ``bootstrap`` (profit-factor interval, ``arch``), ``montecarlo`` (MC1, MC2), ``sensitivity``,
  ``regime_live``, ``walk_forward``;
* ``checks/`` — the guard plug-ins, one module each, discovered by ``get_guard``;
* ``_base`` (``Guard``, ``GuardResult``), ``_inputs`` (the typed inputs and ``GuardEvidence``),
  ``_settings`` (``GuardSettings``: the directive's ``guards:`` section), ``_verdict``.

Sharpe ratios in the statistics are per period and kurtoses raw (3 for a normal distribution).
"""

from __future__ import annotations

from tradescan.guards._base import Comparison, Guard, GuardResult, Measurement
from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards._inputs import (
    DeflationInput,
    GuardEvidence,
    PermutationScores,
    RegimeCheck,
    ScenarioSharpe,
    SensitivityScores,
    TradeSample,
    TrialReturns,
)
from tradescan.guards._seeds import derive_seed
from tradescan.guards._settings import (
    PRESETS,
    BootstrapSettings,
    GuardSettings,
    McCostSettings,
    McDrawdownSettings,
    PboSettings,
    PermutationSettings,
    Preset,
    RegimeCheckSettings,
    SensitivitySettings,
    WalkForwardSettings,
    parse_guard_settings,
)
from tradescan.guards._verdict import Verdict, evaluate_guards, verdict
from tradescan.guards.checks import all_guards, get_guard, guard_names
from tradescan.guards.stats.bootstrap import BootstrapInterval, optimal_block_length, profit_factor_interval
from tradescan.guards.stats.cscv import PboResult, pbo
from tradescan.guards.stats.montecarlo import (
    CostNoiseDistribution,
    DrawdownDistribution,
    TradeCosts,
    equity_before_trades,
    mc_cost_noise,
    mc_drawdown,
    path_drawdowns,
    trade_return_fractions,
)
from tradescan.guards.stats.permutation import permutation_pvalue, permute_bars
from tradescan.guards.stats.regime_live import LiveRegimeMethod, RegimeMismatch, live_regime_codes, regime_mismatch
from tradescan.guards.stats.sensitivity import Neighbour, coefficient_of_variation, sensitivity_neighbours
from tradescan.guards.stats.sharpe import (
    EULER_MASCHERONI,
    ReturnMoments,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    return_moments,
)
from tradescan.guards.stats.trials import EffectiveTrials, column_sharpes, effective_trials
from tradescan.guards.stats.walk_forward import (
    FoldResult,
    FoldWindow,
    WalkForwardResult,
    annualised_return,
    walk_forward_folds,
)

__all__ = [
    "EULER_MASCHERONI",
    "PRESETS",
    "BootstrapInterval",
    "BootstrapSettings",
    "Comparison",
    "CostNoiseDistribution",
    "DeflationInput",
    "DrawdownDistribution",
    "EffectiveTrials",
    "FoldResult",
    "FoldWindow",
    "Guard",
    "GuardEvidence",
    "GuardResult",
    "GuardSettings",
    "LiveRegimeMethod",
    "McCostSettings",
    "McDrawdownSettings",
    "Measurement",
    "Neighbour",
    "PboResult",
    "PboSettings",
    "PermutationScores",
    "PermutationSettings",
    "Preset",
    "RegimeCheck",
    "RegimeCheckSettings",
    "RegimeMismatch",
    "ReturnMoments",
    "ScenarioSharpe",
    "SensitivityScores",
    "SensitivitySettings",
    "TradeCosts",
    "TradeSample",
    "TrialReturns",
    "UndefinedStatistic",
    "Verdict",
    "WalkForwardResult",
    "WalkForwardSettings",
    "all_guards",
    "annualised_return",
    "coefficient_of_variation",
    "column_sharpes",
    "deflated_sharpe_ratio",
    "derive_seed",
    "effective_trials",
    "equity_before_trades",
    "evaluate_guards",
    "expected_max_sharpe",
    "get_guard",
    "guard_names",
    "live_regime_codes",
    "mc_cost_noise",
    "mc_drawdown",
    "optimal_block_length",
    "parse_guard_settings",
    "path_drawdowns",
    "pbo",
    "permutation_pvalue",
    "permute_bars",
    "probabilistic_sharpe_ratio",
    "profit_factor_interval",
    "regime_mismatch",
    "return_moments",
    "sensitivity_neighbours",
    "trade_return_fractions",
    "verdict",
    "walk_forward_folds",
]
