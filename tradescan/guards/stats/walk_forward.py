"""Walk-forward: the fold layout, and the efficiency and OOS Sharpe of its results (DESIGN §7).

**Layout.** ``n_folds`` test windows of equal length tile the end of the series; each is preceded by
its train window. ``train_fraction`` (default 0.75) is the share of a fold's train + test span that is
train, so a train window is ``train_fraction / (1 − train_fraction)`` (default 3) test windows long:

    test_bars  = ⌊n_bars / (n_folds + r)⌋,  r = train_fraction / (1 − train_fraction)
    train_bars = n_bars − n_folds · test_bars           (≥ r · test_bars: the rounding goes to train)

Fold k tests ``[train_bars + k·test_bars, … + test_bars)``. *Rolling* trains on the ``train_bars``
bars just before its test window; *anchored* trains on everything before it (from bar 0). Windows are
half-open bar-index ranges. With 5 folds and 0.75: 3/8 of the bars train the first fold, the last
5/8 are out of sample. The windows' backtests need the strategy's warm-up bars before each start;
the caller runs on ``[start − warmup, end)`` and counts trades entered inside the window.

**Efficiency.** Each fold's best parameter set (re-optimised on the train window) is tested on the
test window. With ``R`` a window's total return and ``y`` its length in years,

    annualised IS  = (Π_k (1 + R_is,k))^(1 / Σ_k y_is,k) − 1
    annualised OOS = (Π_k (1 + R_oos,k))^(1 / Σ_k y_oos,k) − 1      (the chained OOS equity's CAGR)
    WFE = annualised OOS / annualised IS                              (undefined when IS ≤ 0)

the same time-weighted geometric mean on both sides (train windows may overlap; the formula does
not care). **OOS Sharpe**: the Sharpe ratio of the concatenated OOS daily returns (each fold's equity
starts again at its capital; daily returns are scale-free, so concatenating them is the chained
equity), ``mean / std (ddof 1) × √days_per_year`` as in ``tradescan.metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradescan.guards._errors import UndefinedStatistic

__all__ = [
    "FoldResult",
    "FoldWindow",
    "WalkForwardResult",
    "annualised_return",
    "walk_forward_folds",
]


@dataclass(frozen=True)
class FoldWindow:
    """One fold's half-open bar-index windows ``[train_start, train_end)`` and ``[test_start, test_end)``."""

    fold: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int

    @property
    def train_bars(self) -> int:
        """Return the number of bars in the train window."""
        return self.train_end - self.train_start

    @property
    def test_bars(self) -> int:
        """Return the number of bars in the test window."""
        return self.test_end - self.test_start


