"""The campaign state file: written atomically, read back equal, a damaged one named."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tradescan.campaign import CampaignState, PhaseRecord, SymbolOutcome, read_state
from tradescan.campaign.state import write_state
from tradescan.results.errors import ResultsFileError

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _state() -> CampaignState:
    screen = PhaseRecord(status="running", run_id="C_SCREEN-aaa", symbols=("EURUSD",),
                         outcomes={"EURUSD": SymbolOutcome(verdict="PASS", rank=1, wfe=0.7)})
    return CampaignState(campaign_id="C-0123456789ab", name="C", source="c.yaml", started=NOW, updated=NOW,
                         tiers={"EURUSD": "tier1"}, phases={"screen": screen})


def test_state_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    assert read_state(tmp_path) is None
    write_state(tmp_path, _state())
    assert read_state(tmp_path) == _state()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert json.loads((tmp_path / "state.json").read_text())["phases"]["screen"]["run_id"] == "C_SCREEN-aaa"


def test_damaged_state_is_named(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"state\.json: unreadable campaign state .*delete it to start"):
        read_state(tmp_path)
    document = _state().model_dump(mode="json")
    document["phases"]["screen"]["status"] = "half-done"
    (tmp_path / "state.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"state\.json: phases\.screen\.status='half-done': Input should be"):
        read_state(tmp_path)
