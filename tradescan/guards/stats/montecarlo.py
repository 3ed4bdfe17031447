"""Monte-Carlo views of a finalist's trades, reported beside the guards (DESIGN §7, seed 003 ``montecarlo/``).

**MC1 — drawdown distribution.** Per-trade returns as fractions of the equity before the trade
(``pnl / equity_before``) are resampled in blocks (``arch``'s stationary bootstrap, so runs of
losers stay together) and *compounded*: ``equity_k = Π (1 + r_i)``. Reordering absolute PnL instead
(the seed's way) lets a path fall below zero — drawdowns past −100 % — whereas compounded fractions
keep every drawdown in [0, 1). Per path: the maximum drawdown (fraction of the running peak) and the
time to recover (trades from a peak until the equity is back at it; a drawdown still open at the
last trade counts the trades up to it). Reported: their distribution, P(max DD > threshold) and the
worst 1 % (99th percentile of the maximum drawdown).

**MC2 — cost noise.** Each trade's spread and slippage costs are scaled by multipliers drawn
uniformly from ``spread_mult_range`` and ``slippage_mult_range``, independently per trade and per
path (commission is fixed); the distribution of the resulting total net PnL is reported.

Both are seeded and vectorised over paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic
from tradescan.guards.stats.bootstrap import optimal_block_length

__all__ = [
    "CostNoiseDistribution",
    "DrawdownDistribution",
    "TradeCosts",
    "equity_before_trades",
    "mc_cost_noise",
    "mc_drawdown",
    "path_drawdowns",
    "trade_return_fractions",
]

_PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
_CHUNK_CELLS = 4_000_000  # paths x trades per chunk


def _vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; {int(np.sum(~np.isfinite(array)))} values are not")
    return array


def trade_return_fractions(pnl: ArrayLike, equity_before: ArrayLike) -> np.ndarray:
    """Return each trade's PnL as a fraction of the equity before it (``pnl / equity_before``)."""
    gains, equity = _vector(pnl, "pnl"), _vector(equity_before, "equity_before")
    if gains.shape != equity.shape:
        raise ValueError(f"pnl and equity_before differ in length: {len(gains)} != {len(equity)}")
    if np.any(equity <= 0):
        row = int(np.flatnonzero(equity <= 0)[0])
        raise ValueError(f"equity_before must be > 0; trade {row} has {float(equity[row])!r}")
    return gains / equity


def equity_before_trades(pnl: ArrayLike, initial_capital: float) -> np.ndarray:
    """Return the equity before each trade, ``initial + Σ earlier pnl`` (trades that do not overlap)."""
    gains = _vector(pnl, "pnl")
    return float(initial_capital) + np.concatenate(([0.0], np.cumsum(gains)[:-1]))


@dataclass(frozen=True, eq=False)
class DrawdownDistribution:
    """MC1's outcome.

    Attributes:
        max_drawdown: per path, the deepest fall from a running peak, as a fraction (0.25 = −25 %).
        time_to_recover: per path, the longest peak-to-recovery stretch in trades.
        threshold: the drawdown threshold of ``prob_exceeds``.
        prob_exceeds: share of paths whose maximum drawdown is above ``threshold``.
        worst_1pct: 99th percentile of the maximum drawdown.
        block_length: expected block length of the bootstrap (trades).
    """

    max_drawdown: np.ndarray
    time_to_recover: np.ndarray
    threshold: float
    prob_exceeds: float
    worst_1pct: float
    block_length: float

    def summary(self) -> dict[str, float]:
        """Return the headline numbers (for a report or a Parquet row)."""
        return {
            "median_max_drawdown": float(np.median(self.max_drawdown)),
            "worst_1pct_max_drawdown": self.worst_1pct,
            "prob_drawdown_exceeds": self.prob_exceeds,
            "drawdown_threshold": self.threshold,
            "median_time_to_recover_trades": float(np.median(self.time_to_recover)),
            "p99_time_to_recover_trades": float(np.quantile(self.time_to_recover, 0.99)),
            "block_length": self.block_length,
        }


