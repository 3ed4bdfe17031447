"""The Pine export's text: header, preset inputs, legs, level references, costs and template lookup."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

from tradescan import Signals, Strategy
from tradescan.errors import TradeScanError
from tradescan.export.pine import PineCosts, find_template, pine_costs, render_pine, settings_for
from tradescan.registry import get_strategy

COMMENTS = 'comment_loss="SL", comment_profit="TP"'


def _script(name: str, params: dict[str, Any] | None = None, **settings: Any) -> str:
    return render_pine(get_strategy(name), params, settings_for("EURUSD", **settings))


def test_the_header_sets_capital_quantity_margin_and_next_open_fills() -> None:
    script = _script("S1_TREND_EMA_ATR_ADX", capital={"initial": 25000, "risk_per_trade": 0.005, "compounding": False})
    assert script.startswith("//@version=6\n")
    assert (
        'strategy("S1_TREND_EMA_ATR_ADX EURUSD", overlay=true, initial_capital=25000.0,\n'
        '     currency="USD", default_qty_type=strategy.fixed, default_qty_value=1,\n'
        "     margin_long=0, margin_short=0, pyramiding=2, process_orders_on_close=false,\n"
        "     commission_type=strategy.commission.cash_per_contract, commission_value=0.0,\n"
        "     slippage=0)\n"
    ) in script
    assert "RISK_PER_TRADE = 0.005\nRISK_COMPOUNDING = false\nMAX_HOLD_BARS = 96" in script
    assert "PIP_SIZE = 0.0001" in script


def test_inputs_are_preset_to_the_exported_parameters() -> None:
    script = _script("S1_TREND_EMA_ATR_ADX", {"ema_fast": 12, "k_sl": 1.75, "use_tp": False})
    assert 'ema_fast = input.int(12, "ema_fast", minval=2, maxval=500, tooltip="fast EMA period (bars)")' in script
    assert 'k_sl = input.float(1.75, "k_sl", maxval=20.0,' in script  # gt=0 is no minval
    assert 'use_tp = input.bool(false, "use_tp",' in script
    assert 'ema_slow = input.int(50, "ema_slow"' in script  # defaults fill the rest


def test_an_optional_parameter_is_a_switch_and_a_value() -> None:
    unset = _script("S2_MR_ZSCORE_EMA_REGIME")
    assert 'k_tp_on = input.bool(false, "k_tp set")' in unset
    assert "float k_tp = k_tp_on ? k_tp_value : na" in unset
    assert 'k_tp_on = input.bool(true, "k_tp set")\nk_tp_value = input.float(2.25, "k_tp"' in _script(
        "S2_MR_ZSCORE_EMA_REGIME", {"k_tp": 2.25}
    )


def test_a_three_target_plan_is_three_legs_with_break_even_exits_and_a_trail() -> None:
    script = _script("S4_TREND_PULLBACK_TRAIL_TARGETS")
    legs = [line.strip() for line in script.splitlines() if "strategy.exit(" in line]
    assert legs[3:] == [
        f'strategy.exit(ts_id + "_tp1", ts_id, qty_percent=40.0, loss=ts_stop_ticks, profit=ts_tp1_ticks, {COMMENTS})',
        f'strategy.exit(ts_id + "_tp2", ts_id, qty_percent=30.0, loss=ts_stop_ticks, profit=ts_tp2_ticks, {COMMENTS})',
        f'strategy.exit(ts_id + "_tp3", ts_id, loss=ts_stop_ticks, profit=ts_tp3_ticks, {COMMENTS})',
    ]  # the last target takes the rest: no sliver left by Pine's rounding of qty_percent
    assert len(legs) == 6  # the same three with absolute levels come first: re-sent when the stop moves
    assert legs[0].endswith('qty_percent=40.0, stop=ts_stop, limit=ts_tp1, comment_loss="SL", comment_profit="TP")')
    assert "int sig_exit_now = sig_exit" in script and "float sig_trail_now = sig_trail" in script
    move = "        if ts_break_even and target_filled\n            float candidate = ts_grid(ts_fill, -ts_side)"
    assert move in script
    assert "    ts_break_even := sig_break_even" in script  # the break_even input drives it in TradingView
    assert "    ts_break_even := sig_break_even" in _script("S4_TREND_PULLBACK_TRAIL_TARGETS", {"break_even": False})


def test_a_single_target_strategy_has_one_leg_and_no_break_even() -> None:
    script = _script("S1_TREND_EMA_ATR_ADX")
    assert sum("strategy.exit(" in line for line in script.splitlines()) == 2
    assert "target_filled\n            float candidate" not in script and "ts_break_even :=" in script
    assert "int sig_exit_now = 0" in script and "float sig_trail_now = na" in script


def test_a_plan_with_a_remainder_gets_a_stop_only_leg() -> None:
    class TwoTargets(Strategy):
        name = "TWO_TARGETS"
        pine_template = "int warmup = 1\nint sig_entry = 0\nfloat sig_stop = na\nfloat sig_tp1 = na\n"

        def signals(self, bars: Any, params: Any) -> Signals:
            n = len(bars)
            return Signals(np.zeros(n, np.int8), np.full(n, 0.001), targets=np.tile([0.001, 0.002], (n, 1)),
                           target_fractions=(0.5, 0.25))

    script = render_pine(TwoTargets(), None, settings_for("EURUSD"))
    assert 'strategy.exit(ts_id + "_tp2", ts_id, qty_percent=25.0, loss=ts_stop_ticks' in script
    assert 'strategy.exit(ts_id + "_rest", ts_id, loss=ts_stop_ticks, comment_loss="SL")' in script


def test_stops_from_decides_where_the_levels_come_from() -> None:
    fill = _script("S1_TREND_EMA_ATR_ADX", stops_from="fill")
    assert "ts_stop_ticks := ts_ticks_out(sig_stop)" in fill
    assert "ts_stop := (fill_ticks - ts_side * ts_stop_ticks) / syminfo.pricescale" in fill
    signal_close = _script("S1_TREND_EMA_ATR_ADX", stops_from="signal_close", max_hold_bars=None)
    assert "ts_stop := ts_grid(close - ts_side * sig_stop, -ts_side)" in signal_close
    assert "ts_tp1 := ts_grid(close + ts_side * sig_tp1, ts_side)" in signal_close
    assert "loss=ts_stop_ticks" not in signal_close
    assert "MAX_HOLD_BARS = 0  // 0 = no time stop" in signal_close


def test_fx_costs_become_ticks_of_slippage_and_say_what_they_approximate() -> None:
    costs = pine_costs("default", "EURUSD", "B", price=1.1)
    # 0.7 * 1.3 / 2 + (0.1 + 0.5 * 1) * 1.0 + 0.3 = 1.355 pips = 13.55 ticks of 0.00001
    assert (costs.commission_type, costs.commission_value, costs.slippage_ticks) == ("cash_per_contract", 0.0, 14)
    assert any("typical bar (TR = ATR)" in note for note in costs.notes)
    assert pine_costs("zero", "EURUSD", "C", price=1.1) == PineCosts(
        "cash_per_contract", 0.0, 0, ("spread and slippage are one fixed slippage in ticks on market and stop "
                                     "fills; TradingView charges none on limit (target) fills",)
    )


def test_crypto_costs_are_a_percent_commission_and_bps_at_the_price() -> None:
    costs = pine_costs("crypto_spot", "BTCUSDT", "B", price=60000.0)
    # 1.0 * 1.3 / 2 + (1.0 + 1.5) * 1.0 + 1.0 = 4.15 bps of 60000 = 24.9 USDT = 2490 ticks of 0.01
    assert (costs.commission_type, costs.commission_value, costs.slippage_ticks) == ("percent", 0.1, 2490)
    assert any("maker rate" in note for note in costs.notes)
    assert any("at price 60000.0" in note for note in costs.notes)
    script = render_pine(
        get_strategy("S1_TREND_EMA_ATR_ADX"), None,
        settings_for("BTCUSDT", broker="crypto_spot", scenario="B", price=60000.0),
    )
    assert "commission_type=strategy.commission.percent, commission_value=0.1," in script
    assert "// cost approximation: the maker rate on target fills is not expressible" in script


class _NoTemplate(Strategy):
    name = "NO_TEMPLATE"


def test_a_strategy_without_a_template_is_a_one_line_error_naming_where_to_put_it() -> None:
    expected = r"NO_TEMPLATE has no Pine template: set a pine_template attribute .*test_pine_export\.pine"
    with pytest.raises(TradeScanError, match=expected):
        find_template(_NoTemplate())


def test_a_plugin_ships_its_template_beside_its_module(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "my_cross.py").write_text(textwrap.dedent('''
        import numpy as np
        from tradescan import Signals, Strategy

        class MyCross(Strategy):
            name = "MY_CROSS_FOR_PINE"

            def signals(self, bars, params):
                n = len(bars)
                return Signals(np.zeros(n, np.int8), np.full(n, 0.001))
        '''))
    (folder / "my_cross.pine").write_text("// my cross\nint warmup = 1\nint sig_entry = 0\nfloat sig_stop = 0.001\n")
    strategy = get_strategy("MY_CROSS_FOR_PINE", [folder])
    assert find_template(strategy).startswith("// my cross")
    assert "// my cross\nint warmup = 1" in render_pine(strategy, None, settings_for("EURUSD"))


def test_a_pine_template_attribute_may_name_a_file(tmp_path: Path) -> None:
    (tmp_path / "signals.pine").write_text("// from a file\n")

    class Named(Strategy):
        name = "NAMED"
        pine_template = str(tmp_path / "signals.pine")

    assert find_template(Named()) == "// from a file\n"
    Named.pine_template = str(tmp_path / "missing.pine")
    with pytest.raises(TradeScanError, match=r"NAMED: pine_template names .*missing\.pine, which is not a file"):
        find_template(Named())


def test_a_parameter_pine_cannot_hold_is_named() -> None:
    class Texty(Strategy):
        name = "TEXTY"
        pine_template = "// none\n"

        class Params(BaseModel):
            model_config = ConfigDict(extra="forbid")
            mode: str = "fast"

    with pytest.raises(TradeScanError, match=r"TEXTY: parameter mode has type <class 'str'>; a Pine export takes int"):
        render_pine(Texty(), None, settings_for("EURUSD"))
