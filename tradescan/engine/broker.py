"""Broker cost profiles: spreads per symbol, slippage model, commission and cost scenarios.

A profile is a YAML file in ``configs/brokers/`` (DESIGN §11) or a mapping of the same shape. The
scenarios A/B/C stress the same profile (wider spreads, more slippage, spikes); a profile may override
them or add its own. Spreads are in pips of each symbol; the key ``"*"`` gives a spread for any symbol
not listed (the ``zero`` profile uses it), so a missing symbol is an error only when there is no ``*``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, describe_validation_error, did_you_mean
from tradescan.paths import CONFIGS_DIR, lookup_dirs
from tradescan.yaml_files import read_yaml

BUNDLED_BROKERS_DIR = CONFIGS_DIR / "brokers"
ANY_SYMBOL = "*"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SpreadPips = Annotated[float, Field(ge=0)]


class SlippageModel(BaseModel):
    """Slippage per fill in pips: ``base_pips + atr_k * TR[b] / ATR14[b-1]``, spiked above a ratio."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_pips: float = Field(default=0.0, ge=0)
    atr_k: float = Field(default=0.0, ge=0)
    spike_tr_atr: float = Field(default=math.inf, gt=0)
    spike_mult: float = Field(default=1.0, ge=0)


class ScenarioCosts(BaseModel):
    """How one cost scenario stresses the profile (seed ``execution/cost_model.py``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spread_mult: float = Field(default=1.0, ge=0)
    slippage_mult: float = Field(default=1.0, ge=0)
    slippage_add_pips: float = 0.0
    spikes: bool = False


DEFAULT_SCENARIOS: dict[str, ScenarioCosts] = {
    "A": ScenarioCosts(spread_mult=1.0, slippage_mult=1.0, slippage_add_pips=0.0, spikes=False),
    "B": ScenarioCosts(spread_mult=1.3, slippage_mult=1.0, slippage_add_pips=0.3, spikes=False),
    "C": ScenarioCosts(spread_mult=1.6, slippage_mult=1.8, slippage_add_pips=0.0, spikes=True),
}


class BrokerProfile(BaseModel):
    """One broker's costs. ``commission_per_lot`` is in account currency, per lot, per side."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    commission_per_lot: float = Field(default=0.0, ge=0)
    spread_pips: dict[str, SpreadPips] = Field(default_factory=dict)
    slippage: SlippageModel = SlippageModel()
    scenarios: dict[str, ScenarioCosts] = Field(default_factory=lambda: dict(DEFAULT_SCENARIOS))

    def spread_for(self, symbol: str) -> float:
        """Return the spread of ``symbol`` in pips, or raise naming the profile and the fix."""
        if symbol in self.spread_pips:
            return self.spread_pips[symbol]
        if ANY_SYMBOL in self.spread_pips:
            return self.spread_pips[ANY_SYMBOL]
        raise ConfigError(
            f"broker profile {self.name!r} has no spread for symbol {symbol!r}: add "
            f"'{symbol}: <pips>' under spread_pips (or a '\"*\": <pips>' default) in "
            f"configs/brokers/{self.name}.yaml"
        )

    def scenario(self, name: str) -> ScenarioCosts:
        """Return the cost scenario called ``name``, or raise listing the known ones."""
        try:
            return self.scenarios[name]
        except KeyError:
            message = did_you_mean(name, self.scenarios, what=f"cost scenario of broker {self.name!r}")
            raise UnknownNameError(message) from None


def broker_dirs() -> list[Path]:
    """Return the folders searched for profiles, first match wins: ``./configs/brokers``, then bundled.

    The lookup rule of ``tradescan.paths``: a user's ``configs/brokers/NAME.yaml`` hides the bundled
    profile of the same name.
    """
    return lookup_dirs("configs/brokers")


def available_brokers() -> dict[str, Path]:
    """Return every profile file by name; an earlier folder's file hides a later one of the same name."""
    found: dict[str, Path] = {}
    for folder in broker_dirs():
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            found.setdefault(path.stem, path)
    return found


def _profile_from_mapping(raw: Mapping[str, Any], label: str) -> BrokerProfile:
    try:
        return BrokerProfile(**dict(raw))
    except ValidationError as exc:
        raise ConfigError(f"{label}: {describe_validation_error(exc)}") from None
    except TypeError as exc:
        raise ConfigError(f"{label}: not a broker profile mapping: {exc}") from None


def _read_profile_file(path: Path) -> BrokerProfile:
    raw = read_yaml(path, what="broker profile") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with spread_pips, slippage, ... at the top level")
    raw.setdefault("name", path.stem)
    return _profile_from_mapping(raw, str(path))


def load_broker(broker: str | os.PathLike[str] | Mapping[str, Any] | BrokerProfile) -> BrokerProfile:
    """Return a profile from a name in ``configs/brokers/``, a path to a YAML file, or a mapping.

    Raises:
        UnknownNameError: the name is not a profile (the message lists the profiles).
        ConfigError: the file or mapping breaks the profile schema.
    """
    if isinstance(broker, BrokerProfile):
        return broker
    if isinstance(broker, Mapping):
        return _profile_from_mapping(broker, "broker profile mapping")
    text = os.fspath(broker)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _read_profile_file(path)
    if not _PROFILE_NAME.fullmatch(text):
        raise TradeScanError(f"invalid broker profile name {text!r}: use a name from configs/brokers/")
    profiles = available_brokers()
    if text not in profiles:
        raise UnknownNameError(did_you_mean(text, profiles, what="broker profile"))
    return _read_profile_file(profiles[text])


def resolve_scenarios(profile: BrokerProfile, names: tuple[str, ...] | list[str]) -> list[ScenarioCosts]:
    """Return the scenarios named ``names`` in order; an empty or repeated list is an error."""
    if not names:
        raise TradeScanError("scenarios must name at least one cost scenario, e.g. ('A', 'B', 'C')")
    if len(set(names)) != len(names):
        raise TradeScanError(f"scenarios must not repeat a name, got {list(names)}")
    return [profile.scenario(str(name)) for name in names]
