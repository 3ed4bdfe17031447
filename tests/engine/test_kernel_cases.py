"""Hand-computed cases for every rule of DESIGN §4 (EURUSD, pip 0.0001, zero costs unless stated)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import NAN, ArrayStrategy, flat_rows, make_bars, signal_at

from tradescan.engine import BacktestResult, BacktestSession

PIP = 0.0001


def bar_time(index: int) -> pd.Timestamp:
    """Time of bar ``index`` in ``make_bars``' hourly series."""
    return pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=index)


def run_case(
    rows: list[list[float]],
    entry: np.ndarray,
    stop: Any = NAN,
    target: Any = NAN,
    *,
    warmup: int = 0,
    max_hold_bars: int | None = None,
    stops_from: str = "fill",
    broker: Any = "zero",
    scenarios: tuple[str, ...] = ("A",),
    symbol: str = "EURUSD",
    capital: Any = None,
) -> BacktestResult:
    session = BacktestSession(
        make_bars(rows, symbol=symbol),
        broker=broker,
        capital=capital,
        scenarios=scenarios,
        max_hold_bars=max_hold_bars,
        stops_from=stops_from,
    )
    return session.run(ArrayStrategy(entry, stop, target, warmup=warmup))


def only_trade(result: BacktestResult) -> dict[str, Any]:
    assert len(result.trades) == 1, result.trades
    return {str(name): value for name, value in result.trades.iloc[0].items()}


# ---- exits --------------------------------------------------------------------------------------


def test_stop_hit_on_the_entry_bar_in_fill_mode() -> None:
    rows = flat_rows(6)
    rows[3] = [1.1000, 1.1005, 1.0985, 1.0990]  # entry bar trades down through the stop
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.0010))
    assert trade["exit_reason"] == "SL"
    assert trade["entry_price"] == pytest.approx(1.1000)
    assert trade["exit_price"] == pytest.approx(1.0990)
    assert trade["gross_pips"] == pytest.approx(-10.0)
    assert trade["bars_held"] == 1
    assert trade["entry_time"] == trade["exit_time"]


def test_entry_bar_gap_beyond_the_stop_fill_mode_measures_from_the_fill() -> None:
    rows = flat_rows(6)
    rows[3] = [1.0980, 1.0990, 1.0975, 1.0985]  # opens 20 pips below the signal close
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.0010))
    # stop = fill 1.0980 - 0.0010 = 1.0970, never reached; the trade runs to the end of data.
    assert trade["stop_price"] == pytest.approx(1.0970)
    assert trade["exit_reason"] == "EOD"
    assert trade["exit_price"] == pytest.approx(1.1000)


def test_entry_bar_gap_beyond_the_stop_signal_close_mode_exits_at_the_open() -> None:
    rows = flat_rows(6)
    rows[3] = [1.0980, 1.0990, 1.0975, 1.0985]
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.0010, stops_from="signal_close"))
    # stop = signal close 1.1000 - 0.0010 = 1.0990; the entry bar opens below it.
    assert trade["stop_price"] == pytest.approx(1.0990)
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.0980)
    assert trade["gross_pips"] == pytest.approx(0.0)
    assert trade["bars_held"] == 1


def test_entry_bar_intrabar_stop_in_signal_close_mode() -> None:
    rows = flat_rows(6)
    rows[3] = [1.1002, 1.1006, 1.0985, 1.0995]
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.0010, stops_from="signal_close"))
    assert trade["exit_price"] == pytest.approx(1.0990)
    assert trade["gross_pips"] == pytest.approx(-12.0)  # from the 1.1002 fill to the 1.0990 stop


def test_entry_bar_gap_past_the_target_in_signal_close_mode() -> None:
    rows = flat_rows(6)
    rows[3] = [1.1030, 1.1035, 1.1025, 1.1030]
    trade = only_trade(run_case(rows, signal_at(6, b2=1), target=0.0020, stops_from="signal_close"))
    assert trade["exit_reason"] == "TP"
    assert trade["exit_price"] == pytest.approx(1.1030)
    assert trade["bars_held"] == 1


