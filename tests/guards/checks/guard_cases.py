"""Inputs for every guard: one that passes the validate preset, one that fails it, one it cannot compute."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tradescan.data import synthesize
from tradescan.guards import (
    DeflationInput,
    FoldResult,
    Neighbour,
    PermutationScores,
    RegimeCheck,
    ScenarioSharpe,
    SensitivityScores,
    TradeSample,
    TrialReturns,
    WalkForwardResult,
    walk_forward_folds,
)
from tradescan.regime import RegimeSettings, regime_codes

FOLDS = walk_forward_folds(1000, 5)


def _walk_forward(test_returns, *, train_return=0.21, trades=(40, 40), daily=(0.002, 0.001) * 50):
    folds = [
        FoldResult(FOLDS[i], {}, train_return, 2.0, test_return, 1.0, trades[i], np.array(daily))
        for i, test_return in enumerate(test_returns)
    ]
    return WalkForwardResult(folds, days_per_year=252)


def _neighbours(count: int) -> tuple[Neighbour, ...]:
    return tuple(Neighbour("k", 1 if i % 2 else -1, float(i), {"k": float(i)}) for i in range(count))


def _regime(tamper_share: float = 0.0, n_bars: int = 1000) -> RegimeCheck:
    settings = RegimeSettings(atr_n=14, window=50)
    frame = synthesize("EURUSD", "H1", max(n_bars, 2), seed=1).iloc[:n_bars]
    high, low, close = (frame[c].to_numpy() for c in ("high", "low", "close"))
    codes, spikes = regime_codes(high, low, close, settings) if n_bars else (np.zeros(0), np.zeros(0, bool))
    codes = codes.copy()
    changed = np.arange(int(tamper_share * n_bars)) * 7 + 100
    codes[changed] = codes[changed] % 3 + 1
    return RegimeCheck(high, low, close, codes, spikes, settings)


def _trials(columns: int = 30, seed: int = 0) -> TrialReturns:
    return TrialReturns(np.random.default_rng(seed).normal(0.0, 0.01, (750, columns)))


def _same_sharpe_trials() -> TrialReturns:
    noise = np.random.default_rng(2).normal(size=(800, 30))
    return TrialReturns((noise - noise.mean(0)) / noise.std(0) * 0.01 + 0.001)


def _consistent_trials() -> TrialReturns:
    matrix = np.random.default_rng(4).normal(0, 0.01, (1600, 20))
    matrix[:, 7] += 0.02
    return TrialReturns(matrix)


def _strong_daily() -> np.ndarray:
    return np.random.default_rng(5).normal(0.004, 0.01, 750)


# name -> (passing input, failing input with a value, input it cannot compute, expected reason fragment)
CASES: dict[str, tuple[Callable[[], object], Callable[[], object], Callable[[], object], str]] = {
    "wfe": (
        lambda: _walk_forward([0.1, 0.1]),  # WFE = 10 % / 10 % = 1.0
        lambda: _walk_forward([0.05, 0.05]),  # 0.5
        lambda: _walk_forward([0.1, 0.1], train_return=-0.05),
        "in-sample annualised return is",
    ),
    "sharpe_oos": (
        lambda: _walk_forward([0.1, 0.1]),
        lambda: _walk_forward([0.1, 0.1], daily=(0.01, -0.01) * 50),  # mean 0: Sharpe 0
        lambda: _walk_forward([0.1, 0.1], daily=(0.0,) * 20),
        "OOS equity is flat",
    ),
    "trades_oos": (
        lambda: _walk_forward([0.1, 0.1], trades=(31, 30)),  # 61 > 60
        lambda: _walk_forward([0.1, 0.1], trades=(30, 30)),  # 60 is not > 60
        lambda: _walk_forward([]),
        "no walk-forward fold",
    ),
    "mc_pvalue": (
        lambda: PermutationScores(2.0, np.zeros(99), "search"),  # p = 1/100
        lambda: PermutationScores(0.5, np.linspace(0, 1, 99), "finalist"),
        lambda: PermutationScores(2.0, [0.1, np.nan], "finalist"),
        "1 of 2 permuted scores are NaN",
    ),
    "sensitivity": (
        lambda: SensitivityScores(1.0, _neighbours(2), [1.02, 0.98]),
        lambda: SensitivityScores(1.0, _neighbours(2), [1.5, 0.5]),
        lambda: SensitivityScores(-1.0, _neighbours(2), [-1.1, -0.9]),
        "mean objective over centre and neighbours is -1 <= 0",
    ),
    "bootstrap_pf": (
        lambda: TradeSample([3.0, -1.0] * 50),
        lambda: TradeSample([1.0, -1.0] * 50),
        lambda: TradeSample([1.0] * 50),
        "no losing trade among 50",
    ),
    "top10_share": (
        lambda: TradeSample([1.0] * 100),  # 10 %
        lambda: TradeSample([10.0] * 10 + [1.0] * 90),  # 100 / 190
        lambda: TradeSample([1.0, -2.0]),
        "total net profit is -1 <= 0",
    ),
    "stress_sharpe": (
        lambda: ScenarioSharpe(1.2, 150),
        lambda: ScenarioSharpe(0.9, 150),
        lambda: ScenarioSharpe(0.0, 0),
        "no trades under scenario C",
    ),
    "regime_mismatch": (
        lambda: _regime(0.0),
        lambda: _regime(0.02),
        lambda: _regime(0.0, n_bars=0),
        "no bars",
    ),
    "dsr": (
        lambda: DeflationInput(_strong_daily(), _trials()),
        lambda: DeflationInput(np.random.default_rng(6).normal(0.0, 0.01, 750), _trials()),
        lambda: DeflationInput(_strong_daily(), _trials(columns=1)),
        "trial Sharpe variance needs 2 trials or more, got 1",
    ),
    "pbo": (
        _consistent_trials,
        _same_sharpe_trials,
        lambda: _trials(columns=1),
        "at least 2 columns",
    ),
}
