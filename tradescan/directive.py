"""The directive: one YAML file that says what a sweep runs (DESIGN §1, §11).

A directive is parsed into a frozen pydantic model that forbids unknown keys, so a typo such as
``serach:`` or ``trails:`` fails at once instead of silently running the defaults. Every bad field is
reported in one message with its dotted path, the rule and the value given, e.g.
``quickstart.yaml: search.trials: Input should be greater than 0 (got -5)``.

Defaults are filled here, so the model *is* the resolved directive that lineage hashes (DESIGN §8):
two files that differ only in key order or in spelling a default explicitly get the same run id.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradescan.engine.capital import CapitalConfig
from tradescan.errors import ConfigError, TradeScanError, did_you_mean
from tradescan.instruments import validate_symbol
from tradescan.paths import BUNDLED_DIR
from tradescan.yaml_files import read_yaml

SCENARIO_PATTERN = r"^[A-Za-z0-9_]{1,32}$"
DEFAULT_BATCH_SIZE = 32
DEFAULT_MAX_HOLD_BARS = 96
DEFAULT_TRIAL_TIMEOUT_S = 300.0
UNIVERSE_PREFIX = "universe:"

Sampler = Literal["tpe", "random", "grid"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SearchSettings(_Frozen):
    """Stage-1 search: which space file, which sampler, how many trials, which seed.

    ``space`` defaults to ``search_spaces/<strategy module>.yaml`` (resolved by preflight); ``preset``
    names a grid in that file and is required by (and only used with) ``sampler: grid``.
    """

    space: str | None = None
    preset: str | None = None
    sampler: Sampler = "tpe"
    trials: int = Field(default=200, gt=0, le=10_000_000)
    seed: int = Field(default=42, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _grid_needs_preset(self) -> SearchSettings:
        if self.sampler == "grid" and not self.preset:
            raise ValueError("sampler 'grid' needs search.preset (a grid named under presets: in the space)")
        return self


class Stage1Settings(_Frozen):
    """How a stage-1 trial is scored.

    ``value = objective(metrics[scenario])``, minus ``(1 - trades / min_trades) * penalty_weight`` when
    the trial made fewer than ``min_trades`` trades (a smooth penalty, so the sampler still sees which
    thin configs are better). ``penalty_weight`` defaults to the objective's own scale.
    """

    scenario: str = Field(default="B", pattern=SCENARIO_PATTERN)
    objective: str = "sharpe"
    min_trades: int = Field(default=30, ge=0)
    penalty_weight: float | None = Field(default=None, ge=0)

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, name: str) -> str:
        from tradescan.sweep.objectives import objective_names

        if name not in objective_names():
            raise ValueError(did_you_mean(name, objective_names(), what="objective"))
        return name

    @model_validator(mode="after")
    def _fill_penalty_weight(self) -> Stage1Settings:
        if self.penalty_weight is None:
            from tradescan.sweep.objectives import get_objective

            object.__setattr__(self, "penalty_weight", get_objective(self.objective).penalty_weight)
        return self


class Stage2Settings(_Frozen):
    """Stage 2: the ``top_k`` best distinct parameter sets re-run under each of ``scenarios``."""

    top_k: int = Field(default=10, ge=0, le=10_000)
    scenarios: tuple[str, ...] = Field(default=("A", "B", "C"), min_length=1)

    @field_validator("scenarios")
    @classmethod
    def _scenario_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for name in names:
            if not re.fullmatch(SCENARIO_PATTERN, name):
                raise ValueError(f"scenario names are letters/digits/_ such as 'A', got {name!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"scenarios must not repeat a name, got {list(names)}")
        return names


class Directive(_Frozen):
    """A resolved directive: every field of DESIGN §11 with its default filled in."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    strategy: str = Field(min_length=1)
    symbols: tuple[str, ...] = Field(min_length=1)
    timeframe: str
    start: dt.date | None = None
    end: dt.date | None = None
    broker: str | dict[str, Any] = "default"
    capital: CapitalConfig = CapitalConfig()
    search: SearchSettings = SearchSettings()
    stage1: Stage1Settings = Stage1Settings()
    stage2: Stage2Settings = Stage2Settings()
    max_hold_bars: int | None = Field(default=DEFAULT_MAX_HOLD_BARS, gt=0)
    stops_from: Literal["fill", "signal_close"] = "fill"
    strategy_paths: tuple[str, ...] = ()
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, gt=0, le=100_000)
    # wall-clock seconds one trial may run; a longer one is killed and recorded FAIL (tradescan.sweep.pool)
    trial_timeout_s: float = Field(default=DEFAULT_TRIAL_TIMEOUT_S, gt=0, le=86_400, strict=True)

    @field_validator("symbols")
    @classmethod
    def _valid_symbols(cls, symbols: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in symbols:
            try:
                validate_symbol(symbol)
            except TradeScanError as exc:
                raise ValueError(str(exc)) from None
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"symbols must not repeat, got {list(symbols)}")
        return symbols

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, timeframe: str) -> str:
        from tradescan.data.timeframes import validate_timeframe

        try:
            return validate_timeframe(timeframe)
        except TradeScanError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("broker", mode="before")
    @classmethod
    def _broker_name_or_mapping(cls, broker: Any) -> Any:
        if not isinstance(broker, str | Mapping):
            raise ValueError(f"broker must be a profile name or a mapping, got {broker!r}")
        return broker

    @model_validator(mode="after")
    def _dates_in_order(self) -> Directive:
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    @property
    def scenarios_needed(self) -> tuple[str, ...]:
        """Return every scenario the sweep runs: stage 1's first, then stage 2's."""
        ordered = [self.stage1.scenario, *self.stage2.scenarios]
        return tuple(dict.fromkeys(ordered))


