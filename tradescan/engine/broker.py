"""Broker cost profiles: spreads per symbol, slippage model, commission and cost scenarios.

A profile is a YAML file in ``configs/brokers/`` (DESIGN §11) or a mapping of the same shape. The
scenarios A/B/C stress the same profile (wider spreads, more slippage, spikes); a profile may override
them or add its own. A symbol's spread is given in pips (``spread_pips``, FX and CFDs) or in basis
points of price (``spread_bps``, crypto), never both; the key ``"*"`` gives a spread for any symbol not
listed (the ``zero`` profile uses it), so a missing symbol is an error only when there is no ``*``.
Slippage has a pip part and a basis-point part (``base_pips``/``atr_k`` and ``base_bps``/``atr_k_bps``),
profile-wide or per symbol (``slippage_by_symbol``). Commission is per lot per side
(``commission_per_lot``) and/or a fraction of the notional per side (``commission_pct``, with an
optional lower ``maker_commission_pct`` for target fills, which rest on the book as limit orders).

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
from typing import Annotated, Any, NamedTuple

from pydantic import Field, ValidationError, model_validator

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, describe_validation_error, did_you_mean
from tradescan.frozen import FrozenModel
from tradescan.paths import CONFIGS_DIR, lookup_dirs
from tradescan.yaml_files import parse_yaml, read_text

BUNDLED_BROKERS_DIR = CONFIGS_DIR / "brokers"
ANY_SYMBOL = "*"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SpreadPips = Annotated[float, Field(ge=0)]
SpreadBps = Annotated[float, Field(ge=0)]


class SlippageModel(FrozenModel):
    """Slippage per fill: ``base + atr_k * TR[b] / ATR14[b-1]``, in pips and in bps of price, spiked.

    The pip part (``base_pips``, ``atr_k``) suits FX and CFDs; the basis-point part (``base_bps``,
    ``atr_k_bps``, a fraction 1e-4 of the fill price each) suits crypto, where a pip is one tick of a
    large price. Both parts are paid when both are set.
    """

    base_pips: float = Field(default=0.0, ge=0)
    atr_k: float = Field(default=0.0, ge=0)
    base_bps: float = Field(default=0.0, ge=0)
    atr_k_bps: float = Field(default=0.0, ge=0)
    spike_tr_atr: float = Field(default=math.inf, gt=0)
    spike_mult: float = Field(default=1.0, ge=0)


class ScenarioCosts(FrozenModel):
    """How one cost scenario stresses the profile (seed ``execution/cost_model.py``)."""

    spread_mult: float = Field(default=1.0, ge=0)
    slippage_mult: float = Field(default=1.0, ge=0)
    slippage_add_pips: float = 0.0
    slippage_add_bps: float = 0.0
    spikes: bool = False


DEFAULT_SCENARIOS: dict[str, ScenarioCosts] = {
    "A": ScenarioCosts(spread_mult=1.0, slippage_mult=1.0, slippage_add_pips=0.0, spikes=False),
    "B": ScenarioCosts(spread_mult=1.3, slippage_mult=1.0, slippage_add_pips=0.3, spikes=False),
    "C": ScenarioCosts(spread_mult=1.6, slippage_mult=1.8, slippage_add_pips=0.0, spikes=True),
}


class SymbolSpread(NamedTuple):
    """A symbol's full spread (both sides) as its pip part and its basis-point part; one is 0."""

    pips: float
    bps: float


class BrokerProfile(FrozenModel):
    """One broker's costs (names as in the profile file, DESIGN §11).

    ``commission_per_lot`` is in account currency per lot per side; ``commission_pct`` a fraction of
    the fill's notional in account currency per side (0.001 = 0.1 %, a taker fee), charged on entries,
    stops, signal, time and end-of-data exits; ``maker_commission_pct`` (default: ``commission_pct``)
    on target fills.
    """

    name: str = "custom"
    commission_per_lot: float = Field(default=0.0, ge=0)
    commission_pct: float = Field(default=0.0, ge=0, lt=1)
    maker_commission_pct: float | None = Field(default=None, ge=0, lt=1)
    spread_pips: dict[str, SpreadPips] = Field(default_factory=dict)
    spread_bps: dict[str, SpreadBps] = Field(default_factory=dict)
    slippage: SlippageModel = SlippageModel()
    slippage_by_symbol: dict[str, SlippageModel] = Field(default_factory=dict)
    scenarios: dict[str, ScenarioCosts] = Field(default_factory=lambda: dict(DEFAULT_SCENARIOS))

    @model_validator(mode="after")
    def _one_spread_unit_per_symbol(self) -> BrokerProfile:
        both = sorted(set(self.spread_pips) & set(self.spread_bps))
        if both:
            raise ValueError(
                f"spread_pips and spread_bps both give a spread for {both[0]!r}: give each symbol's "
                f"spread in pips or in basis points, not both"
            )
        return self

    @property
    def maker_pct(self) -> float:
        """Return the commission fraction of a target (limit order) fill."""
        return self.commission_pct if self.maker_commission_pct is None else self.maker_commission_pct

    def symbol_spread(self, symbol: str) -> SymbolSpread:
        """Return the spread of ``symbol`` in pips or bps, or raise naming the profile and the fix."""
        if symbol in self.spread_pips:
            return SymbolSpread(self.spread_pips[symbol], 0.0)
        if symbol in self.spread_bps:
            return SymbolSpread(0.0, self.spread_bps[symbol])
        if ANY_SYMBOL in self.spread_pips:
            return SymbolSpread(self.spread_pips[ANY_SYMBOL], 0.0)
        if ANY_SYMBOL in self.spread_bps:
            return SymbolSpread(0.0, self.spread_bps[ANY_SYMBOL])
        raise ConfigError(
            f"broker profile {self.name!r} has no spread for symbol {symbol!r}: add "
            f"'{symbol}: <pips>' under spread_pips or '{symbol}: <bps>' under spread_bps (or a "
            f"'\"*\": ...' default) in configs/brokers/{self.name}.yaml"
        )

    def spread_for(self, symbol: str) -> float:
        """Return the pip part of the spread of ``symbol`` (0.0 when it is given in bps)."""
        return self.symbol_spread(symbol).pips

    def slippage_for(self, symbol: str) -> SlippageModel:
        """Return the slippage model of ``symbol``: its own entry, else the profile's."""
        return self.slippage_by_symbol.get(symbol, self.slippage)

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
