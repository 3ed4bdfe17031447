"""``CampaignState``: ``results/campaigns/<id>/state.json``, where a campaign stands (written atomically).

The state says, per phase, which run it is (``run_id``), whether that run finished (``complete``) and
what it decided per symbol (``SymbolOutcome``: PASS / FAIL / ERROR with reasons). A re-run reads it:
a complete phase is reused as it is, a phase left ``running`` by a killed process is swept again —
the sweep resumes its own run by run id, keeping the trials already told.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from tradescan.atomic import atomic_write_bytes
from tradescan.campaign.outcome import SymbolOutcome, Verdict
from tradescan.errors import describe_validation_error
from tradescan.frozen import FrozenModel
from tradescan.paths import results_dir as resolve_results_dir
from tradescan.results.errors import ResultsFileError

__all__ = ["STATE_FILE", "CampaignState", "PhaseRecord", "campaign_dir", "read_state", "write_state"]

STATE_FILE = "state.json"
START_OVER = "delete it to start the campaign over"
PhaseStatus = Literal["running", "complete", "skipped"]


class PhaseRecord(FrozenModel):
    """One phase of a campaign: its run, whether it finished and its verdict per symbol."""

    status: PhaseStatus
    run_id: str | None = None
    symbols: tuple[str, ...] = ()
    outcomes: dict[str, SymbolOutcome] = Field(default_factory=dict)
    report: str | None = None

    def with_verdict(self, verdict: Verdict) -> tuple[str, ...]:
        """Return the symbols with ``verdict``, in the phase's order."""
        return tuple(s for s in self.symbols if s in self.outcomes and self.outcomes[s].verdict == verdict)


class CampaignState(FrozenModel):
    """The whole state file (see the module docstring)."""

    campaign_id: str
    name: str
    source: str
    started: dt.datetime
    updated: dt.datetime
    tiers: dict[str, str | None]
    phases: dict[str, PhaseRecord] = Field(default_factory=dict)

    def with_phase(self, phase: str, record: PhaseRecord) -> CampaignState:
        """Return the state with ``phase`` recorded and the update time set to now."""
        return self.model_copy(update={"phases": {**self.phases, phase: record}, "updated": utc_now()})


def utc_now() -> dt.datetime:
    """Return the current UTC time to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def campaign_dir(campaign_id: str, results_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return ``<results>/campaigns/<campaign_id>``."""
    return resolve_results_dir(results_dir) / "campaigns" / campaign_id


def read_state(folder: Path) -> CampaignState | None:
    """Return the state in ``folder`` (None when the campaign never started).

    Raises:
        ResultsFileError: the file is not JSON or breaks the schema (named, with the field).
    """
    path = folder / STATE_FILE
    if not path.exists():
        return None
    try:
        return CampaignState.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsFileError(f"{path}: unreadable campaign state ({exc}); {START_OVER}") from None
    except ValidationError as exc:
        raise ResultsFileError(f"{path}: {describe_validation_error(exc)}; {START_OVER}") from None


def write_state(folder: Path, state: CampaignState) -> None:
    """Write the state atomically (a reader sees the previous state or this one)."""
    payload = json.dumps(state.model_dump(mode="json"), indent=2, allow_nan=False) + "\n"
    atomic_write_bytes(folder / STATE_FILE, payload.encode("utf-8"))
