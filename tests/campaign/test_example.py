"""The bundled example campaign: its universe file and, once the sweep runs guards, the campaign itself."""

from __future__ import annotations

from tradescan.campaign import load_campaign
from tradescan.paths import BUNDLED_DIR
from tradescan.yaml_files import read_yaml

EXAMPLE = "configs/campaigns/example.yaml"


def test_bundled_synthetic_universe_is_known_to_the_default_broker() -> None:
    tiers = read_yaml(BUNDLED_DIR / "configs/universes/synthetic.yaml", what="universe file")
    assert tiers == {"tier1": ["EURUSD", "GBPUSD"], "tier2": ["USDJPY", "AUDUSD"]}
    spreads = read_yaml(BUNDLED_DIR / "configs/brokers/default.yaml", what="broker")["spread_pips"]
    assert all(symbol in spreads for symbols in tiers.values() for symbol in symbols)


def test_example_resolves_from_any_folder() -> None:
    campaign = load_campaign(EXAMPLE)
    assert [(m.symbol, m.tier) for m in campaign.members] == [
        ("EURUSD", "tier1"), ("GBPUSD", "tier1"), ("USDJPY", "tier2"), ("AUDUSD", "tier2")]
    assert (campaign.spec.data.source, campaign.spec.data.bars) == ("synth", 8000)
    screen, validate = campaign.spec.phases.screen, campaign.spec.phases.validate_
    assert validate is not None
    assert campaign.phase_directive("screen", screen, campaign.symbols).search.trials == 48
    assert campaign.phase_directive("validate", validate, ("EURUSD",)).guards.preset == "validate"  # type: ignore[attr-defined]
