"""``load_campaign``: the universe with tiers, the base directive, the phase directives, the id, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from campaign_helpers import BASE_DIRECTIVE, write_campaign

from tradescan.campaign import load_campaign, parse_campaign
from tradescan.cli import main

PHASES = {"screen": {"trials": 16, "pass": {"sharpe": "> 0"}}}


def test_universe_file_records_each_symbols_tier(tmp_path: Path) -> None:
    (tmp_path / "u.yaml").write_text("t1: [EURUSD, GBPUSD]\nt2: [USDJPY, EURUSD]\n", encoding="utf-8")
    campaign = load_campaign(write_campaign(tmp_path, universe="u.yaml", phases=PHASES))
    assert [(m.symbol, m.tier) for m in campaign.members] == [("EURUSD", "t1"), ("GBPUSD", "t1"), ("USDJPY", "t2")]
    one_tier = load_campaign(write_campaign(tmp_path, universe="universe: u.yaml#t2", phases=PHASES))
    assert [(m.symbol, m.tier) for m in one_tier.members] == [("USDJPY", "t2"), ("EURUSD", "t2")]


def test_bundled_universe_and_list() -> None:
    campaign = parse_campaign({"name": "C", "universe": "configs/universes/synthetic.yaml#tier2",
                               "directive": dict(BASE_DIRECTIVE), "phases": PHASES})
    assert campaign.symbols == ("USDJPY", "AUDUSD")
    assert campaign.tier_of("AUDUSD") == "tier2"
    listed = parse_campaign({"name": "C", "universe": ["EURUSD"], "directive": dict(BASE_DIRECTIVE), "phases": PHASES})
    assert (listed.symbols, listed.tier_of("EURUSD")) == (("EURUSD",), None)


def test_phase_directive_is_the_base_with_the_phase_budget_and_symbols() -> None:
    campaign = parse_campaign({"name": "C", "universe": ["EURUSD", "GBPUSD"], "directive": dict(BASE_DIRECTIVE),
                               "phases": {"screen": {"trials": 16, "pass": {"sharpe": "> 0"}},
                                          "validate": {"trials": 40, "pass": {"sharpe": "> 1"}}}})
    settings = campaign.spec.phases.validate_
    assert settings is not None
    directive = campaign.phase_directive("validate", settings, ("GBPUSD",))
    assert (directive.name, directive.symbols, directive.search.trials) == ("C_VALIDATE", ("GBPUSD",), 40)
    assert (directive.strategy, directive.search.seed, directive.stage2.top_k) == ("S1_TREND_EMA_ATR_ADX", 5, 2)


def test_base_directive_by_path_with_its_own_search_space(tmp_path: Path) -> None:
    bundled = Path(__file__).parents[2] / "tradescan/bundled/search_spaces/s1_trend_ema_atr_adx.yaml"
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces/mine.yaml").write_text(bundled.read_text(encoding="utf-8"), encoding="utf-8")
    base = {**BASE_DIRECTIVE, "symbols": ["EURUSD"], "search": {"space": "spaces/mine.yaml", "trials": 8}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    campaign = load_campaign(write_campaign(tmp_path, universe=["GBPUSD"], directive="base.yaml", phases=PHASES))
    assert campaign.base.symbols == ("GBPUSD",)  # the universe replaces the base's symbols
    assert campaign.base.search.space == str((tmp_path / "spaces/mine.yaml").resolve())


def test_id_follows_content_not_key_order() -> None:
    body = {"name": "C", "universe": ["EURUSD"], "directive": dict(BASE_DIRECTIVE), "phases": PHASES}
    reordered = dict(reversed(list(body.items())))
    assert parse_campaign(body).campaign_id == parse_campaign(reordered).campaign_id
    assert parse_campaign(body).campaign_id.startswith("C-")
    stricter = {**body, "phases": {"screen": {"trials": 16, "pass": {"sharpe": "> 0.1"}}}}
    assert parse_campaign(stricter).campaign_id != parse_campaign(body).campaign_id
    other_base = {**body, "directive": {**BASE_DIRECTIVE, "stage2": {"top_k": 3}}}
    assert parse_campaign(other_base).campaign_id != parse_campaign(body).campaign_id


BAD_FILES = [
    ({"name": None}, r"name: Input should be a valid string"),
    ({"phases": {"screen": {"trials": 8, "pass": {"sharpe": "> 0"}}, "valdate": {}}},
     r"phases: unknown phase 'valdate'; did you mean 'validate'"),
    ({"phases": {"screen": {"trials": 0, "pass": {"sharpe": "> 0"}}}},
     r"phases\.screen\.trials: Input should be greater than 0 \(got 0\)"),
    ({"phases": {"screen": {"trials": True, "pass": {"sharpe": "> 0"}}}},
     r"phases\.screen\.trials: expected an integer, got true"),
    ({"phases": {"screen": {"trials": 8, "pass": {"sharpe": "0.8"}}}},
     r'phases\.screen\.pass: a condition is written "<op> <number>"'),
    ({"phases": {"screen": {"trials": 8, "pass": {"sharp": "> 1"}}}},
     r"phases\.screen\.pass: unknown pass-rule name 'sharp'; did you mean 'sharpe'"),
    ({"phases": {"screen": {"trials": 8, "pass": {"wfe": "> 0.5"}}}},
     r"phases\.screen: the pass rule reads guard results, so the phase needs guards"),
    ({"universe": "configs/universes/synthetic.yaml#tier9"},
     r"universe: unknown tier of synthetic\.yaml 'tier9'; did you mean .*Known: tier1, tier2"),
    ({"universe": "nowhere.yaml"}, r"universe: universe file 'nowhere\.yaml' not found"),
    ({"universe": ["EURUSD", "EURUSD"]}, r"universe: symbols must not repeat"),
    ({"directive": "missing.yaml"}, r"directive: directive file 'missing\.yaml' not found"),
    ({"directive": {**BASE_DIRECTIVE, "strategy": "S9_NOPE"}}, r"directive: strategy: unknown strategy 'S9_NOPE'"),
    ({"directive": {**BASE_DIRECTIVE, "serach": {}}},
     r"directive: serach: unknown field 'serach'; did you mean 'search'"),
    ({"data": {"source": "web"}}, r"data\.source: Input should be 'store' or 'synth'"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_FILES)
def test_bad_campaign_file_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: dict[str, object], message: str,
) -> None:
    path = write_campaign(tmp_path, "bad", **fields)
    assert main(["campaign", str(path), "--results-dir", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("tradescan: error: bad.yaml: "), err
    assert __import__("re").search(message, err), err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", r"bad\.yaml: expected a mapping with name, universe, directive and phases"),
    ("name: [unclosed\n", r"bad\.yaml"),
])
def test_campaign_file_that_is_not_a_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str,
) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    assert main(["campaign", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and __import__("re").search(message, err), err


def test_missing_campaign_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["campaign", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err == f"tradescan: error: {tmp_path / 'none.yaml'}: campaign file not found\n"


def test_campaign_without_name_or_directive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"universe": ["EURUSD"], "phases": PHASES}), encoding="utf-8")
    assert main(["campaign", str(tmp_path / "bad.yaml")]) == 2
    assert capsys.readouterr().err == (
        "tradescan: error: bad.yaml: name: Field required; directive: Field required\n")