def _error_path(loc: tuple[int | str, ...]) -> str:
    # pydantic adds the validator kind ("function-after[...]") to some locations; users never wrote it
    return ".".join(str(part) for part in loc if not str(part).startswith("function-")) or "(top level)"


def _describe_error(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    path = _error_path(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        return f"{path}: {_unknown_field_message(tuple(error['loc']), model)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("missing",) or "input" not in error or isinstance(error["input"], dict):
        return f"{path}: {message}"
    return f"{path}: {message} (got {error['input']!r})"


def _unknown_field_message(loc: tuple[int | str, ...], model: type[BaseModel]) -> str:
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part)) if current is not None else None
        annotation = field.annotation if field is not None else None
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    known: dict[str, Any] = dict(current.model_fields) if current is not None else {}
    return did_you_mean(str(loc[-1]), known, what="field").split(" Known:")[0] + (
        f" (known: {', '.join(known)})" if known else ""
    )


def format_validation_error(label: str, exc: ValidationError, model: type[BaseModel] = Directive) -> str:
    """Return every error of ``exc`` on one line, each as ``dotted.path: rule (got value)``."""
    problems = [_describe_error(error, model) for error in exc.errors()]
    return f"{label}: " + "; ".join(problems)


def parse_directive(raw: Mapping[str, Any], *, label: str = "directive", base_dir: Path | None = None) -> Directive:
    """Validate a directive mapping (symbol universes expanded) or raise one ``ConfigError`` for all faults."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{label}: expected a mapping of directive fields at the top level, got {raw!r}")
    fields = dict(raw)
    if "symbols" in fields:
        fields["symbols"] = expand_symbols(fields["symbols"], label=label, base_dir=base_dir)
    try:
        return Directive.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(label, exc)) from None


def load_directive(path: str | os.PathLike[str]) -> Directive:
    """Read and validate a directive YAML file; errors are prefixed with the file name."""
    file_path = Path(path)
    label = file_path.name
    raw = read_yaml(file_path, what="directive file", label=label)
    return parse_directive(raw or {}, label=label, base_dir=file_path.resolve().parent)


# --- symbol universes -------------------------------------------------------------------------------


def expand_symbols(value: Any, *, label: str, base_dir: Path | None = None) -> Any:
    """Expand ``universe: FILE#TIER`` references (alone or inside the list) into symbol lists.

    A universe file (``configs/universes/*.yaml``) maps tier names to symbol lists. Other values are
    returned unchanged for the model to validate.
    """
    if isinstance(value, Mapping) and set(value) == {"universe"}:
        return _universe_symbols(str(value["universe"]), label=label, base_dir=base_dir)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(UNIVERSE_PREFIX):
            return _universe_symbols(text[len(UNIVERSE_PREFIX) :].strip(), label=label, base_dir=base_dir)
        return [text]
    if isinstance(value, list | tuple):
        expanded: list[Any] = []
        for item in value:
            is_reference = isinstance(item, str) and item.strip().startswith(UNIVERSE_PREFIX)
            is_mapping = isinstance(item, Mapping) and set(item) == {"universe"}
            expanded += expand_symbols(item, label=label, base_dir=base_dir) if is_reference or is_mapping else [item]
        return expanded
    return value


def find_config_file(reference: str, base_dir: Path | None = None) -> Path | None:
    """Return the first existing file for ``reference``: as given, beside the directive, in the bundled files."""
    candidate = Path(reference)
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    for folder in (Path.cwd(), base_dir, BUNDLED_DIR):
        if folder is not None and (folder / candidate).is_file():
            return (folder / candidate).resolve()
    return None


def _universe_symbols(reference: str, *, label: str, base_dir: Path | None) -> list[str]:
    file_part, _, tier = reference.partition("#")
    path = find_config_file(file_part, base_dir)
    if path is None:
        raise ConfigError(f"{label}: symbols: universe file {file_part!r} not found")
    tiers = read_yaml(path, what="universe file") or {}
    if not isinstance(tiers, dict) or not all(isinstance(v, list) for v in tiers.values()):
        raise ConfigError(f"{path}: a universe file maps tier names to symbol lists")
    if not tier:
        return list(dict.fromkeys(s for symbols in tiers.values() for s in symbols))
    if tier not in tiers:
        raise ConfigError(f"{label}: symbols: {did_you_mean(tier, tiers, what=f'tier of {path.name}')}")
    return [str(s) for s in tiers[tier]]
