"""The campaign file: a universe, a base directive and the phases (``screen`` → ``validate``).

::

    name: TREND_FX                                  # the phases' run names start with it
    universe: configs/universes/synthetic.yaml      # a list of symbols, or FILE#TIER, or FILE (every tier)
    directive: configs/directives/quickstart.yaml   # the base directive: a path or an inline mapping
    data: {source: synth, bars: 8000, seed: 42}     # optional: synthesise symbols that have no data
    phases:
      screen:   {trials: 40, guards: screen, pass: {wfe: "> 0.5", sharpe_oos: "> 0.8"}}
      validate: {trials: 80, guards: validate, pass: {guards: critical}}

Each phase is an ordinary sweep of the base directive with the phase's symbols, trial budget and guard
preset. ``guards`` is a preset name (``screen`` / ``validate``) or a mapping of the directive's
``guards:`` section; leave it out for a phase without a guard stage.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from tradescan.campaign.rule import PassRule
from tradescan.errors import did_you_mean
from tradescan.frozen import FrozenModel

__all__ = ["NAME_PATTERN", "PHASES", "CampaignFile", "DataSettings", "PhaseName", "PhaseSettings", "Phases"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$"
PhaseName = Literal["screen", "validate"]
PHASES: tuple[PhaseName, ...] = ("screen", "validate")


class PhaseSettings(FrozenModel):
    """One phase: its trial budget, its guard stage (a preset or a ``guards:`` mapping) and pass rule."""

    trials: int = Field(gt=0, le=10_000_000)
    guards: Literal["screen", "validate"] | dict[str, Any] | None = None
    pass_rule: PassRule = Field(alias="pass")

    @model_validator(mode="after")
    def _rule_has_its_guards(self) -> PhaseSettings:
        if self.pass_rule.needs_guards and self.guards is None:
            raise ValueError("the pass rule reads guard results, so the phase needs guards: screen|validate")
        return self

    def guards_section(self) -> dict[str, Any] | None:
        """Return the directive's ``guards:`` mapping for this phase (None: no guard stage)."""
        if self.guards is None:
            return None
        return {"preset": self.guards} if isinstance(self.guards, str) else dict(self.guards)


class Phases(FrozenModel):
    """The phases in order; ``validate`` re-optimises only the symbols ``screen`` passed."""

    screen: PhaseSettings
    validate_: PhaseSettings | None = Field(default=None, alias="validate")

    @model_validator(mode="before")
    @classmethod
    def _known_phases(cls, raw: Any) -> Any:
        # The field is ``validate_`` (``validate`` is a BaseModel method); name the phases as written.
        for name in raw if isinstance(raw, dict) else ():
            if name not in PHASES:
                raise ValueError(did_you_mean(str(name), PHASES, what="phase") + " (phases run in that order)")
        return raw

    def items(self) -> list[tuple[PhaseName, PhaseSettings]]:
        """Return ``(name, settings)`` of every configured phase, in order."""
        found: list[tuple[PhaseName, PhaseSettings]] = [("screen", self.screen)]
        return found + ([("validate", self.validate_)] if self.validate_ is not None else [])


class DataSettings(FrozenModel):
    """Where the bars come from: the data store as it is, or synthesised when a symbol has none."""

    source: Literal["store", "synth"] = "store"
    bars: int = Field(default=20_000, ge=500, le=5_000_000)
    seed: int = Field(default=42, ge=0, le=2**32 - 1)


class CampaignFile(FrozenModel):
    """The campaign file's fields as written (the universe and directive references unresolved)."""

    name: str = Field(pattern=NAME_PATTERN)
    universe: str | tuple[str, ...]
    directive: str | dict[str, Any]
    data: DataSettings = DataSettings()
    phases: Phases
