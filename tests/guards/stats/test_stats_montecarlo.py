"""MC1 (compounded block-bootstrap drawdowns) and MC2 (cost noise)."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan.guards import (
    TradeCosts,
    UndefinedStatistic,
    equity_before_trades,
    mc_cost_noise,
    mc_drawdown,
    path_drawdowns,
    trade_return_fractions,
)


def test_path_drawdowns_of_hand_made_paths():
    # equity 1, 1.1, 0.55, 0.66, 1.32, 1.188: peak 1.1 at position 1 regained at position 4 (3 trades),
    # then a 10 % dip still open at the end (1 trade).
    max_drawdown, time_to_recover = path_drawdowns([[0.1, -0.5, 0.2, 1.0, -0.1], [0.1, -0.5, 0.2, 0.1, 0.1]])
    np.testing.assert_allclose(max_drawdown, [0.5, 0.5])
    assert time_to_recover.tolist() == [3, 4]
    max_drawdown, time_to_recover = path_drawdowns([[0.1, 0.2, 0.0]])
    assert max_drawdown.tolist() == [0.0] and time_to_recover.tolist() == [0]


def test_compounded_drawdowns_never_pass_minus_100_percent():
    # Reordered absolute PnL of 10 trades losing half the initial equity each would fall to -400 %;
    # compounded fractions lose half of what is left each time.
    returns = np.array([-0.5] * 10 + [0.3] * 10)
    distribution = mc_drawdown(returns, seed=1, n_paths=200, block_length=3.0)
    assert np.all(distribution.max_drawdown < 1.0)
    assert distribution.max_drawdown.max() >= 1 - 0.5**5
    with pytest.raises(ValueError, match="wipes the account out"):
        path_drawdowns([[0.1, -1.0]])


def test_mc_drawdown_is_seeded_and_its_summary_is_consistent():
    returns = np.random.default_rng(0).normal(0.002, 0.02, 400)
    first = mc_drawdown(returns, seed=9, n_paths=300, drawdown_threshold=0.15)
    second = mc_drawdown(returns, seed=9, n_paths=300, drawdown_threshold=0.15)
    np.testing.assert_array_equal(first.max_drawdown, second.max_drawdown)
    np.testing.assert_array_equal(first.time_to_recover, second.time_to_recover)
    assert not np.array_equal(first.max_drawdown, mc_drawdown(returns, seed=10, n_paths=300).max_drawdown)
    assert first.prob_exceeds == pytest.approx(np.mean(first.max_drawdown > 0.15))
    assert first.worst_1pct == pytest.approx(np.quantile(first.max_drawdown, 0.99))
    assert first.summary()["drawdown_threshold"] == 0.15
    assert len(first.max_drawdown) == 300


def test_each_path_is_a_resample_of_the_trades():
    # Two trades drawn from {+10 %, -10 %}: the only possible drawdowns are 0, 10 % and 19 %.
    distribution = mc_drawdown([0.1, -0.1], seed=2, n_paths=400, block_length=1.0)
    assert set(np.round(distribution.max_drawdown, 12)) == {0.0, 0.1, 0.19}
    constant = mc_drawdown([-0.1, -0.1, -0.1], seed=2, n_paths=10, block_length=2.0)
    np.testing.assert_allclose(constant.max_drawdown, 1 - 0.9**3)
    assert constant.time_to_recover.tolist() == [3] * 10
    with pytest.raises(UndefinedStatistic, match="at least 2 trades"):
        mc_drawdown([0.01], seed=1)


def test_trade_returns_as_fractions_of_equity():
    pnl = [100.0, -50.0, 25.0]
    equity = equity_before_trades(pnl, 1000.0)
    np.testing.assert_allclose(equity, [1000.0, 1100.0, 1050.0])
    np.testing.assert_allclose(trade_return_fractions(pnl, equity), [0.1, -50 / 1100, 25 / 1050])
    with pytest.raises(ValueError, match=r"trade 1 has -5\.0"):
        trade_return_fractions([1.0, 1.0], [10.0, -5.0])


def _costs(n_trades: int = 200) -> TradeCosts:
    return TradeCosts(
        gross_pnl=np.full(n_trades, 2.0), spread_cost=np.full(n_trades, 0.5), slippage_cost=np.full(n_trades, 0.25),
        commission=np.full(n_trades, 0.1),
    )


def test_unit_multipliers_give_the_baseline_on_every_path():
    noise = mc_cost_noise(_costs(), seed=1, n_paths=20, spread_mult_range=(1.0, 1.0), slippage_mult_range=(1.0, 1.0))
    np.testing.assert_allclose(noise.net_pnl, 200 * (2.0 - 0.5 - 0.25 - 0.1))
    assert noise.baseline == pytest.approx(200 * 1.15)


def test_cost_noise_distribution_is_seeded_and_centred_on_the_mean_multipliers():
    first = mc_cost_noise(_costs(), seed=3, n_paths=2000)
    np.testing.assert_array_equal(first.net_pnl, mc_cost_noise(_costs(), seed=3, n_paths=2000).net_pnl)
    expected_mean = 200 * (2.0 - 0.5 * 1.0 - 0.25 * 1.1 - 0.1)  # mean multipliers 1.0 and 1.1
    assert first.summary()["mean_net_pnl"] == pytest.approx(expected_mean, abs=0.05)
    percentiles = first.percentiles()
    assert list(percentiles) == [1, 5, 25, 50, 75, 95, 99]
    assert percentiles[1] < percentiles[50] < percentiles[99]
    assert first.prob_loss == 0.0


def test_trade_costs_are_checked():
    with pytest.raises(ValueError, match="spread_cost has 2 values, gross_pnl has 3"):
        TradeCosts(np.ones(3), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="slippage_cost must be >= 0"):
        TradeCosts(np.ones(2), np.ones(2), np.array([0.1, -0.1]))
    with pytest.raises(ValueError, match="spread_mult_range"):
        mc_cost_noise(_costs(), seed=1, spread_mult_range=(1.2, 0.8))