def test_gap_through_the_stop_exits_at_the_open() -> None:
    rows = flat_rows(7)
    rows[4] = [1.0980, 1.0985, 1.0970, 1.0975]
    trade = only_trade(run_case(rows, signal_at(7, b2=1), stop=0.0010, target=0.0020))
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.0980)
    assert trade["gross_pips"] == pytest.approx(-20.0)
    assert trade["bars_held"] == 2


def test_gap_past_the_target_exits_at_the_open() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1030, 1.1040, 1.1025, 1.1035]
    trade = only_trade(run_case(rows, signal_at(7, b2=1), stop=0.0010, target=0.0020))
    assert trade["exit_reason"] == "TP"
    assert trade["exit_price"] == pytest.approx(1.1030)
    assert trade["gross_pips"] == pytest.approx(30.0)


def test_short_gap_through_the_stop_exits_at_the_open() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1025, 1.1030, 1.1020, 1.1022]
    trade = only_trade(run_case(rows, signal_at(7, b2=-1), stop=0.0010, target=0.0020))
    assert trade["side"] == -1
    assert trade["stop_price"] == pytest.approx(1.1010)
    assert trade["target_price"] == pytest.approx(1.0980)
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.1025)
    assert trade["gross_pips"] == pytest.approx(-25.0)


def test_stop_and_target_in_one_bar_takes_the_stop() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1000, 1.1025, 1.0985, 1.1020]
    trade = only_trade(run_case(rows, signal_at(7, b2=1), stop=0.0010, target=0.0020))
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.0990)


def test_short_stop_and_target_in_one_bar_takes_the_stop() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1000, 1.1015, 1.0975, 1.0980]
    trade = only_trade(run_case(rows, signal_at(7, b2=-1), stop=0.0010, target=0.0020))
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.1010)


def test_target_hit_intrabar() -> None:
    rows = flat_rows(7)
    rows[5] = [1.1000, 1.1022, 1.0995, 1.1010]
    trade = only_trade(run_case(rows, signal_at(7, b2=1), stop=0.0010, target=0.0020))
    assert trade["exit_reason"] == "TP"
    assert trade["exit_price"] == pytest.approx(1.1020)
    assert trade["gross_pips"] == pytest.approx(20.0)
    assert trade["bars_held"] == 3


def test_time_stop_closes_at_the_close_of_signal_bar_plus_max_hold() -> None:
    rows = flat_rows(10)
    rows[5] = [1.1000, 1.1010, 1.0995, 1.1007]
    trade = only_trade(run_case(rows, signal_at(10, b2=1), stop=0.0010, target=0.0020, max_hold_bars=3))
    assert trade["exit_reason"] == "TIME"
    assert trade["exit_time"] == bar_time(5)
    assert trade["exit_price"] == pytest.approx(1.1007)
    assert trade["bars_held"] == 3


def test_stop_on_the_time_stop_bar_wins_over_the_time_stop() -> None:
    rows = flat_rows(10)
    rows[5] = [1.1000, 1.1010, 1.0985, 1.1007]
    trade = only_trade(run_case(rows, signal_at(10, b2=1), stop=0.0010, max_hold_bars=3))
    assert trade["exit_reason"] == "SL"


def test_end_of_data_closes_at_the_last_close() -> None:
    rows = flat_rows(6)
    rows[5] = [1.1000, 1.1010, 1.0995, 1.1008]
    trade = only_trade(run_case(rows, signal_at(6, b2=1)))
    assert trade["exit_reason"] == "EOD"
    assert trade["exit_price"] == pytest.approx(1.1008)
    assert trade["bars_held"] == 3


# ---- signals ------------------------------------------------------------------------------------


def test_signals_while_in_a_position_are_ignored() -> None:
    result = run_case(flat_rows(10), signal_at(10, b2=1, b3=1, b4=-1, b5=1), max_hold_bars=5)
    trade = only_trade(result)
    assert trade["signal_time"] == bar_time(2)
    assert trade["exit_reason"] == "TIME"


