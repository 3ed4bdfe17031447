"""``load_campaign``: read a campaign file into a resolved ``Campaign`` with its id.

Everything a phase depends on is resolved here, once: the universe (symbols and their tiers), the base
directive (validated; its relative file references made absolute so a phase run finds them from any
folder) and the phases. The campaign id hashes that resolved content, so editing a threshold, a budget
or the base directive gives a new campaign, while reordering keys does not.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tradescan.campaign.model import CampaignFile, PhaseName, PhaseSettings
from tradescan.directive import Directive, format_validation_error, parse_directive
from tradescan.errors import ConfigError, did_you_mean
from tradescan.lineage import canonical_json
from tradescan.paths import BUNDLED_DIR, find_file
from tradescan.yaml_files import read_yaml

__all__ = ["Campaign", "Member", "load_campaign", "parse_campaign"]

ID_HEX = 12


@dataclass(frozen=True)
class Member:
    """One symbol of the universe and the tier it was listed under (None for a plain list)."""

    symbol: str
    tier: str | None


@dataclass(frozen=True)
class Campaign:
    """A resolved campaign.

    Attributes:
        campaign_id: ``<name>-<12 hex>`` of the resolved content.
        spec: the file's fields as validated.
        members: the universe in order, each symbol with its tier.
        base: the base directive (its symbols are the whole universe).
        label: the file name used in messages.
    """

    campaign_id: str
    spec: CampaignFile
    members: tuple[Member, ...]
    base: Directive
    label: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(member.symbol for member in self.members)

    def tier_of(self, symbol: str) -> str | None:
        """Return the tier ``symbol`` was listed under."""
        return next((m.tier for m in self.members if m.symbol == symbol), None)

    def phase_directive(self, phase: PhaseName, settings: PhaseSettings, symbols: tuple[str, ...]) -> Directive:
        """Return the ordinary directive phase ``phase`` sweeps: the base with the phase's symbols,
        trial budget and guard stage, named ``<campaign name>_<PHASE>``."""
        fields = self.base.model_dump(mode="json", exclude_none=True)
        fields.update(name=f"{self.name}_{phase.upper()}", symbols=list(symbols))
        fields["search"] = {**fields.get("search", {}), "trials": settings.trials}
        guards = settings.guards_section()
        if guards is not None:
            fields["guards"] = guards
        return parse_directive(fields, label=f"{self.label}: phases.{phase}")


def load_campaign(path: str | os.PathLike[str]) -> Campaign:
    """Read and resolve a campaign file (looked up as given, else among the bundled files).

    Raises:
        ConfigError: one line naming the file, the field, the rule and the value.
    """
    given = Path(path)
    file_path = given if given.exists() else (find_file(given) or given)
    if not file_path.is_file():
        raise ConfigError(f"{given}: campaign file not found")
    raw = read_yaml(file_path, what="campaign file", label=file_path.name)
    return parse_campaign(raw, label=file_path.name, base_dir=file_path.resolve().parent)


def parse_campaign(raw: Any, *, label: str = "campaign", base_dir: Path | None = None) -> Campaign:
    """Validate a campaign mapping and resolve its universe and base directive."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{label}: expected a mapping with name, universe, directive and phases, got {_cut(raw)}")
    try:
        spec = CampaignFile.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(label, exc, CampaignFile)) from None
    members = _members(spec.universe, label, base_dir)
    base = _base_directive(spec, members, label, base_dir)
    content = {"campaign": spec.model_dump(mode="json", by_alias=True, exclude={"directive", "universe"}),
               "members": [[m.symbol, m.tier] for m in members], "base": base.model_dump(mode="json")}
    digest = hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:ID_HEX]
    campaign = Campaign(f"{spec.name}-{digest}", spec, members, base, label)
    for phase, settings in spec.phases.items():
        campaign.phase_directive(phase, settings, campaign.symbols)  # every phase's directive is valid now
    return campaign


def _members(universe: str | tuple[str, ...], label: str, base_dir: Path | None) -> tuple[Member, ...]:
    if isinstance(universe, tuple):
        members = tuple(Member(str(symbol), None) for symbol in universe)
    else:
        members = _universe_file(universe.removeprefix("universe:").strip(), label, base_dir)
    if not members:
        raise ConfigError(f"{label}: universe: lists no symbol")
    symbols = [member.symbol for member in members]
    if len(set(symbols)) != len(symbols):
        raise ConfigError(f"{label}: universe: symbols must not repeat, got {_cut(symbols)}")
    return members


def _universe_file(reference: str, label: str, base_dir: Path | None) -> tuple[Member, ...]:
    file_part, _, tier = reference.partition("#")
    path = find_file(file_part, base_dir)
    if path is None:
        raise ConfigError(f"{label}: universe: universe file {file_part!r} not found")
    tiers = read_yaml(path, what="universe file") or {}
    if not isinstance(tiers, dict) or not all(isinstance(v, list) for v in tiers.values()):
        raise ConfigError(f"{path}: a universe file maps tier names to symbol lists")
    if tier and tier not in tiers:
        raise ConfigError(f"{label}: universe: {did_you_mean(tier, tiers, what=f'tier of {path.name}')}")
    chosen = {tier: tiers[tier]} if tier else tiers
    seen: dict[str, Member] = {}
    for name, symbols in chosen.items():
        for symbol in symbols:
            seen.setdefault(str(symbol), Member(str(symbol), str(name)))
    return tuple(seen.values())


def _base_directive(spec: CampaignFile, members: tuple[Member, ...], label: str, base_dir: Path | None) -> Directive:
    folder: Path | None
    if isinstance(spec.directive, str):
        path = find_file(spec.directive, base_dir)
        if path is None:
            raise ConfigError(f"{label}: directive: directive file {spec.directive!r} not found")
        raw = read_yaml(path, what="directive file", label=path.name)
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path.name}: expected a mapping of directive fields, got {_cut(raw)}")
        fields, where, folder = dict(raw), f"{label}: directive {path.name}", path.resolve().parent
    else:
        fields, where = dict(spec.directive), f"{label}: directive"
        folder = base_dir
    fields["symbols"] = [member.symbol for member in members]
    return parse_directive(_absolute_references(fields, folder), label=where, base_dir=folder)


def _absolute_references(fields: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """Make the directive's own relative files (space, broker file, strategy folders) absolute, so a
    phase directive (a model, with no folder of its own) finds them; bundled references stay as written."""
    search = fields.get("search")
    if isinstance(search, Mapping) and isinstance(search.get("space"), str):
        fields["search"] = {**search, "space": _absolute(search["space"], folder)}
    if isinstance(fields.get("broker"), str) and fields["broker"].endswith((".yaml", ".yml")):
        fields["broker"] = _absolute(fields["broker"], folder)
    if isinstance(fields.get("strategy_paths"), list | tuple):
        fields["strategy_paths"] = [_absolute(str(p), folder) for p in fields["strategy_paths"]]
    return fields


def _absolute(reference: str, folder: Path | None) -> str:
    found = find_file(reference, folder) if folder is not None else None
    if found is None or found.resolve().is_relative_to(BUNDLED_DIR.resolve()):
        return reference
    return str(found.resolve())


def _cut(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
