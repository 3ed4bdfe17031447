"""Campaigns: screen → validate → prod-ready over a universe, and the tracker (DESIGN §7, seed 002).

* ``model``    the campaign file (``CampaignFile``, ``PhaseSettings``, ``DataSettings``);
* ``rule``     ``PassRule``: the conditions that move a symbol on (guards and metric thresholds);
* ``load``     ``load_campaign(path)`` -> ``Campaign`` (universe with tiers, base directive, id);
* ``outcome``  ``judge_symbol``: PASS / FAIL / ERROR of one symbol in one phase run;
* ``state``    ``results/campaigns/<id>/state.json`` (phase -> run id, verdicts), written atomically;
* ``tracker``  ``results/tracker.parquet`` / ``tracker.csv``: one row per campaign x symbol;
* ``synth``    synthetic bars for symbols without data (``data: {source: synth}`` only);
* ``runner``   ``run_campaign(path, workers=, address=, ...)`` -> ``CampaignResult``.
"""

from __future__ import annotations

from tradescan.campaign.load import Campaign, Member, load_campaign, parse_campaign
from tradescan.campaign.model import CampaignFile, DataSettings, PhaseSettings
from tradescan.campaign.outcome import SymbolOutcome, judge_symbol
from tradescan.campaign.rule import Condition, PassRule
from tradescan.campaign.runner import CampaignResult, run_campaign
from tradescan.campaign.state import CampaignState, PhaseRecord, campaign_dir, read_state
from tradescan.campaign.tracker import TRACKER_COLUMNS, read_tracker, tracker_rows, write_tracker

__all__ = [
    "TRACKER_COLUMNS",
    "Campaign",
    "CampaignFile",
    "CampaignResult",
    "CampaignState",
    "Condition",
    "DataSettings",
    "Member",
    "PassRule",
    "PhaseRecord",
    "PhaseSettings",
    "SymbolOutcome",
    "campaign_dir",
    "judge_symbol",
    "load_campaign",
    "parse_campaign",
    "read_state",
    "read_tracker",
    "run_campaign",
    "tracker_rows",
    "write_tracker",
]
