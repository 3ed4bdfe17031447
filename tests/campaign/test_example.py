"""The bundled example campaign: its universe file and, once the sweep runs guards, the campaign itself."""

from __future__ import annotations

import pytest

from tradescan.campaign import load_campaign
from tradescan.campaign.load import sweep_has_guards
from tradescan.errors import ConfigError
from tradescan.paths import BUNDLED_DIR
from tradescan.yaml_files import read_yaml

EXAMPLE = "configs/campaigns/example.yaml"


def test_bundled_synthetic_universe_is_known_to_the_default_broker() -> None:
    tiers = read_yaml(BUNDLED_DIR / "configs/universes/synthetic.yaml", what="universe file")
    assert tiers == {"tier1": ["EURUSD", "GBPUSD"], "tier2": ["USDJPY", "AUDUSD"]}
    spreads = read_yaml(BUNDLED_DIR / "configs/brokers/default.yaml", what="broker")["spread_pips"]
    assert all(symbol in spreads for symbols in tiers.values() for symbol in symbols)


@pytest.mark.skipif(sweep_has_guards(), reason="the sweep has a guard stage: the example loads")
def test_example_says_it_waits_for_the_guard_stage() -> None:
    with pytest.raises(ConfigError, match=r"^example\.yaml: phases\.validate\.guards: this install's sweep has no "):
        load_campaign(EXAMPLE)


@pytest.mark.skipif(not sweep_has_guards(), reason="waits for the guard stage (branch guardstage): the example's "
                    "validate phase runs guards: validate")
def test_example_resolves_from_any_folder() -> None:
    campaign = load_campaign(EXAMPLE)
    assert [(m.symbol, m.tier) for m in campaign.members] == [
        ("EURUSD", "tier1"), ("GBPUSD", "tier1"), ("USDJPY", "tier2"), ("AUDUSD", "tier2")]
    assert (campaign.spec.data.source, campaign.spec.data.bars) == ("synth", 8000)
    screen, validate = campaign.spec.phases.screen, campaign.spec.phases.validate_
    assert validate is not None
    assert campaign.phase_directive("screen", screen, campaign.symbols).search.trials == 48
    assert campaign.phase_directive("validate", validate, ("EURUSD",)).guards.preset == "validate"  # type: ignore[attr-defined]