def walk_forward_folds(
    n_bars: int, n_folds: int = 5, *, train_fraction: float = 0.75, anchored: bool = False
) -> tuple[FoldWindow, ...]:
    """Return the walk-forward windows of a series of ``n_bars`` bars (see the module docstring).

    Raises:
        ValueError: ``n_folds < 1``, ``train_fraction`` outside (0, 1), or too few bars for a 1-bar test window.
    """
    if n_folds < 1:
        raise ValueError(f"n_folds >= 1 must hold, got {n_folds!r}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    ratio = train_fraction / (1.0 - train_fraction)
    test_bars = math.floor(n_bars / (n_folds + ratio))
    train_bars = n_bars - n_folds * test_bars
    if test_bars < 1 or train_bars < 1:
        raise ValueError(
            f"{n_bars} bars are too few for {n_folds} folds with train_fraction {train_fraction} "
            f"(needs at least {math.ceil(n_folds + ratio)})"
        )
    folds = []
    for fold in range(n_folds):
        test_start = train_bars + fold * test_bars
        train_start = 0 if anchored else test_start - train_bars
        folds.append(FoldWindow(fold, train_start, test_start, test_start, test_start + test_bars))
    return tuple(folds)


def annualised_return(total_return: float, years: float) -> float:
    """Return ``(1 + total_return)^(1 / years) − 1``; −1.0 when the account is wiped out."""
    if not years > 0:
        raise ValueError(f"years > 0 must hold, got {years!r}")
    if total_return <= -1.0:
        return -1.0
    return math.exp(math.log1p(total_return) / years) - 1.0


@dataclass(frozen=True, eq=False)
class FoldResult:
    """What one walk-forward fold produced.

    Attributes:
        window: the fold's windows.
        best_params: the parameter set the re-optimisation on the train window chose.
        train_return: that set's total return over the train window (fraction; IS).
        train_years: the train window's length in years.
        test_return: its total return over the test window (fraction; OOS).
        test_years: the test window's length in years.
        test_trades: trades entered in the test window.
        test_daily_returns: daily returns of the OOS equity (fractions), oldest first.
    """

    window: FoldWindow
    best_params: Mapping[str, Any]
    train_return: float
    train_years: float
    test_return: float
    test_years: float
    test_trades: int
    test_daily_returns: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        for name in ("train_return", "test_return", "train_years", "test_years"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"fold {self.window.fold}: {name} must be finite, got {getattr(self, name)!r}")
        if self.train_years <= 0 or self.test_years <= 0:
            raise ValueError(f"fold {self.window.fold}: window lengths in years must be > 0")
        if self.test_trades < 0:
            raise ValueError(f"fold {self.window.fold}: test_trades must be >= 0, got {self.test_trades}")
        daily = np.asarray(self.test_daily_returns, dtype=np.float64).ravel()
        if not np.all(np.isfinite(daily)):
            raise ValueError(f"fold {self.window.fold}: test_daily_returns must be finite")
        object.__setattr__(self, "test_daily_returns", daily)


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """All folds of one finalist's walk-forward run.

    Attributes:
        folds: the folds, in time order.
        days_per_year: the instrument's annualisation calendar (252 or 365).
    """

    folds: Sequence[FoldResult]
    days_per_year: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "folds", tuple(self.folds))
        if self.days_per_year <= 0:
            raise ValueError(f"days_per_year must be > 0, got {self.days_per_year}")

    def _require_folds(self) -> None:
        if not self.folds:
            raise UndefinedStatistic("no walk-forward fold was run")

    def in_sample_return(self) -> float:
        """Return the annualised IS return (time-weighted geometric mean over the train windows)."""
        self._require_folds()
        return _chained_annualised([f.train_return for f in self.folds], [f.train_years for f in self.folds])

    def out_of_sample_return(self) -> float:
        """Return the annualised OOS return (CAGR of the chained OOS windows)."""
        self._require_folds()
        return _chained_annualised([f.test_return for f in self.folds], [f.test_years for f in self.folds])

    def efficiency(self) -> float:
        """Return WFE = annualised OOS return / annualised IS return.

        Raises:
            UndefinedStatistic: no fold, or an annualised IS return ≤ 0 (the ratio means nothing then).
        """
        in_sample = self.in_sample_return()
        if not in_sample > 0:
            raise UndefinedStatistic(f"in-sample annualised return is {in_sample:.4%} <= 0: WFE is undefined")
        return self.out_of_sample_return() / in_sample

    def oos_daily_returns(self) -> np.ndarray:
        """Return the OOS daily returns of every fold, concatenated in time order."""
        return np.concatenate([f.test_daily_returns for f in self.folds]) if self.folds else np.zeros(0)

    def oos_sharpe(self) -> float:
        """Return the annualised Sharpe ratio of the concatenated OOS daily returns.

        Raises:
            UndefinedStatistic: fewer than 2 OOS daily returns, or no dispersion (a flat OOS equity).
        """
        returns = self.oos_daily_returns()
        if len(returns) < 2:
            raise UndefinedStatistic(f"an OOS Sharpe ratio needs at least 2 daily returns, got {len(returns)}")
        std = float(np.std(returns, ddof=1))
        if std <= 1e-12 * float(np.max(np.abs(returns))) or std == 0.0:
            raise UndefinedStatistic(f"the OOS equity is flat over {len(returns)} days: no Sharpe ratio")
        return float(returns.mean() / std * math.sqrt(self.days_per_year))

    def oos_trades(self) -> int:
        """Return the trades entered in the OOS windows."""
        self._require_folds()
        return int(sum(f.test_trades for f in self.folds))


def _chained_annualised(total_returns: list[float], years: list[float]) -> float:
    if any(r <= -1.0 for r in total_returns):
        return -1.0
    log_growth = sum(math.log1p(r) for r in total_returns)
    return math.exp(log_growth / sum(years)) - 1.0
