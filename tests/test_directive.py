"""Directive parsing: defaults, every bad field named with its dotted path, universes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradescan.directive import Directive, load_directive, parse_directive
from tradescan.errors import ConfigError
from tradescan.paths import CONFIGS_DIR

MINIMAL = {"name": "T", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD"], "timeframe": "H1"}


def test_defaults_are_filled() -> None:
    directive = parse_directive(MINIMAL)
    assert directive.search.sampler == "tpe" and directive.search.trials == 200
    assert directive.stage1.scenario == "B" and directive.stage1.objective == "sharpe"
    assert directive.stage1.penalty_weight == 1.0  # the objective's own scale
    assert directive.stage2.scenarios == ("A", "B", "C")
    assert directive.max_hold_bars == 96 and directive.stops_from == "fill" and directive.batch_size == 32
    assert directive.scenarios_needed == ("B", "A", "C")


def test_directive_is_frozen() -> None:
    directive = parse_directive(MINIMAL)
    with pytest.raises(Exception, match="frozen"):
        directive.name = "X"  # type: ignore[misc]


def test_bad_value_names_the_dotted_path_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "quickstart.yaml"
    path.write_text("name: T\nstrategy: S\nsymbols: [EURUSD]\ntimeframe: H1\nsearch: {trials: -5}\n")
    expected = r"^quickstart\.yaml: search\.trials: Input should be greater than 0 \(got -5\)"
    with pytest.raises(ConfigError, match=expected):
        load_directive(path)


def test_every_bad_field_is_named_at_once() -> None:
    raw = {**MINIMAL, "timeframe": "H7", "search": {"trials": 0, "samplr": "tpe"}, "stage1": {"objective": "sharp"},
           "capital": {"risk_per_trade": 2}, "stops_from": "open", "extra": 1}
    with pytest.raises(ConfigError) as caught:
        parse_directive(raw, label="d.yaml")
    message = str(caught.value)
    for expected in ("timeframe: unknown timeframe 'H7'", "search.trials:", "search.samplr: unknown field 'samplr'; "
                     "did you mean 'sampler'?", "stage1.objective: unknown objective 'sharp'; did you mean 'sharpe'?",
                     "capital.risk_per_trade:", "stops_from:", "extra: unknown field"):
        assert expected in message
    assert "\n" not in message


def test_a_typo_inside_an_optional_section_gets_its_suggestion() -> None:
    # guards: is GuardSettings | None; its fields must still be found for "did you mean"
    raw = {**MINIMAL, "guards": {"preset": "validate", "walk_forward": {"trial_per_fold": 20}}}
    with pytest.raises(ConfigError) as caught:
        parse_directive(raw, label="d.yaml")
    assert ("guards.walk_forward.trial_per_fold: unknown field 'trial_per_fold'; did you mean 'trials_per_fold'? "
            "(known: folds, train_fraction, anchored, trials_per_fold)") in str(caught.value)


def test_cross_field_rules() -> None:
    with pytest.raises(ConfigError, match=r"end \(2019-01-01\) must be after start \(2020-01-01\)"):
        parse_directive({**MINIMAL, "start": "2020-01-01", "end": "2019-01-01"})
    with pytest.raises(ConfigError, match=r"sampler 'grid' needs search\.preset"):
        parse_directive({**MINIMAL, "search": {"sampler": "grid"}})
    with pytest.raises(ConfigError, match="symbols must not repeat"):
        parse_directive({**MINIMAL, "symbols": ["EURUSD", "EURUSD"]})
    with pytest.raises(ConfigError, match=r"invalid symbol '\.\./x'"):
        parse_directive({**MINIMAL, "symbols": ["../x"]})


def test_max_hold_bars_may_be_null_and_broker_a_mapping() -> None:
    directive = parse_directive({**MINIMAL, "max_hold_bars": None, "broker": {"spread_pips": {"EURUSD": 1.0}}})
    assert directive.max_hold_bars is None and isinstance(directive.broker, dict)
    with pytest.raises(ConfigError, match=r"broker: broker must be a profile name or a mapping"):
        parse_directive({**MINIMAL, "broker": 3})


def test_universe_tiers_expand(tmp_path: Path) -> None:
    directive = parse_directive({**MINIMAL, "symbols": {"universe": "configs/universes/fx.yaml#tier1"}})
    assert directive.symbols == ("EURUSD", "GBPUSD", "USDJPY", "AUDUSD")
    mixed = parse_directive({**MINIMAL, "symbols": ["XAUUSD", "universe: configs/universes/fx.yaml#tier2"]})
    assert mixed.symbols[0] == "XAUUSD" and "USDCAD" in mixed.symbols
    with pytest.raises(ConfigError, match=r"unknown tier of fx\.yaml 'tier9'"):
        parse_directive({**MINIMAL, "symbols": {"universe": "configs/universes/fx.yaml#tier9"}})


@pytest.mark.parametrize("path", sorted((CONFIGS_DIR / "directives").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_directives_are_valid(path: Path) -> None:
    assert isinstance(load_directive(path), Directive)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp, r"is a folder; give the path of the directive file"),
        (lambda tmp: _write_bytes(tmp / "bin.yaml", b"\x7fELF\xd0\xff"), r"bin.yaml: not a text file"),
        (lambda tmp: tmp / "absent.yaml", r"absent.yaml: directive file not found"),
        (lambda tmp: _write_bytes(tmp / "broken.yaml", b"name: X\nstrategy: [\n"), r"broken.yaml: not valid YAML"),
    ],
)
def test_unreadable_directive_files_are_one_config_error(tmp_path, make, message) -> None:
    from tradescan.directive import load_directive
    from tradescan.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        load_directive(make(tmp_path))


def _write_bytes(path, payload: bytes):
    path.write_bytes(payload)
    return path


def test_the_directive_produces_its_backtest_config(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nspread_pips: {EURUSD: 1.1}\n", encoding="utf-8")
    directive = parse_directive({**MINIMAL, "broker": "mine.yaml", "max_hold_bars": None, "stops_from": "signal_close",
                                 "capital": {"initial": 5000}, "regime": {"window": 200}})
    config = directive.backtest_config(base_dir=tmp_path)  # a relative broker path is found beside the directive
    assert config.broker.name == "mine" and config.broker.spread_pips == {"EURUSD": 1.1}
    assert config.scenarios == ("B", "A", "C")  # stage 1's first, then stage 2's
    assert (config.max_hold_bars, config.stops_from, config.capital.initial) == (None, "signal_close", 5000.0)
    assert config.regime.window == 200 and config.intrabar == "stop_first"


def test_a_scenario_the_broker_lacks_names_the_directive_field() -> None:
    broker = {"spread_pips": {"EURUSD": 1.0}, "scenarios": {"A": {}, "B": {}}}
    with pytest.raises(ConfigError, match=r"^stage2\.scenarios: unknown cost scenario of broker 'custom' 'C'"):
        parse_directive({**MINIMAL, "broker": broker}).backtest_config()
    with pytest.raises(ConfigError, match=r"^stage1\.scenario: unknown cost scenario of broker 'custom' 'X'"):
        parse_directive({**MINIMAL, "broker": broker, "stage1": {"scenario": "X"},
                         "stage2": {"scenarios": ["A"]}}).backtest_config()
    with pytest.raises(ConfigError, match=r"^broker: unknown broker profile 'nobroker'"):
        parse_directive({**MINIMAL, "broker": "nobroker"}).backtest_config()


def test_a_long_bad_value_is_cut_in_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_directive({**MINIMAL, "max_hold_bars": "y" * 100_000})
    message = str(caught.value)
    assert len(message) < 300 and "(100,000 characters)" in message and "\n" not in message
