"""Broker profiles: bundled files, mappings, wildcard spreads and the errors a user can hit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradescan import instruments
from tradescan.engine.broker import (
    DEFAULT_SCENARIOS,
    BrokerProfile,
    available_brokers,
    load_broker,
    resolve_scenarios,
)
from tradescan.errors import ConfigError, TradeScanError, UnknownNameError


def test_bundled_profiles_are_listed() -> None:
    assert {"default", "zero", "retail_ecn"} <= set(available_brokers())


def test_default_profile_has_the_seed_values() -> None:
    profile = load_broker("default")
    assert profile.name == "default"
    assert profile.spread_pips["EURUSD"] == 0.7
    assert profile.spread_pips["GBPUSD"] == 0.9
    assert profile.spread_pips["USDJPY"] == 0.8
    assert profile.slippage.model_dump() == {
        "base_pips": 0.1, "atr_k": 0.5, "base_bps": 0.0, "atr_k_bps": 0.0, "spike_tr_atr": 1.5, "spike_mult": 2.0
    }
    assert profile.scenarios == DEFAULT_SCENARIOS


@pytest.mark.parametrize("name", ["default", "retail_ecn"])
def test_bundled_profiles_price_every_bundled_symbol(name: str) -> None:
    profile = load_broker(name)
    for symbol in instruments.all_instruments():
        assert profile.spread_for(symbol) > 0


def test_zero_profile_costs_nothing_for_any_symbol() -> None:
    profile = load_broker("zero")
    assert profile.spread_for("EURUSD") == 0.0
    assert profile.spread_for("BTCUSDT") == 0.0
    assert profile.commission_per_lot == 0.0
    assert profile.slippage.base_pips == 0.0 and profile.slippage.atr_k == 0.0


def test_retail_profile_charges_commission() -> None:
    assert load_broker("retail_ecn").commission_per_lot > 0


def test_a_mapping_of_the_same_shape_is_accepted() -> None:
    profile = load_broker({"name": "mine", "spread_pips": {"EURUSD": 1.5}, "commission_per_lot": 3.0})
    assert profile.spread_for("EURUSD") == 1.5
    assert profile.scenarios == DEFAULT_SCENARIOS  # scenarios are optional


def test_a_profile_instance_passes_through() -> None:
    profile = BrokerProfile(spread_pips={"*": 1.0})
    assert load_broker(profile) is profile


def test_a_path_to_a_yaml_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "mybroker.yaml"
    path.write_text("spread_pips: {EURUSD: 0.4}\nslippage: {base_pips: 0.2}\n", encoding="utf-8")
    profile = load_broker(str(path))
    assert profile.name == "mybroker"
    assert profile.slippage.base_pips == 0.2


def test_unknown_profile_lists_the_profiles() -> None:
    message = r"unknown broker profile 'defualt'; did you mean 'default'.*Known:.*zero"
    with pytest.raises(UnknownNameError, match=message):
        load_broker("defualt")


def test_missing_symbol_names_profile_symbol_and_fix() -> None:
    profile = load_broker({"name": "fx_only", "spread_pips": {"EURUSD": 0.7}})
    with pytest.raises(ConfigError, match=r"'fx_only' has no spread for symbol 'XAUUSD'.*add 'XAUUSD: <pips>'"):
        profile.spread_for("XAUUSD")


def test_unknown_scenario_is_an_error_listing_the_scenarios() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown cost scenario.*'D'.*Known: A, B, C"):
        resolve_scenarios(load_broker("default"), ("A", "D"))


def test_profiles_may_define_their_own_scenarios() -> None:
    profile = load_broker({"spread_pips": {"*": 1.0}, "scenarios": {"STRESS": {"spread_mult": 3.0}}})
    assert resolve_scenarios(profile, ["STRESS"])[0].spread_mult == 3.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"spread_pips": {"EURUSD": -1.0}}, r"spread_pips"),
        ({"spread_pips": {}, "commision_per_lot": 1.0}, r"commision_per_lot=1.0: Extra inputs"),
        ({"spread_pips": {}, "slippage": {"base_pips": "x"}}, r"slippage.base_pips"),
        ({"spread_pips": {}, "scenarios": {"A": {"spikes": "sometimes"}}}, r"scenarios.A.spikes"),
    ],
)
def test_bad_profile_fields_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_broker(raw)


def test_a_name_with_a_path_separator_is_refused() -> None:
    with pytest.raises(TradeScanError, match="invalid broker profile name"):
        load_broker("../default")


# ---- spreads and slippage in bps, percent commissions (issue 9) ---------------------------------------


def test_spread_in_pips_or_bps_per_symbol() -> None:
    profile = load_broker({"name": "mixed", "spread_pips": {"EURUSD": 0.7}, "spread_bps": {"BTCUSDT": 1.5, "*": 3.0}})
    assert profile.symbol_spread("EURUSD") == (0.7, 0.0)
    assert profile.symbol_spread("BTCUSDT") == (0.0, 1.5)
    assert profile.symbol_spread("ETHUSDT") == (0.0, 3.0)  # the bps wildcard
    assert profile.spread_for("BTCUSDT") == 0.0  # the pip part only


def test_a_symbol_with_a_spread_in_both_units_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"spread_pips and spread_bps both give a spread for 'BTCUSDT'"):
        load_broker({"name": "x", "spread_pips": {"BTCUSDT": 1.0}, "spread_bps": {"BTCUSDT": 1.0}})


def test_missing_spread_names_both_units() -> None:
    with pytest.raises(ConfigError, match=r"no spread for symbol 'SOLUSDT'.*spread_pips or .*spread_bps"):
        load_broker({"name": "x", "spread_bps": {"BTCUSDT": 1.0}}).symbol_spread("SOLUSDT")


def test_commission_pct_and_maker_rate() -> None:
    taker_only = load_broker({"name": "t", "commission_pct": 0.001})
    assert taker_only.maker_pct == 0.001
    both = load_broker({"name": "tm", "commission_pct": 0.001, "maker_commission_pct": 0.0002})
    assert both.maker_pct == 0.0002
    with pytest.raises(ConfigError, match=r"commission_pct=-0.1"):
        load_broker({"name": "bad", "commission_pct": -0.1})
    with pytest.raises(ConfigError, match=r"commission_pct=1.5"):
        load_broker({"name": "bad", "commission_pct": 1.5})


def test_slippage_per_symbol_overrides_the_profile() -> None:
    profile = load_broker(
        {"name": "s", "slippage": {"base_pips": 0.1}, "slippage_by_symbol": {"BTCUSDT": {"base_bps": 2.0}}}
    )
    assert profile.slippage_for("EURUSD").base_pips == 0.1
    assert profile.slippage_for("BTCUSDT").model_dump()["base_bps"] == 2.0
    assert profile.slippage_for("BTCUSDT").base_pips == 0.0
