"""Broker cost profiles: spreads per symbol, slippage model, commission and cost scenarios.

A profile is a YAML file in ``configs/brokers/`` (DESIGN §11) or a mapping of the same shape. The
scenarios A/B/C stress the same profile (wider spreads, more slippage, spikes); a profile may override
them or add its own. Spreads are in pips of each symbol; the key ``"*"`` gives a spread for any symbol
not listed (the ``zero`` profile uses it), so a missing symbol is an error only when there is no ``*``.

``load_broker`` parses a file once per content: reading a small file costs microseconds, parsing it with
PyYAML milliseconds (once most of a 100k-bar backtest), and comparing the text means an edit is seen
at once, whatever the file system's time resolution.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, describe_validation_error, did_you_mean
from tradescan.frozen import FrozenModel
from tradescan.paths import CONFIGS_DIR, lookup_dirs
from tradescan.yaml_files import parse_yaml, read_text

BUNDLED_BROKERS_DIR = CONFIGS_DIR / "brokers"
ANY_SYMBOL = "*"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SpreadPips = Annotated[float, Field(ge=0)]


class SlippageModel(FrozenModel):
    """Slippage per fill in pips: ``base_pips + atr_k * TR[b] / ATR14[b-1]``, spiked above a ratio."""

    base_pips: float = Field(default=0.0, ge=0)
    atr_k: float = Field(default=0.0, ge=0)
    spike_tr_atr: float = Field(default=math.inf, gt=0)
    spike_mult: float = Field(default=1.0, ge=0)


class ScenarioCosts(FrozenModel):
    """How one cost scenario stresses the profile (seed ``execution/cost_model.py``)."""

    spread_mult: float = Field(default=1.0, ge=0)
    slippage_mult: float = Field(default=1.0, ge=0)
    slippage_add_pips: float = 0.0
    spikes: bool = False


DEFAULT_SCENARIOS: dict[str, ScenarioCosts] = {
    "A": ScenarioCosts(spread_mult=1.0, slippage_mult=1.0, slippage_add_pips=0.0, spikes=False),
    "B": ScenarioCosts(spread_mult=1.3, slippage_mult=1.0, slippage_add_pips=0.3, spikes=False),
    "C": ScenarioCosts(spread_mult=1.6, slippage_mult=1.8, slippage_add_pips=0.0, spikes=True),
}


class BrokerProfile(FrozenModel):
    """One broker's costs. ``commission_per_lot`` is in account currency, per lot, per side."""

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


# Parsed profile files by absolute path, with the text they were parsed from (one entry per file).
_PARSED: dict[str, tuple[str, BrokerProfile]] = {}


def _read_profile_file(path: Path) -> BrokerProfile:
    """Return the profile in ``path``, parsed once per content of the file (an edit is seen at once)."""
    text = read_text(path, what="broker profile")
    key = os.path.abspath(path)
    cached = _PARSED.get(key)
    if cached is not None and cached[0] == text:
        return cached[1]
    raw = parse_yaml(text, label=str(path)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with spread_pips, slippage, ... at the top level")
    raw.setdefault("name", path.stem)
    profile = _profile_from_mapping(raw, str(path))
    _PARSED[key] = (text, profile)
    return profile


def _named_profile_file(name: str) -> Path | None:
    # The first folder wins, as in available_brokers; no directory listing on the hot path.
    for folder in broker_dirs():
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _profile_path(text: str, base_dir: Path | None) -> Path:
    path = Path(text)
    candidates = [path] if path.is_absolute() or base_dir is None else [path, base_dir / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = " or ".join(str(c) for c in candidates)
    raise ConfigError(f"broker profile file {text!r} not found (looked for {where})")


def load_broker(
    broker: str | os.PathLike[str] | Mapping[str, Any] | BrokerProfile, *, base_dir: Path | None = None
) -> BrokerProfile:
    """Return a profile from a name in ``configs/brokers/``, a path to a YAML file, or a mapping.

    A file is parsed once per content: later calls read it and return the same ``BrokerProfile`` while
    its text is unchanged (so an edited spread is seen at once).

    Args:
        broker: a profile name, a ``.yaml``/``.yml`` path, a mapping of the profile's shape, or a profile.
        base_dir: a folder a relative path is also looked up in (the directive's folder).

    Raises:
        UnknownNameError: the name is not a profile (the message lists the profiles).
        ConfigError: the file or mapping breaks the profile schema, or the file does not exist.
    """
    if isinstance(broker, BrokerProfile):
        return broker
    if isinstance(broker, Mapping):
        return _profile_from_mapping(broker, "broker profile mapping")
    if not isinstance(broker, str | os.PathLike):
        raise ConfigError(f"broker must be a profile name or a mapping (or a profile file path), got {broker!r}")
    text = os.fspath(broker)
    if Path(text).suffix in (".yaml", ".yml"):
        return _read_profile_file(_profile_path(text, base_dir))
    if not _PROFILE_NAME.fullmatch(text):
        raise TradeScanError(f"invalid broker profile name {text!r}: use a name from configs/brokers/")
    path = _named_profile_file(text)
    if path is None:
        raise UnknownNameError(did_you_mean(text, available_brokers(), what="broker profile"))
    return _read_profile_file(path)


def resolve_scenarios(profile: BrokerProfile, names: tuple[str, ...] | list[str]) -> list[ScenarioCosts]:
    """Return the scenarios named ``names`` in order (``BacktestConfig`` has checked the names)."""
    return [profile.scenario(str(name)) for name in names]
