"""MC2's per-trade cost split (``split_trade_costs``) on hand-made trades with exact expected values."""

from __future__ import annotations

import pandas as pd

from tradescan.engine.broker import SymbolSpread
from tradescan.guards import mc_cost_noise
from tradescan.sweep.guard_stage import split_trade_costs


def test_pip_spread_is_its_share_of_each_trades_cost_pips() -> None:
    trades = pd.DataFrame({
        # trade 0: 1.3 spread + 1.3 slippage pips = 26.0 money, plus 4.0 commission
        # trade 1: only the spread (1.3 pips = 13.0 money), plus 2.0 commission
        "pnl": [70.0, -40.0], "cost": [30.0, 15.0], "commission": [4.0, 2.0], "cost_pips": [2.6, 1.3],
        "size": [1000.0, 1000.0], "symbol": ["EURUSD", "EURUSD"],
    })
    costs = split_trade_costs(trades, SymbolSpread(pips=1.0, bps=0.0), spread_mult=1.3)
    assert costs.gross_pnl.tolist() == [100.0, -25.0]
    assert costs.spread_cost.tolist() == [13.0, 13.0]
    assert costs.slippage_cost.tolist() == [13.0, 0.0]
    assert costs.commission.tolist() == [4.0, 2.0]
    assert costs.net_pnl.tolist() == [70.0, -40.0]


def test_bps_spread_is_charged_on_both_fills_raw_prices() -> None:
    trades = pd.DataFrame({
        # spread 10 bps x 1.0: half of it on 100 and on 110 = 10.5 bps of the entry price, of 21 paid
        "pnl": [450.0, -10.0], "cost": [50.0, 0.0], "commission": [0.0, 0.0], "cost_pips": [5.0, 0.0],
        "cost_bps": [21.0, 0.0], "entry_price": [100.0, 100.0], "exit_price": [110.0, 99.9],
    })
    costs = split_trade_costs(trades, SymbolSpread(pips=0.0, bps=10.0), spread_mult=1.0)
    assert costs.spread_cost.tolist() == [25.0, 0.0]
    assert costs.slippage_cost.tolist() == [25.0, 0.0]
    assert costs.gross_pnl.tolist() == [500.0, -10.0]


def test_unit_multipliers_give_the_net_pnl_on_every_path() -> None:
    trades = pd.DataFrame({"pnl": [70.0, -40.0], "cost": [30.0, 15.0], "commission": [4.0, 2.0],
                           "cost_pips": [2.6, 1.3]})
    costs = split_trade_costs(trades, SymbolSpread(pips=1.0, bps=0.0), spread_mult=1.3)
    fixed = mc_cost_noise(costs, seed=3, n_paths=4, spread_mult_range=(1.0, 1.0), slippage_mult_range=(1.0, 1.0))
    assert fixed.net_pnl.tolist() == [30.0] * 4
    # spread x2, slippage x0: both trades pay 13.0 more spread, trade 0 saves its 13.0 slippage
    moved = mc_cost_noise(costs, seed=3, n_paths=2, spread_mult_range=(2.0, 2.0), slippage_mult_range=(0.0, 0.0))
    assert moved.net_pnl.tolist() == [30.0 - 26.0 + 13.0] * 2


def test_a_finalist_without_trades_is_said_not_reported() -> None:
    from tradescan.sweep.guard_stage import SymbolGuards, _not_reported

    out = SymbolGuards()
    _not_reported(out, "mc2", 3, "no trades")
    assert out.summary["not_reported"] == {"mc2 rank 3": "no trades"}
