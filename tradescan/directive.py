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
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from tradescan.engine.config import (
    DEFAULT_BROKER,
    DEFAULT_SCENARIOS,
    SCENARIO_PATTERN,
    UNKNOWN_SCENARIO,
    BacktestConfig,
    ExecutionSettings,
    ScenarioName,
    ScenarioNames,
)
from tradescan.errors import ConfigError, TradeScanError, did_you_mean
from tradescan.frozen import BOOL_NOT_NUMBER, FrozenModel
from tradescan.guards._settings import GuardSettings
from tradescan.instruments import validate_symbol
from tradescan.paths import BUNDLED_DIR, find_file
from tradescan.quote import cut, quote
from tradescan.yaml_files import read_yaml

__all__ = ["SCENARIO_PATTERN", "Directive", "format_validation_error", "load_directive", "parse_directive"]

DEFAULT_BATCH_SIZE = 32
DEFAULT_TRIAL_TIMEOUT_S = 300.0
UNIVERSE_PREFIX = "universe:"

Sampler = Literal["tpe", "random", "grid"]


class SearchSettings(FrozenModel):
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


class Stage1Settings(FrozenModel):
    """How a stage-1 trial is scored.

    ``value = objective(metrics[scenario])``, minus ``(1 - trades / min_trades) * penalty_weight`` when
    the trial made fewer than ``min_trades`` trades (a smooth penalty, so the sampler still sees which
    thin configs are better). ``penalty_weight`` defaults to the objective's own scale.
    """

    scenario: ScenarioName = "B"
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


class Stage2Settings(FrozenModel):
    """Stage 2: the ``top_k`` best distinct parameter sets re-run under each of ``scenarios``."""

    top_k: int = Field(default=10, ge=0, le=10_000)
    scenarios: ScenarioNames = DEFAULT_SCENARIOS


class Directive(ExecutionSettings):
    """A resolved directive: every field of DESIGN §11 with its default filled in.

    The backtest settings (``capital``, ``max_hold_bars``, ``stops_from``, ``regime``, ``intrabar``) are
    ``ExecutionSettings``', declared once in ``tradescan.engine.config``; ``broker`` stays the
    reference written in the file (a profile name, path or mapping) until ``backtest_config`` resolves it.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    strategy: str = Field(min_length=1)
    symbols: tuple[str, ...] = Field(min_length=1)
    timeframe: str
    start: dt.date | None = None
    end: dt.date | None = None
    broker: str | dict[str, Any] = DEFAULT_BROKER
    search: SearchSettings = SearchSettings()
    stage1: Stage1Settings = Stage1Settings()
    stage2: Stage2Settings = Stage2Settings()
    strategy_paths: tuple[str, ...] = ()
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, gt=0, le=100_000)
    # wall-clock seconds one trial may run; a longer one is killed and recorded FAIL (tradescan.sweep.pool)
    trial_timeout_s: float = Field(default=DEFAULT_TRIAL_TIMEOUT_S, gt=0, le=86_400, strict=True)
    # The guard stage (tradescan.guards.GuardSettings); None = the sweep runs no guard stage. Not part of
    # the run id (lineage.BUDGET_FIELDS): guard settings never change a stage-1 or stage-2 number.
    guards: GuardSettings | None = None

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

    def backtest_config(self, base_dir: str | os.PathLike[str] | None = None) -> BacktestConfig:
        """Return the ``BacktestConfig`` every backtest of this directive's sweep runs under.

        The broker reference is resolved (a profile file read, a mapping validated; a relative path is
        also looked up in ``base_dir``, the directive's folder) and the scenarios are those the sweep
        needs (``scenarios_needed``).

        Raises:
            ConfigError: the broker cannot be resolved or lacks a scenario (one line, every fault).
        """
        fields = {name: getattr(self, name) for name in ExecutionSettings.model_fields}
        fields.update(broker=self.broker, scenarios=self.scenarios_needed)
        context = {"base_dir": os.fspath(base_dir) if base_dir is not None else None}
        try:
            return BacktestConfig.model_validate(fields, context=context)
        except ValidationError as exc:
            raise ConfigError("; ".join(self._config_problem(error) for error in exc.errors())) from None

    def _config_problem(self, error: Mapping[str, Any]) -> str:
        # Name the directive field the user wrote: a scenario comes from stage1 or stage2.
        if error["type"] == UNKNOWN_SCENARIO:
            name = error.get("ctx", {}).get("scenario")
            return f"{'stage1.scenario' if name == self.stage1.scenario else 'stage2.scenarios'}: {error['msg']}"
        return _describe_error(error, BacktestConfig)


def _error_path(loc: tuple[int | str, ...]) -> str:
    # pydantic adds the validator kind ("function-after[...]") to some locations; users never wrote it
    return ".".join(str(part) for part in loc if not str(part).startswith("function-")) or "(top level)"


def _describe_error(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    path = _error_path(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        return f"{path}: {_unknown_field_message(tuple(error['loc']), model)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("missing", BOOL_NOT_NUMBER) or "input" not in error or isinstance(error["input"], dict):
        return f"{path}: {message}"
    return f"{path}: {cut(message)} (got {quote(error['input'])})"


def _unknown_field_message(loc: tuple[int | str, ...], model: type[BaseModel]) -> str:
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part)) if current is not None else None
        current = _model_of(field.annotation if field is not None else None)
    known: dict[str, Any] = dict(current.model_fields) if current is not None else {}
    return did_you_mean(str(loc[-1]), known, what="field").split(" Known:")[0] + (
        f" (known: {', '.join(known)})" if known else ""
    )


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: ``M``, or the one model of ``M | None`` (``guards: GuardSettings | None``)."""
    candidates = (annotation, *typing.get_args(annotation))
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


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
    file_path = directive_path(path)
    if not file_path.exists():
        raise ConfigError(_directive_not_found(file_path))
    label = file_path.name
    raw = read_yaml(file_path, what="directive file", label=label)
    return parse_directive(raw or {}, label=label, base_dir=file_path.resolve().parent)


def _directive_not_found(path: Path) -> str:
    if path.is_absolute():
        return f"{path}: directive file not found"
    bundled = ", ".join(sorted(p.name for p in (BUNDLED_DIR / "configs" / "directives").glob("*.yaml")))
    return (f"{path}: directive file not found in {Path.cwd()} nor in the bundled files "
            f"(bundled configs/directives: {bundled})")


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
    """Return the first existing file for ``reference``: in the working directory, beside the directive
    (``base_dir``), in the bundled files — the lookup rule of ``tradescan.paths``."""
    return find_file(reference, base_dir)


def directive_path(path: str | os.PathLike[str]) -> Path:
    """Return the directive file ``path`` names: the path as given, else the bundled file of that relative path.

    ``tradescan sweep configs/directives/quickstart.yaml`` thus works from any folder; a user's own
    ``./configs/directives/quickstart.yaml`` hides the bundled one (the lookup rule of ``tradescan.paths``).
    A path that names nothing is returned as given, for the reader to report.
    """
    given = Path(path)
    if given.exists():
        return given
    return find_file(given) or given


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
