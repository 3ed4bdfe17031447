"""Hand-computed cases for the rules DESIGN §4 gained with issue 9.

Signal exits and reversals, trailing stops, multi-target plans with break-even, the tradingview
intrabar order and its tick grid, percent commissions and spreads in basis points. EURUSD (pip
0.0001) with zero costs unless stated; every expected price is worked out in a comment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from engine_helpers import NAN, ArrayStrategy, flat_rows, make_bars, signal_at

from tradescan.engine import BacktestResult, BacktestSession

SIZE = 20000.0  # 0.2 % of 10000 risked over a 10-pip stop


def bar_time(index: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=index)


def run(
    rows: list[list[float]],
    entry: np.ndarray,
    stop: Any = NAN,
    target: Any = NAN,
    *,
    symbol: str = "EURUSD",
    broker: Any = "zero",
    intrabar: str = "stop_first",
    stops_from: str = "fill",
    max_hold_bars: int | None = None,
    **features: Any,
) -> BacktestResult:
    session = BacktestSession(
        make_bars(rows, symbol=symbol),
        broker=broker,
        scenarios=("A",),
        max_hold_bars=max_hold_bars,
        stops_from=stops_from,
        intrabar=intrabar,
    )
    return session.run(ArrayStrategy(entry, stop, target, **features))


def rows_of(result: BacktestResult, *columns: str) -> list[tuple[Any, ...]]:
    frame = result.trades
    return [tuple(row) for row in frame[list(columns)].itertuples(index=False)]


# ---- signal exits -------------------------------------------------------------------------------


def test_exit_signal_fills_at_the_next_open_and_an_entry_on_that_bar_reenters() -> None:
    rows = flat_rows(10)
    rows[5] = [1.1000, 1.1005, 1.0995, 1.1004]
    rows[6:] = [[1.1010, 1.1015, 1.1005, 1.1012]] + [[1.1012, 1.1017, 1.1007, 1.1012]] * 3
    exit_signal = signal_at(10, b5=1)
    result = run(rows, signal_at(10, b2=1, b5=1), 0.0010, exit=exit_signal)
    first, second = result.trades.iloc[0], result.trades.iloc[1]
    assert (first["exit_reason"], first["exit_time"], first["exit_price"]) == ("SIGNAL", bar_time(6), 1.1010)
    assert first["gross_pips"] == pytest.approx(10.0)
    assert first["bars_held"] == 4  # bars 3..6: the exit is at bar 6's open
    assert (second["side"], second["signal_time"], second["entry_time"]) == (1, bar_time(5), bar_time(6))
    assert second["entry_price"] == 1.1010
    assert (second["exit_reason"], second["position_id"]) == ("EOD", 1)
    # bar 5 is still marked with the open position (the exit is at the next open); bar 6 holds the
    # first trade's 20 realised and the second marked at the close, sized from 10020
    equity = result.equity["A"].to_numpy()
    assert equity[5] == pytest.approx(10000.0 + SIZE * 0.0004)
    assert second["size"] == pytest.approx(0.002 * 10020.0 / 0.0010)
    assert equity[6] == pytest.approx(10020.0 + second["size"] * 0.0002)


def test_reversal_closes_and_opens_the_other_side_at_one_open_with_costs() -> None:
    broker = {"name": "one_pip", "spread_pips": {"*": 1.0}}  # 0.5 pip per fill
    rows = flat_rows(9)
    rows[5] = [1.1010, 1.1015, 1.1005, 1.1010]
    result = run(rows, signal_at(9, b2=1, b4=-1), stop=0.0010, broker=broker, exit=signal_at(9, b4=1))
    long_leg, short_leg = result.trades.iloc[0], result.trades.iloc[1]
    assert (long_leg["side"], long_leg["exit_reason"], short_leg["side"]) == (1, "SIGNAL", -1)
    assert long_leg["entry_fill"] == pytest.approx(1.10005)
    assert long_leg["exit_fill"] == pytest.approx(1.10095)  # open 1.1010 - 0.5 pip
    assert short_leg["entry_fill"] == pytest.approx(1.10095)  # open 1.1010 - 0.5 pip, short
    assert long_leg["exit_time"] == short_leg["entry_time"] == bar_time(5)
    # the short is sized from the equity after the long's PnL: 0.002 * (10000 + 18) / 0.0010
    assert long_leg["pnl"] == pytest.approx(SIZE * 0.0009)
    assert short_leg["size"] == pytest.approx(0.002 * (10000.0 + SIZE * 0.0009) / 0.0010)


def test_a_stop_inside_the_exit_signal_bar_comes_first() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1005, 1.0985, 1.0990]
    result = run(rows, signal_at(8, b2=1), stop=0.0010, exit=signal_at(8, b4=1))
    assert rows_of(result, "exit_reason", "exit_price") == [("SL", pytest.approx(1.0990))]


def test_exit_signal_for_the_other_side_and_on_the_time_stop_bar_do_nothing() -> None:
    result = run(flat_rows(10), signal_at(10, b2=1), exit=signal_at(10, b3=-1, b5=1), max_hold_bars=3)
    # b3's -1 closes shorts only; b5 is the time-stop bar (2 + 3): the time stop at its close wins
    assert rows_of(result, "exit_reason", "exit_time") == [("TIME", bar_time(5))]


def test_exit_signal_on_the_entry_bar_close() -> None:
    result = run(flat_rows(8), signal_at(8, b2=-1), exit=signal_at(8, b3=-1))
    assert rows_of(result, "side", "exit_reason", "exit_time", "bars_held") == [(-1, "SIGNAL", bar_time(4), 2)]


# ---- trailing stops -----------------------------------------------------------------------------


def _trail_rows() -> list[list[float]]:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1020, 1.0998, 1.1015]  # new best high 1.1020: the stop trails to 1.1012
    return rows


def test_trailing_stop_moves_after_each_close_then_is_hit() -> None:
    rows = _trail_rows()
    rows[5] = [1.1015, 1.1018, 1.1010, 1.1012]
    result = run(rows, signal_at(8, b2=1), stop=0.0010, trail_distance=0.0008)
    # bar 3 (entry): best high 1.1005 -> stop max(1.0990, 1.0997) = 1.0997; bar 4's low 1.0998 is
    # above it; after bar 4 the stop is 1.1020 - 0.0008 = 1.1012, hit inside bar 5
    trade = result.trades.iloc[0]
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.1012)
    assert trade["stop_price"] == pytest.approx(1.1012)
    assert trade["gross_pips"] == pytest.approx(12.0)
    assert trade["r_multiple"] == pytest.approx(1.2)  # sized on the 10-pip initial stop


def test_a_gap_through_a_trailed_stop_exits_at_the_open() -> None:
    rows = _trail_rows()
    rows[5] = [1.1005, 1.1008, 1.1000, 1.1003]
    trade = run(rows, signal_at(8, b2=1), stop=0.0010, trail_distance=0.0008).trades.iloc[0]
    assert (trade["exit_reason"], trade["exit_price"], trade["stop_price"]) == ("SL", 1.1005, pytest.approx(1.1012))


def test_trailing_never_moves_the_stop_back_and_works_without_a_stop() -> None:
    rows = _trail_rows()
    rows[5] = [1.1015, 1.1016, 1.1013, 1.1014]  # lower high: the stop stays at 1.1012
    rows[6] = [1.1014, 1.1016, 1.1011, 1.1012]
    trade = run(rows, signal_at(8, b2=1), trail_distance=0.0008).trades.iloc[0]  # no initial stop
    assert (trade["exit_reason"], trade["exit_time"]) == ("SL", bar_time(6))
    assert trade["exit_price"] == pytest.approx(1.1012)


def test_short_trailing_stop_follows_the_lowest_low() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1002, 1.0980, 1.0985]  # lowest low 1.0980: stop 1.0980 + 0.0008 = 1.0988
    rows[5] = [1.0985, 1.0990, 1.0983, 1.0989]
    trade = run(rows, signal_at(8, b2=-1), stop=0.0010, trail_distance=0.0008).trades.iloc[0]
    assert (trade["exit_reason"], trade["exit_time"]) == ("SL", bar_time(5))
    assert trade["exit_price"] == pytest.approx(1.0988)
    assert trade["gross_pips"] == pytest.approx(12.0)


# ---- multi-target plans -------------------------------------------------------------------------


def _plan(n_bars: int, *distances: float) -> np.ndarray:
    return np.tile(np.array(distances), (n_bars, 1))


def test_tp1_then_the_break_even_stop() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1012, 1.0995, 1.1008]  # TP1 at 1.1010
    rows[5] = [1.1008, 1.1009, 1.0998, 1.1002]  # back to the entry: the break-even stop at 1.1000
    result = run(
        rows, signal_at(8, b2=1), stop=0.0010, targets=_plan(8, 0.0010, 0.0030), target_fractions=(0.5, 0.5),
        break_even=True,
    )
    assert rows_of(result, "position_id", "leg", "exit_reason", "exit_time", "fraction") == [
        (0, 1, "TP", bar_time(4), 0.5),
        (0, 2, "SL", bar_time(5), 0.5),
    ]
    trades = result.trades
    assert list(trades["exit_price"]) == pytest.approx([1.1010, 1.1000])
    assert list(trades["target_price"]) == pytest.approx([1.1010, 1.1030])
    assert list(trades["stop_price"]) == pytest.approx([1.0990, 1.1000])
    assert list(trades["size"]) == pytest.approx([SIZE / 2, SIZE / 2])
    assert list(trades["pnl"]) == pytest.approx([10.0, 0.0])
    assert list(trades["r_multiple"]) == pytest.approx([1.0, 0.0])  # each leg against its share of the risk
    metrics = result.metrics["A"]
    assert (metrics["trades"], metrics["legs"], metrics["win_rate"]) == (1.0, 2.0, 1.0)
    assert metrics["net_pips"] == pytest.approx(5.0)  # 0.5 * 10 + 0.5 * 0
    assert metrics["expectancy_r"] == pytest.approx(0.5)
    assert metrics["avg_bars_held"] == 3.0  # the position's longest leg: bars 3..5


def test_without_break_even_the_stop_stays() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1012, 1.0995, 1.1008]
    rows[5] = [1.1008, 1.1009, 1.0998, 1.1002]
    result = run(rows, signal_at(8, b2=1), stop=0.0010, targets=_plan(8, 0.0010, 0.0030), target_fractions=(0.5, 0.5))
    assert rows_of(result, "leg", "exit_reason") == [(1, "TP"), (2, "EOD")]


def test_all_targets_in_one_bar_close_in_target_order() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1000, 1.1035, 1.0995, 1.1030]
    result = run(
        rows, signal_at(8, b2=1), stop=0.0010, targets=_plan(8, 0.0010, 0.0020, 0.0030),
        target_fractions=(0.4, 0.3, 0.3),
    )
    assert rows_of(result, "leg", "exit_reason", "exit_time") == [(leg, "TP", bar_time(4)) for leg in (1, 2, 3)]
    assert list(result.trades["exit_price"]) == pytest.approx([1.1010, 1.1020, 1.1030])
    assert list(result.trades["size"]) == pytest.approx([0.4 * SIZE, 0.3 * SIZE, 0.3 * SIZE])
    metrics = result.metrics["A"]
    assert (metrics["trades"], metrics["legs"]) == (1.0, 3.0)
    assert metrics["net_pips"] == pytest.approx(0.4 * 10 + 0.3 * 20 + 0.3 * 30)
    assert metrics["net_pnl"] == pytest.approx(SIZE * (0.4 * 0.0010 + 0.3 * 0.0020 + 0.3 * 0.0030))
    by_reason = result.breakdown("exit_reason")
    assert by_reason.loc[("A", "TP"), "trades"] == 3.0  # by exit reason, legs count one by one


def test_the_remainder_rides_to_the_end_and_a_stop_closes_every_open_leg() -> None:
    rows = flat_rows(9)
    rows[4] = [1.1000, 1.1012, 1.0995, 1.1008]  # TP1 (0.4) only
    rows[6] = [1.1000, 1.1004, 1.0985, 1.0990]  # the stop closes TP2's leg and the remainder
    result = run(rows, signal_at(9, b2=1), stop=0.0010, targets=_plan(9, 0.0010, 0.0030), target_fractions=(0.4, 0.3))
    assert rows_of(result, "leg", "exit_reason", "exit_time", "fraction") == [
        (1, "TP", bar_time(4), 0.4),
        (2, "SL", bar_time(6), 0.3),
        (3, "SL", bar_time(6), pytest.approx(0.3)),
    ]
    assert np.isnan(result.trades["target_price"].iloc[2])  # the remainder has no target


def test_a_gap_past_two_targets_fills_both_at_the_open() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1025, 1.1027, 1.1022, 1.1024]
    result = run(rows, signal_at(8, b2=1), stop=0.0010, targets=_plan(8, 0.0010, 0.0020, 0.0030),
                 target_fractions=(0.4, 0.3, 0.3))
    assert rows_of(result, "leg", "exit_reason", "exit_price") == [
        (1, "TP", 1.1025), (2, "TP", 1.1025), (3, "EOD", 1.1000)
    ]


# ---- intrabar order -----------------------------------------------------------------------------


def test_tradingview_bar_takes_the_target_before_the_stop_when_the_high_is_nearer() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1002, 1.1012, 1.0985, 1.0990]  # high 10 pips from the open, low 17: O -> H -> L -> C
    entry = signal_at(7, b2=1)
    tradingview = run(rows, entry, stop=0.0010, target=0.0010, intrabar="tradingview")
    stop_first = run(rows, entry, stop=0.0010, target=0.0010)
    assert rows_of(tradingview, "exit_reason", "exit_price") == [("TP", pytest.approx(1.1010))]
    assert rows_of(stop_first, "exit_reason", "exit_price") == [("SL", pytest.approx(1.0990))]


def test_tradingview_low_nearer_the_open_takes_the_stop_first() -> None:
    rows = flat_rows(7)
    rows[4] = [1.1000, 1.1015, 1.0988, 1.1005]  # low 12 pips away, high 15: O -> L -> H -> C
    assert rows_of(run(rows, signal_at(7, b2=1), 0.0010, 0.0010, intrabar="tradingview"), "exit_reason") == [("SL",)]


def test_tradingview_tie_goes_to_the_low_first() -> None:
    # binary-exact prices, so the two distances are equal exactly: 2**-9 each way. TradingView's
    # emulator (and PyneCore, tests/export/test_pine_parity.py) goes to the high first only when it
    # is strictly nearer the open: a tie is O -> L -> H -> C.
    rows = flat_rows(7, price=1.25, half_range=2.0**-11)
    rows[4] = [1.25, 1.25 + 2.0**-9, 1.25 - 2.0**-9, 1.25]
    distance = 2.0**-10
    long_trade = run(rows, signal_at(7, b2=1), distance, distance, intrabar="tradingview")
    short_trade = run(rows, signal_at(7, b2=-1), distance, distance, intrabar="tradingview")
    assert rows_of(long_trade, "exit_reason") == [("SL",)]  # O -> L: the long's stop
    assert rows_of(short_trade, "exit_reason") == [("TP",)]  # O -> L: the short's target


def test_tradingview_short_goes_to_the_low_first_for_its_target() -> None:
    rows = flat_rows(7)
    rows[4] = [1.0998, 1.1012, 1.0988, 1.1000]  # low 10 pips from the open, high 14: O -> L -> H
    result = run(rows, signal_at(7, b2=-1), stop=0.0010, target=0.0010, intrabar="tradingview")
    assert rows_of(result, "exit_reason", "exit_price") == [("TP", pytest.approx(1.0990))]


def test_tradingview_targets_then_the_stop_in_one_bar() -> None:
    rows = flat_rows(8)
    rows[4] = [1.1002, 1.1014, 1.0985, 1.0990]
    result = run(rows, signal_at(8, b2=1), stop=0.0010, targets=_plan(8, 0.0010, 0.0030),
                 target_fractions=(0.5, 0.5), intrabar="tradingview")
    assert rows_of(result, "leg", "exit_reason", "exit_price") == [
        (1, "TP", pytest.approx(1.1010)), (2, "SL", pytest.approx(1.0990))
    ]


def test_tradingview_levels_are_rounded_onto_the_tick_grid_away_from_the_entry() -> None:
    broker = {"name": "bps", "spread_bps": {"BTCUSDT": 2.0}}  # 1 bps per fill: 6.0 USDT at 60000
    rows = [[60000.0, 60010.0, 59990.0, 60000.0] for _ in range(6)]
    result = run(rows, signal_at(6, b2=1), stop=100.123, target=200.456, symbol="BTCUSDT", broker=broker,
                 intrabar="tradingview")
    trade = result.trades.iloc[0]
    assert trade["entry_fill"] == pytest.approx(60006.0)
    assert trade["stop_price"] == 59905.87  # 60006 - 100.123 = 59905.877, down to the 0.01 grid
    assert trade["target_price"] == 60206.46  # 60006 + 200.456 = 60206.456, up
    plain = run(rows, signal_at(6, b2=1), stop=100.123, target=200.456, symbol="BTCUSDT", broker=broker)
    assert plain.trades["stop_price"].iloc[0] == pytest.approx(59905.877)


def test_tradingview_entry_bar_whose_fill_based_stop_is_above_the_open_stops_out_first() -> None:
    broker = {"name": "wide", "spread_pips": {"*": 30.0}}  # 15 pips per fill, more than the 10-pip stop
    rows = flat_rows(7)
    rows[3] = [1.1000, 1.1030, 1.0960, 1.1020]  # high nearer the open, but the path starts past the stop
    result = run(rows, signal_at(7, b2=1), stop=0.0010, target=0.0010, broker=broker, intrabar="tradingview")
    trade = result.trades.iloc[0]
    assert trade["exit_reason"] == "SL"
    assert trade["exit_price"] == pytest.approx(1.1005)  # fill 1.1015 - 10 pips
    assert trade["exit_time"] == bar_time(3)


# ---- costs for every asset class ----------------------------------------------------------------


def _btc_rows() -> list[list[float]]:
    rows = [[60000.0, 60100.0, 59900.0, 60000.0] for _ in range(7)]
    rows[4] = [60000.0, 60700.0, 59950.0, 60650.0]  # the target at 60600
    return rows


def test_percent_commission_on_a_btc_trade() -> None:
    broker = {"name": "pct", "commission_pct": 0.001, "spread_bps": {"BTCUSDT": 0.0}}
    result = run(_btc_rows(), signal_at(7, b2=1), stop=600.0, target=600.0, symbol="BTCUSDT", broker=broker)
    trade = result.trades.iloc[0]
    size = 20.0 / 600.0  # 0.2 % of 10000 USD over a 600 USDT stop (1 USDT = 1 USD)
    assert trade["size"] == pytest.approx(size)
    # 0.1 % of the notional on each side: 60000 * size and 60600 * size
    assert trade["commission"] == pytest.approx(size * (60.0 + 60.6))
    assert trade["commission"] == pytest.approx(4.02)
    assert trade["pnl"] == pytest.approx(20.0 - 4.02)
    assert trade["cost"] == pytest.approx(4.02)
    assert trade["cost_bps"] == pytest.approx(120.6 / 60000.0 * 1e4)  # 20.1 bps of the entry notional
    assert trade["cost_pips"] == 0.0
    # while open, the equity already carries the entry side's commission
    assert result.equity["A"].iloc[3] == pytest.approx(10000.0 - size * 60.0)


def test_maker_rate_on_target_fills_and_taker_rate_elsewhere() -> None:
    broker = {"name": "mk", "commission_pct": 0.001, "maker_commission_pct": 0.0008, "spread_bps": {"*": 0.0}}
    result = run(_btc_rows(), signal_at(7, b2=1), stop=600.0, target=600.0, symbol="BTCUSDT", broker=broker)
    size = 20.0 / 600.0
    assert result.trades["commission"].iloc[0] == pytest.approx(size * (60.0 + 0.0008 * 60600.0))


def test_spread_and_slippage_in_basis_points_of_the_fill_price() -> None:
    broker = {"name": "bps", "spread_bps": {"BTCUSDT": 2.0}, "slippage": {"base_bps": 0.5}}
    rows = [[60000.0, 60100.0, 59900.0, 60000.0] for _ in range(6)]
    rows[3] = [50000.0, 50100.0, 49900.0, 50000.0]  # a bps cost follows the fill's price: 1.5 bps = 7.5
    trade = run(rows, signal_at(6, b2=1), 1000.0, symbol="BTCUSDT", broker=broker, max_hold_bars=2).trades.iloc[0]
    assert trade["entry_fill"] == pytest.approx(50007.5)
    assert trade["exit_fill"] == pytest.approx(60000.0 - 9.0)  # exit at the close of bar 4: 1.5 bps of 60000
    assert trade["cost_pips"] == pytest.approx((7.5 + 9.0) / 0.01)
    assert trade["size"] == pytest.approx(20.0 / 1000.0)
    assert trade["cost"] == pytest.approx(0.02 * 16.5)
    assert trade["cost_bps"] == pytest.approx(16.5 / 50000.0 * 1e4)


def test_fx_cost_columns_next_to_pips() -> None:
    broker = {"name": "c", "spread_pips": {"*": 2.0}, "commission_per_lot": 7.0}
    trade = run(flat_rows(8), signal_at(8, b2=1), stop=0.0010, broker=broker, max_hold_bars=3).trades.iloc[0]
    # 1 pip per fill; 0.2 lot pays 7 * 0.2 per side
    assert trade["cost_pips"] == pytest.approx(2.0)
    assert trade["commission"] == pytest.approx(2.8)
    assert trade["cost"] == pytest.approx(SIZE * 0.0002 + 2.8)
    assert trade["pnl"] == pytest.approx(-trade["cost"])
    assert trade["cost_bps"] == pytest.approx((0.0002 + 14.0 / 100000.0) / 1.1 * 1e4)


def test_an_unknown_intrabar_order_is_a_one_line_error_naming_the_choices() -> None:
    from tradescan.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^intrabar='tradeview': Input should be 'stop_first' or 'tradingview'$"):
        BacktestSession(make_bars(flat_rows(5)), broker="zero", intrabar="tradeview")
    assert BacktestSession(make_bars(flat_rows(5)), intrabar="tradingview").settings()["intrabar"] == "tradingview"
