"""The typed inputs of the guards: what the guard stage hands each one (DESIGN §7).

One ``GuardEvidence`` per finalist gathers them; each guard declares which field it reads. A field
left ``None`` (not gathered) makes the guards that read it FAIL with that reason — never pass.

| field        | type              | filled from                                           | guards                    |
|--------------|-------------------|-------------------------------------------------------|---------------------------|
| walk_forward | WalkForwardResult | folds optimised on train windows, tested on the next  | wfe sharpe_oos trades_oos |
| permutation  | PermutationScores | the real score and one per permuted series            | mc_pvalue                 |
| sensitivity  | SensitivityScores | the objective at the centre and at each neighbour     | sensitivity               |
| trades       | TradeSample       | the finalist's trade PnL under stage 1's scenario (B) | bootstrap_pf, top10_share |
| stress       | ScenarioSharpe    | the finalist's metrics under scenario C               | stress_sharpe             |
| regime       | RegimeCheck       | the bars and the regime labels the backtest used      | regime_mismatch           |
| deflation    | DeflationInput    | the finalist's daily returns (B) and every trial's    | dsr                       |
| trials       | TrialReturns      | every COMPLETE stage-1 trial's daily returns (symbol) | pbo                       |
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tradescan.guards.stats.cscv import PboResult, pbo
from tradescan.guards.stats.regime_live import LiveRegimeMethod, RegimeMismatch, regime_mismatch
from tradescan.guards.stats.sensitivity import Neighbour
from tradescan.guards.stats.trials import EffectiveTrials, as_return_matrix, column_sharpes, effective_trials
from tradescan.guards.stats.walk_forward import WalkForwardResult
from tradescan.regime import RegimeSettings

__all__ = [
    "DeflationInput",
    "GuardEvidence",
    "PermutationScores",
    "RegimeCheck",
    "ScenarioSharpe",
    "SensitivityScores",
    "TradeSample",
    "TrialReturns",
]


def _frozen_vector(values: object, name: str, *, dtype: type = np.float64, finite: bool = True) -> np.ndarray:
    array: np.ndarray = np.array(values, dtype=dtype).ravel()
    if finite and dtype is np.float64 and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; {int(np.sum(~np.isfinite(array)))} values are not")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class TrialReturns:
    """Every COMPLETE trial's daily returns of one symbol's study, on one day grid.

    Attributes:
        returns: T×N daily returns (fractions), one column per trial, days oldest first.
        n_trials: how many trials the study ran (DSR counts all of them); ``None`` = the columns.
        trial_numbers: the Optuna trial number of each column (for reports), or ``None``.

    Sharpe ratios, the effective number of trials and PBO are computed once and cached (the object
    is shared by every finalist of the symbol).
    """

    returns: np.ndarray
    n_trials: int | None = None
    trial_numbers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        matrix = np.array(as_return_matrix(self.returns, what="TrialReturns.returns"))
        matrix.flags.writeable = False
        object.__setattr__(self, "returns", matrix)
        if self.n_trials is not None and self.n_trials < matrix.shape[1]:
            raise ValueError(f"TrialReturns.n_trials ({self.n_trials}) is below its {matrix.shape[1]} columns")
        if self.trial_numbers is not None and len(self.trial_numbers) != matrix.shape[1]:
            count = len(self.trial_numbers)
            raise ValueError(f"TrialReturns.trial_numbers has {count} entries for {matrix.shape[1]} columns")

    @property
    def trial_count(self) -> int:
        """Return N for DSR: every trial the study ran."""
        return self.returns.shape[1] if self.n_trials is None else self.n_trials

    @functools.cached_property
    def sharpes(self) -> np.ndarray:
        """Every column's per-period Sharpe ratio (0.0 for a trial that never traded), computed once."""
        return column_sharpes(self.returns)

    def effective_trials(self) -> EffectiveTrials:
        """Return the effective number of independent trials (``effective_trials``), computed once."""
        if "_effective" not in self.__dict__:
            self.__dict__["_effective"] = effective_trials(self.returns, self.trial_count)
        result: EffectiveTrials = self.__dict__["_effective"]
        return result

    def pbo(self, n_splits: int = 16) -> PboResult:
        """Return CSCV's PBO over the columns with ``n_splits`` blocks, computed once per ``n_splits``."""
        cache: dict[int, PboResult] = self.__dict__.setdefault("_pbo", {})
        if n_splits not in cache:
            cache[n_splits] = pbo(self.returns, n_splits)
        return cache[n_splits]