def path_drawdowns(trade_returns: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(max_drawdown, time_to_recover)`` of every row of a paths × trades return matrix.

    Equity starts at 1 (position 0) and compounds: position k is after trade k. A row's
    ``time_to_recover`` is its longest stretch from a peak to the trade that regains it, or to the
    last trade when it never does.
    """
    returns = np.atleast_2d(np.asarray(trade_returns, dtype=np.float64))
    if np.any(returns <= -1.0):
        raise ValueError("a trade return <= -1 wipes the account out; returns are fractions of equity (> -1)")
    n_paths, n_trades = returns.shape
    equity = np.concatenate((np.ones((n_paths, 1)), np.cumprod(1.0 + returns, axis=1)), axis=1)
    peak = np.maximum.accumulate(equity, axis=1)
    max_drawdown = np.max(1.0 - equity / peak, axis=1)
    positions = np.arange(n_trades + 1)
    last_peak = np.maximum.accumulate(np.where(equity >= peak, positions, 0), axis=1)
    underwater = positions - last_peak
    recovered = (underwater[:, 1:] == 0) & (underwater[:, :-1] > 0)
    stretch = np.where(recovered, underwater[:, :-1] + 1, 0)
    time_to_recover = np.maximum(stretch.max(axis=1, initial=0), underwater[:, -1])
    return max_drawdown, time_to_recover.astype(np.int64)


def _bootstrap_indices(
    n_trades: int, n_paths: int, block_length: float, seed: int | np.random.SeedSequence
) -> np.ndarray:
    from arch.bootstrap import StationaryBootstrap

    positions = np.arange(n_trades, dtype=np.float64)
    sampler = StationaryBootstrap(block_length, positions, seed=np.random.default_rng(seed))  # type: ignore[arg-type]
    return np.asarray(sampler.apply(lambda resampled: resampled, n_paths), dtype=np.int64)


def mc_drawdown(
    trade_returns: ArrayLike,
    *,
    seed: int | np.random.SeedSequence,
    n_paths: int = 1000,
    block_length: float | None = None,
    drawdown_threshold: float = 0.20,
) -> DrawdownDistribution:
    """Return MC1: the distribution of maximum drawdown and time to recover over bootstrap paths.

    Args:
        trade_returns: per-trade returns as fractions of the equity before the trade (> −1), in order.
        seed: seeds the bootstrap.
        n_paths: number of resampled paths, each as long as the sample.
        block_length: expected block length in trades; ``None`` = Politis & White's optimum.
        drawdown_threshold: the fraction ``prob_exceeds`` compares the maximum drawdown with.

    Raises:
        UndefinedStatistic: fewer than 2 trades.
    """
    returns = _vector(trade_returns, "trade_returns")
    if len(returns) < 2:
        raise UndefinedStatistic(f"MC1 needs at least 2 trades, got {len(returns)}")
    if n_paths < 1:
        raise ValueError(f"n_paths >= 1 must hold, got {n_paths!r}")
    length = optimal_block_length(returns) if block_length is None else float(block_length)
    indices = _bootstrap_indices(len(returns), n_paths, length, seed)
    chunk = max(1, _CHUNK_CELLS // len(returns))
    parts = [path_drawdowns(returns[indices[i : i + chunk]]) for i in range(0, n_paths, chunk)]
    max_drawdown = np.concatenate([p[0] for p in parts])
    time_to_recover = np.concatenate([p[1] for p in parts])
    return DrawdownDistribution(
        max_drawdown=max_drawdown,
        time_to_recover=time_to_recover,
        threshold=float(drawdown_threshold),
        prob_exceeds=float(np.mean(max_drawdown > drawdown_threshold)),
        worst_1pct=float(np.quantile(max_drawdown, 0.99)),
        block_length=length,
    )


@dataclass(frozen=True, eq=False)
class TradeCosts:
    """Per-trade cost components MC2 perturbs (all in account currency, one value per trade).

    Attributes:
        gross_pnl: PnL before spread, slippage and commission (price move × size × unit value).
        spread_cost: spread paid on entry and exit (≥ 0), at the scenario's spread multiplier.
        slippage_cost: slippage paid on entry and exit (≥ 0), at the scenario's slippage settings.
        commission: commission paid (≥ 0); not randomised. Defaults to zeros.
    """

    gross_pnl: np.ndarray
    spread_cost: np.ndarray
    slippage_cost: np.ndarray
    commission: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        gross = _vector(self.gross_pnl, "gross_pnl")
        commission = _vector(self.commission, "commission") if len(np.ravel(self.commission)) else np.zeros(len(gross))
        for name, values in (("spread_cost", self.spread_cost), ("slippage_cost", self.slippage_cost),
                             ("commission", commission)):
            array = _vector(values, name)
            if array.shape != gross.shape:
                raise ValueError(f"TradeCosts.{name} has {len(array)} values, gross_pnl has {len(gross)}")
            if np.any(array < 0):
                raise ValueError(f"TradeCosts.{name} must be >= 0 (a cost paid); trade {int(np.argmax(array < 0))}")
            object.__setattr__(self, name, array)
        object.__setattr__(self, "gross_pnl", gross)

    @property
    def net_pnl(self) -> np.ndarray:
        """Return the per-trade net PnL at the costs as given (multipliers of 1)."""
        return self.gross_pnl - self.spread_cost - self.slippage_cost - self.commission


@dataclass(frozen=True, eq=False)
class CostNoiseDistribution:
    """MC2's outcome: ``net_pnl`` per path, the unperturbed ``baseline`` and its summary."""

    net_pnl: np.ndarray
    baseline: float
    spread_mult_range: tuple[float, float]
    slippage_mult_range: tuple[float, float]

    @property
    def prob_loss(self) -> float:
        """Return the share of paths whose total net PnL is ≤ 0."""
        return float(np.mean(self.net_pnl <= 0))

    def percentiles(self) -> dict[int, float]:
        """Return the 1st, 5th, 25th, 50th, 75th, 95th and 99th percentiles of the total net PnL."""
        values = np.percentile(self.net_pnl, _PERCENTILES)
        return {p: float(v) for p, v in zip(_PERCENTILES, values, strict=True)}

    def summary(self) -> dict[str, float]:
        """Return the headline numbers (for a report or a Parquet row)."""
        return {
            "baseline_net_pnl": self.baseline,
            "mean_net_pnl": float(np.mean(self.net_pnl)),
            "std_net_pnl": float(np.std(self.net_pnl, ddof=1)) if len(self.net_pnl) > 1 else 0.0,
            "prob_loss": self.prob_loss,
            **{f"p{p}_net_pnl": v for p, v in self.percentiles().items()},
        }


def _check_range(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = float(bounds[0]), float(bounds[1])
    if not 0.0 <= low <= high:
        raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {bounds!r}")
    return low, high


def mc_cost_noise(
    costs: TradeCosts,
    *,
    seed: int | np.random.SeedSequence,
    n_paths: int = 1000,
    spread_mult_range: tuple[float, float] = (0.8, 1.2),
    slippage_mult_range: tuple[float, float] = (0.9, 1.3),
) -> CostNoiseDistribution:
    """Return MC2: the total net PnL when each trade's spread and slippage are scaled at random.

    Args:
        costs: per-trade gross PnL and cost components.
        seed: seeds the multipliers' ``numpy.random.Generator``.
        n_paths: number of paths.
        spread_mult_range: ``(low, high)`` of the uniform spread multiplier.
        slippage_mult_range: ``(low, high)`` of the uniform slippage multiplier.
    """
    spread_bounds = _check_range("spread_mult_range", spread_mult_range)
    slippage_bounds = _check_range("slippage_mult_range", slippage_mult_range)
    if n_paths < 1:
        raise ValueError(f"n_paths >= 1 must hold, got {n_paths!r}")
    rng = np.random.default_rng(seed)
    n_trades = len(costs.gross_pnl)
    fixed = float(costs.gross_pnl.sum() - costs.commission.sum())
    chunk = max(1, _CHUNK_CELLS // max(n_trades, 1))
    totals = []
    for start in range(0, n_paths, chunk):
        rows = min(chunk, n_paths - start)
        spread = rng.uniform(*spread_bounds, size=(rows, n_trades)) @ costs.spread_cost
        slippage = rng.uniform(*slippage_bounds, size=(rows, n_trades)) @ costs.slippage_cost
        totals.append(fixed - spread - slippage)
    return CostNoiseDistribution(np.concatenate(totals), float(costs.net_pnl.sum()), spread_bounds, slippage_bounds)