def test_signal_on_the_exit_bar_opens_at_the_next_open() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1005, 1.0985, 1.0990]  # stops the first trade out
    rows[5] = [1.0991, 1.0995, 1.0989, 1.0992]
    trades = run_case(rows, signal_at(8, b2=1, b4=-1), stop=0.0010).trades
    assert list(trades["side"]) == [1, -1]
    assert trades["exit_time"].iloc[0] == trades["signal_time"].iloc[1]
    assert trades["entry_time"].iloc[1] == bar_time(5)
    assert trades["entry_price"].iloc[1] == pytest.approx(1.0991)


def test_signal_on_the_last_bar_opens_nothing() -> None:
    result = run_case(flat_rows(6), signal_at(6, b5=1))
    assert result.trades.empty
    assert result.metrics["A"]["trades"] == 0


def test_signal_on_the_second_to_last_bar_enters_and_exits_on_the_last_bar() -> None:
    trade = only_trade(run_case(flat_rows(6), signal_at(6, b4=1)))
    assert trade["exit_reason"] == "EOD"
    assert trade["bars_held"] == 1


def test_no_signal_on_bar_zero() -> None:
    assert run_case(flat_rows(6), signal_at(6, b0=1)).trades.empty


def test_no_signal_inside_the_warmup() -> None:
    result = run_case(flat_rows(8), signal_at(8, b1=1, b2=-1, b3=1), warmup=3, max_hold_bars=2)
    trade = only_trade(result)
    assert trade["side"] == 1
    assert trade["signal_time"] == bar_time(3)


def test_no_stop_and_no_target_only_time_or_eod_exits() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.2000, 1.0000, 1.1000]
    trade = only_trade(run_case(rows, signal_at(8, b2=1), max_hold_bars=4))
    assert trade["exit_reason"] == "TIME"
    assert np.isnan(trade["stop_price"]) and np.isnan(trade["target_price"])


# ---- costs --------------------------------------------------------------------------------------


def test_constant_costs_move_fills_against_the_trader() -> None:
    broker = {"name": "c", "spread_pips": {"*": 2.0}, "slippage": {"base_pips": 0.5}}
    rows = flat_rows(8)
    trade = only_trade(run_case(rows, signal_at(8, b2=-1), stop=0.0010, broker=broker, max_hold_bars=3))
    # per side: 2.0 / 2 + 0.5 = 1.5 pips
    assert trade["entry_fill"] == pytest.approx(1.1000 - 1.5 * PIP)
    assert trade["exit_fill"] == pytest.approx(1.1000 + 1.5 * PIP)
    assert trade["stop_price"] == pytest.approx(1.1000 - 1.5 * PIP + 0.0010)
    assert trade["cost_pips"] == pytest.approx(3.0)
    assert trade["gross_pips"] == pytest.approx(0.0)
    assert trade["net_pips"] == pytest.approx(-3.0)


def _spike_rows() -> list[list[float]]:
    rows = flat_rows(30)  # TR = 10 pips on every bar, so ATR14 = 10 pips from bar 14 on
    rows[20] = [1.1000, 1.1020, 1.0990, 1.1000]  # TR = 30 pips: ratio 3.0 against ATR14[19]
    return rows


def test_default_scenarios_round_trip_costs_with_atr_slippage_and_a_spike() -> None:
    result = run_case(_spike_rows(), signal_at(30, b19=1), max_hold_bars=6, scenarios=("A", "B", "C"), broker="default")
    trades = result.trades.set_index("scenario")
    # Entry on bar 20: ratio = 30 / 10 = 3.0 (> spike_tr_atr 1.5); core = 0.1 + 0.5 * 3 = 1.6.
    entry_cost = {"A": 0.35 + 1.6, "B": 0.455 + 1.6 + 0.3, "C": 0.56 + 1.6 * 2.0 * 1.8}
    # Exit on bar 25 (19 + 6): ATR14[24] = 10 + 20/14 · (13/14)^4 pips after the spike.
    ratio = 10.0 / (10.0 + 20.0 / 14.0 * (13.0 / 14.0) ** 4)
    core = 0.1 + 0.5 * ratio
    exit_cost = {"A": 0.35 + core, "B": 0.455 + core + 0.3, "C": 0.56 + core * 1.8}
    for name in ("A", "B", "C"):
        row = trades.loc[name]
        assert row["exit_reason"] == "TIME"
        assert row["entry_fill"] == pytest.approx(1.1000 + entry_cost[name] * PIP, abs=1e-12)
        assert row["exit_fill"] == pytest.approx(1.1000 - exit_cost[name] * PIP, abs=1e-12)
        assert row["cost_pips"] == pytest.approx(entry_cost[name] + exit_cost[name], rel=1e-9)
        assert row["net_pips"] == pytest.approx(-(entry_cost[name] + exit_cost[name]), rel=1e-9)
    assert trades.loc["A", "cost_pips"] == pytest.approx(1.95 + 0.35 + core, rel=1e-9)
    assert trades.loc["C", "cost_pips"] == pytest.approx(6.32 + 0.56 + 1.8 * core, rel=1e-9)