@dataclass(frozen=True, eq=False)
class DeflationInput:
    """The finalist's daily returns (stage-1 scenario) and the study's trials, for DSR."""

    daily_returns: np.ndarray
    trials: TrialReturns

    def __post_init__(self) -> None:
        object.__setattr__(self, "daily_returns", _frozen_vector(self.daily_returns, "DeflationInput.daily_returns"))


@dataclass(frozen=True, eq=False)
class PermutationScores:
    """The permutation test's scores (the same statistic on the real and on each permuted series).

    Attributes:
        real: the real series' score (mode ``finalist``: the finalist's Sharpe; ``search``: the best of the search).
        permuted: one score per permuted series (NaN is refused at evaluation: the guard fails).
        mode: ``finalist`` or ``search``.
        statistic: what the scores are (e.g. ``sharpe``), for the detail line.
    """

    real: float
    permuted: np.ndarray
    mode: Literal["finalist", "search"]
    statistic: str = "sharpe"

    def __post_init__(self) -> None:
        object.__setattr__(self, "permuted", _frozen_vector(self.permuted, "PermutationScores.permuted", finite=False))


@dataclass(frozen=True, eq=False)
class SensitivityScores:
    """The objective at the centre parameter set and at each of its neighbours (same order)."""

    centre: float
    neighbours: Sequence[Neighbour]
    scores: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "neighbours", tuple(self.neighbours))
        scores = _frozen_vector(self.scores, "SensitivityScores.scores", finite=False)
        if len(scores) != len(self.neighbours):
            raise ValueError(f"SensitivityScores: {len(scores)} scores for {len(self.neighbours)} neighbours")
        object.__setattr__(self, "scores", scores)


@dataclass(frozen=True, eq=False)
class TradeSample:
    """The finalist's trades under one scenario: net PnL per trade (account currency), in trade order."""

    pnl: np.ndarray
    scenario: str = "B"

    def __post_init__(self) -> None:
        object.__setattr__(self, "pnl", _frozen_vector(self.pnl, "TradeSample.pnl"))


@dataclass(frozen=True)
class ScenarioSharpe:
    """The finalist's annualised Sharpe ratio and trade count under one (stress) scenario."""

    sharpe: float
    trades: int
    scenario: str = "C"

    def __post_init__(self) -> None:
        if self.trades < 0:
            raise ValueError(f"ScenarioSharpe.trades must be >= 0, got {self.trades}")
        if math.isinf(self.sharpe):
            raise ValueError(f"ScenarioSharpe.sharpe must not be infinite, got {self.sharpe}")


@dataclass(frozen=True, eq=False)
class RegimeCheck:
    """The bars (high, low, close) and the regime labels (``vol_code``, ``spike``) the backtest used.

    The live-feed comparison (``mismatch``) is computed once per method and cached: the object is the
    symbol's, shared by every finalist (the labels depend on the bars, not on a finalist).
    """

    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    vol_code: np.ndarray
    spike: np.ndarray
    settings: RegimeSettings = field(default_factory=RegimeSettings)

    def __post_init__(self) -> None:
        for name in ("high", "low", "close"):
            object.__setattr__(self, name, _frozen_vector(getattr(self, name), f"RegimeCheck.{name}"))
        object.__setattr__(self, "vol_code", _frozen_vector(self.vol_code, "RegimeCheck.vol_code", dtype=np.int8))
        object.__setattr__(self, "spike", _frozen_vector(self.spike, "RegimeCheck.spike", dtype=np.bool_))

    def mismatch(self, method: LiveRegimeMethod = "stream", checkpoint_every: int = 1000) -> RegimeMismatch:
        """Return ``regime_mismatch`` of these bars and labels, computed once per (method, checkpoint_every)."""
        cache: dict[tuple[str, int], RegimeMismatch] = self.__dict__.setdefault("_mismatch", {})
        key = (method, int(checkpoint_every))
        if key not in cache:
            cache[key] = regime_mismatch(self.high, self.low, self.close, self.vol_code, self.spike, self.settings,
                                         method=method, checkpoint_every=checkpoint_every)
        return cache[key]


@dataclass(frozen=True, eq=False)
class GuardEvidence:
    """Everything the guard stage gathered for one finalist; ``None`` = not gathered (see the module table)."""

    walk_forward: WalkForwardResult | None = None
    permutation: PermutationScores | None = None
    sensitivity: SensitivityScores | None = None
    trades: TradeSample | None = None
    stress: ScenarioSharpe | None = None
    regime: RegimeCheck | None = None
    deflation: DeflationInput | None = None
    trials: TrialReturns | None = None
