"""``BacktestConfig``: one declaration of the backtest settings, resolved once, used by every layer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from engine_helpers import random_walk_frame

import tradescan
from tradescan.cli.common import json_safe
from tradescan.engine import BacktestConfig, BacktestSession, CapitalConfig, backtest, load_broker
from tradescan.engine.config import UNSET, config_fields, scenario_names_problem
from tradescan.errors import ConfigError, TradeScanError
from tradescan.paths import CONFIGS_DIR
from tradescan.regime import RegimeSettings

S1 = "S1_TREND_EMA_ATR_ADX"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_walk_frame(2500, seed=4)


def test_defaults_are_declared_once_and_the_broker_is_resolved() -> None:
    config = BacktestConfig.resolve()
    assert config.broker == load_broker("default") and config.broker.spread_pips["EURUSD"] == 0.7
    assert config.scenarios == ("A", "B", "C")
    assert (config.max_hold_bars, config.stops_from, config.intrabar) == (96, "fill", "stop_first")
    assert config.capital == CapitalConfig() and config.regime == RegimeSettings()
    assert BacktestConfig() == config  # the constructor resolves the default broker too
    assert config_fields() == ("capital", "max_hold_bars", "stops_from", "regime", "intrabar", "broker", "scenarios")


def test_resolve_reads_names_paths_mappings_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nspread_pips: {EURUSD: 1.5}\n", encoding="utf-8")
    assert BacktestConfig.resolve(broker=str(path)).broker.spread_pips == {"EURUSD": 1.5}
    assert BacktestConfig.resolve(broker="mine.yaml", base_dir=tmp_path).broker.name == "mine"
    mapping = BacktestConfig.resolve(broker={"name": "inline", "spread_pips": {"*": 0.1}})
    assert mapping.broker.spread_for("XAUUSD") == 0.1

    base = BacktestConfig.resolve(broker="zero", max_hold_bars=12, capital={"initial": 500})
    changed = BacktestConfig.resolve(base, scenarios=["B"], max_hold_bars=None)
    assert (changed.broker.name, changed.capital.initial, changed.scenarios) == ("zero", 500.0, ("B",))
    assert changed.max_hold_bars is None  # None is "no time stop", not "the default"
    kept = BacktestConfig.resolve(base, capital=None, regime=None, broker=None, stops_from=UNSET)
    assert kept is base  # None for broker/capital/regime and UNSET keep the base


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"scenarios": ("B", "B")}, "scenarios=('B', 'B'): scenarios must not repeat a name, got ['B', 'B']"),
        ({"scenarios": ()}, "scenarios=(): scenarios must name at least one cost scenario, e.g. ('A', 'B', 'C')"),
        ({"scenarios": ("A", "a b")}, "scenarios.1='a b': scenario names are 1-32 letters/digits/_ such as 'A'"),
        ({"scenarios": ("A", "D")}, "scenarios=('A', 'D'): unknown cost scenario of broker 'default' 'D'. Known: A"),
        ({"max_hold_bars": True}, "max_hold_bars=True: expected an integer, got true"),
        ({"max_hold_bars": 0}, "max_hold_bars=0: Input should be greater than 0"),
        ({"intrabar": "open_first"}, "intrabar='open_first': Input should be 'stop_first' or 'tradingview'"),
        ({"broker": 3}, "broker=3: broker must be a profile name or a mapping (or a profile file path), got 3"),
        ({"broker": {"spread_pips": {"EURUSD": True}}}, "broker.spread_pips={'EURUSD': True}: 'EURUSD': expected a"),
        ({"capital": {"risk_per_trade": False}}, "capital.risk_per_trade=False: expected a number, got false"),
        ({"max_hold": 5}, "max_hold=5: Extra inputs are not permitted"),
    ],
)
def test_every_check_is_one_line_naming_the_field_and_value(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BacktestConfig.resolve(label="best.yaml", **settings)
    assert str(caught.value).startswith(f"best.yaml: {message}") and "\n" not in str(caught.value)


def test_several_faults_are_named_together() -> None:
    with pytest.raises(ConfigError) as caught:
        BacktestConfig.resolve(max_hold_bars=True, stops_from="open", scenarios=["A", "A"])
    assert str(caught.value) == (
        "max_hold_bars=True: expected an integer, got true; stops_from='open': Input should be 'fill' or "
        "'signal_close'; scenarios=['A', 'A']: scenarios must not repeat a name, got ['A', 'A']"
    )


def test_scenario_names_problem_is_the_one_rule() -> None:
    assert scenario_names_problem(("A", "B")) is None
    assert scenario_names_problem(("A", "A")) == "scenarios must not repeat a name, got ['A', 'A']"
    assert scenario_names_problem(()) == "scenarios must name at least one cost scenario, e.g. ('A', 'B', 'C')"


def test_the_config_is_frozen() -> None:
    config = BacktestConfig.resolve()
    with pytest.raises(Exception, match="frozen"):
        config.max_hold_bars = 5  # type: ignore[misc]


def test_record_round_trips_through_json_and_yaml_with_the_full_profile() -> None:
    config = BacktestConfig.resolve(broker={"name": "x", "spread_pips": {"*": 1.0}}, scenarios=("C",))
    assert math.isinf(config.broker.slippage.spike_tr_atr)
    record = json.loads(json.dumps(json_safe(config.record())))  # a manifest writes inf as "inf"
    assert record["broker"]["slippage"]["spike_tr_atr"] == "inf"
    assert BacktestConfig.resolve(record) == config


def test_backtest_takes_a_config_and_keywords_override_it(frame: pd.DataFrame) -> None:
    config = BacktestConfig.resolve(broker="zero", scenarios=("A",), max_hold_bars=None, stops_from="signal_close")
    with_config = backtest(frame, S1, {"ema_fast": 10}, symbol="EURUSD", config=config)
    with_keywords = backtest(frame, S1, {"ema_fast": 10}, symbol="EURUSD", broker="zero", scenarios=("A",),
                             max_hold_bars=None, stops_from="signal_close")
    assert with_config.metrics == with_keywords.metrics and with_config.metrics["A"]["trades"] > 0
    pd.testing.assert_frame_equal(with_config.trades, with_keywords.trades)
    overridden = backtest(frame, S1, {"ema_fast": 10}, symbol="EURUSD", config=config, scenarios=("B",))
    assert list(overridden.metrics) == ["B"] and overridden.settings["broker"] == "zero"
    assert overridden.settings["max_hold_bars"] is None and overridden.settings["stops_from"] == "signal_close"


def test_the_session_takes_the_config_or_its_fields(frame: pd.DataFrame) -> None:
    bars = tradescan.engine.api.as_bars(frame, "EURUSD")
    config = BacktestConfig.resolve(broker="zero", scenarios=("A", "B"))
    by_config = BacktestSession(bars, config)
    by_fields = BacktestSession(bars, broker="zero", scenarios=("A", "B"))
    assert by_config.config == by_fields.config == config
    assert by_config.evaluate(S1, {}) == by_fields.evaluate(S1, {})


def test_the_intrabar_setting_reaches_the_kernel(frame: pd.DataFrame) -> None:
    bars = tradescan.engine.api.as_bars(frame, "EURUSD")
    session = BacktestSession(bars, BacktestConfig.resolve(intrabar="tradingview"))
    assert session.intrabar == "tradingview" and session.settings()["intrabar"] == "tradingview"
    assert session._rules.intrabar == 1  # INTRABAR_NAMES.index("tradingview")
    with pytest.raises(TradeScanError, match=r"intrabar"):
        BacktestConfig.resolve(intrabar="bar_magnifier")


def test_an_edited_broker_file_is_seen_and_an_unchanged_one_parsed_once(tmp_path: Path) -> None:
    path = tmp_path / "edited.yaml"
    text = (CONFIGS_DIR / "brokers" / "default.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first = load_broker(str(path))
    assert load_broker(str(path)) is first  # parsed once while the text is the same
    path.write_text(text.replace("EURUSD: 0.7", "EURUSD: 0.9"), encoding="utf-8")  # same size, same second
    assert load_broker(str(path)).spread_pips["EURUSD"] == 0.9
    assert BacktestConfig.resolve(broker=str(path)).broker.spread_pips["EURUSD"] == 0.9


def test_a_missing_profile_file_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"broker profile file 'nope\.yaml' not found \(looked for nope\.yaml or "):
        load_broker("nope.yaml", base_dir=tmp_path)