def test_fill_inside_the_atr_warmup_uses_ratio_one() -> None:
    result = run_case(flat_rows(12), signal_at(12, b2=1), max_hold_bars=3, broker="default")
    trade = only_trade(result)
    # bars 3 and 5 have no ATR14 on the previous bar: slippage = 0.1 + 0.5 * 1.0
    assert trade["cost_pips"] == pytest.approx(2 * (0.35 + 0.6))


def test_scenarios_are_independent_positions() -> None:
    """A cost that moves the fill-based stop changes scenario C's exit but not A's."""
    broker = {
        "name": "two",
        "spread_pips": {"*": 0.0},
        "scenarios": {"A": {}, "C": {"slippage_add_pips": 3.0}},
    }
    rows = flat_rows(10)
    rows[4] = [1.1000, 1.1005, 1.0991, 1.0995]  # reaches C's stop (1.0993) but not A's (1.0990)
    entry = signal_at(10, b2=1, b5=-1)
    result = run_case(rows, entry, stop=0.0010, broker=broker, scenarios=("A", "C"), max_hold_bars=6)
    by_scenario = {name: frame for name, frame in result.trades.groupby("scenario")}
    assert list(by_scenario["A"]["exit_reason"]) == ["TIME"]
    assert list(by_scenario["C"]["exit_reason"]) == ["SL", "EOD"]
    assert list(by_scenario["C"]["side"]) == [1, -1]


# ---- capital ------------------------------------------------------------------------------------


def _two_losers() -> tuple[list[list[float]], np.ndarray]:
    rows = flat_rows(10)
    rows[3] = [1.1000, 1.1005, 1.0985, 1.0990]  # trade 1 (signal 2) stops out on bar 3
    rows[6] = [1.1000, 1.1005, 1.0985, 1.0990]  # trade 2 (signal 5) stops out on bar 6
    return rows, signal_at(10, b2=1, b5=1)


def test_compounding_sizes_from_realised_equity() -> None:
    rows, entry = _two_losers()
    trades = run_case(rows, entry, stop=0.0010, capital={"risk_per_trade": 0.002}).trades
    assert list(trades["size"]) == pytest.approx([20.0 / 0.0010, 0.002 * 9980.0 / 0.0010])
    assert list(trades["pnl"]) == pytest.approx([-20.0, -19.96])
    assert list(trades["r_multiple"]) == pytest.approx([-1.0, -1.0])


def test_fixed_risk_sizes_from_initial_capital() -> None:
    rows, entry = _two_losers()
    result = run_case(rows, entry, stop=0.0010, capital={"risk_per_trade": 0.002, "compounding": False})
    assert list(result.trades["size"]) == pytest.approx([20000.0, 20000.0])
    assert result.equity["A"].iloc[-1] == pytest.approx(10000.0 - 40.0)


def test_commission_per_lot_per_side() -> None:
    broker = {"name": "comm", "commission_per_lot": 7.0, "spread_pips": {"*": 0.0}}
    rows, entry = _two_losers()
    trades = run_case(rows, entry[:4].tolist() + [0] * 6, stop=0.0010, broker=broker).trades
    # size 20000 units = 0.2 lot; 7.0 per lot per side → 2 × 1.4 = 2.8
    assert trades["pnl"].iloc[0] == pytest.approx(-20.0 - 2.8)
    assert trades["r_multiple"].iloc[0] == pytest.approx(-22.8 / 20.0)


def test_equity_is_marked_at_the_close_while_in_a_position() -> None:
    rows = flat_rows(7)
    rows[3] = [1.1000, 1.1010, 1.0995, 1.1005]
    rows[4] = [1.1005, 1.1010, 1.0995, 1.0997]
    result = run_case(rows, signal_at(7, b2=1), stop=0.0010, max_hold_bars=3)
    equity = result.equity["A"].to_numpy()
    size = 20000.0
    assert equity[:3] == pytest.approx([10000.0] * 3)
    assert equity[3] == pytest.approx(10000.0 + size * 0.0005)
    assert equity[4] == pytest.approx(10000.0 - size * 0.0003)
    assert equity[5] == pytest.approx(10000.0)  # closed at the time stop at 1.1000
    assert equity[6] == pytest.approx(10000.0)


def test_no_stop_sizes_from_atr14() -> None:
    rows = flat_rows(25)
    trade = only_trade(run_case(rows, signal_at(25, b20=1), max_hold_bars=2))
    atr14 = 0.0010  # every bar's TR is 10 pips
    assert trade["size"] == pytest.approx(20.0 / atr14, rel=1e-9)


def test_no_stop_inside_the_atr_warmup_trades_with_zero_size() -> None:
    trade = only_trade(run_case(flat_rows(10), signal_at(10, b3=1), max_hold_bars=2))
    assert trade["size"] == 0.0
    assert trade["pnl"] == 0.0
    assert np.isnan(trade["r_multiple"])


# ---- currencies ---------------------------------------------------------------------------------


def test_base_currency_is_the_account_currency_usdjpy() -> None:
    rows = [[150.00, 150.05, 149.95, 150.00] for _ in range(6)]
    rows[3] = [150.00, 150.05, 149.40, 149.60]
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.50, symbol="USDJPY"))
    size = 20.0 / (0.50 / 150.00)  # entry fill sizes the trade
    assert trade["size"] == pytest.approx(size)
    assert trade["gross_pips"] == pytest.approx(-50.0)
    assert trade["pnl"] == pytest.approx(size * (149.50 - 150.00) / 149.50)  # exit fill converts
    assert trade["r_multiple"] == pytest.approx(-150.00 / 149.50)


def test_cross_uses_the_fixed_quote_rate() -> None:
    rows = [[0.8500, 0.8505, 0.8495, 0.8500] for _ in range(6)]
    rows[3] = [0.8500, 0.8505, 0.8485, 0.8490]
    trade = only_trade(run_case(rows, signal_at(6, b2=1), stop=0.0010, symbol="EURGBP"))
    assert trade["size"] == pytest.approx(20.0 / (0.0010 * 1.27))
    assert trade["pnl"] == pytest.approx(-20.0)


def test_cross_with_a_conversion_series() -> None:
    rows = [[0.8500, 0.8505, 0.8495, 0.8500] for _ in range(6)]
    rows[3] = [0.8500, 0.8505, 0.8485, 0.8490]
    conversion = np.array([1.2, 1.2, 1.25, 1.30, 1.3, 1.3])
    session = BacktestSession(make_bars(rows, "EURGBP"), broker="zero", scenarios=("A",), conversion=conversion)
    trade = session.run(ArrayStrategy(signal_at(6, b2=1), 0.0010)).trades.iloc[0]
    size = 20.0 / (0.0010 * 1.25)  # rate of the signal bar
    assert trade["size"] == pytest.approx(size)
    assert trade["pnl"] == pytest.approx(-size * 0.0010 * 1.30)  # rate of the exit bar


def test_missing_conversion_rate_is_a_clear_error() -> None:
    rows = [[1.0900, 1.0905, 1.0895, 1.0900] for _ in range(6)]
    with pytest.raises(Exception, match=r"AUDNZD: cannot value its PnL in GBP.*quote_rate"):
        run_case(rows, signal_at(6, b2=1), symbol="AUDNZD", capital={"currency": "GBP"})
