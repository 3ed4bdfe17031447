"""``BacktestConfig``: every setting of a backtest except the strategy and its parameters, declared once.

The broker profile, capital, cost scenarios, time stop, stop reference, regime settings and intrabar
order used to be declared five times with five sets of defaults (the directive, ``backtest()``,
``BacktestSession``, the sweep's evaluator settings and the backtest CLI). They now live here, with
their defaults and their checks, and every layer takes a ``BacktestConfig``:

- ``tradescan.backtest(..., config=...)`` and ``BacktestSession(bars, config)``;
- a directive produces one (``Directive.backtest_config()``), which ``preflight.prepare`` resolves once
  and hashes into the run id, and the sweep's actors receive (they never read a YAML file);
- ``tradescan backtest --params-file`` reads the config's fields from a ``top --format yaml`` entry.

The broker is *resolved*: a profile name, a path to a profile file or a mapping becomes a
``BrokerProfile`` when the config is built, so the config's content is the cost model itself (an
edited broker file gives a different config, and so a different run id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tradescan.engine.broker import BrokerProfile, load_broker
from tradescan.engine.capital import CapitalConfig
from tradescan.errors import ConfigError, TradeScanError, describe_validation_error, did_you_mean
from tradescan.frozen import FrozenModel
from tradescan.regime import RegimeSettings

__all__ = [
    "DEFAULT_BROKER",
    "DEFAULT_SCENARIOS",
    "SCENARIO_PATTERN",
    "UNKNOWN_SCENARIO",
    "UNSET",
    "BacktestConfig",
    "ExecutionSettings",
    "ScenarioName",
    "ScenarioNames",
    "config_fields",
    "scenario_names_problem",
]

SCENARIO_PATTERN = r"^[A-Za-z0-9_]{1,32}$"
DEFAULT_BROKER = "default"
DEFAULT_SCENARIOS: tuple[str, ...] = ("A", "B", "C")
DEFAULT_MAX_HOLD_BARS = 96
# The pydantic error type of a scenario the broker does not define (its context names the scenario).
UNKNOWN_SCENARIO = "unknown_scenario"


class _Unset:
    """The default of a keyword that was not given: the config's own default applies."""

    def __repr__(self) -> str:
        return "<BacktestConfig default>"


UNSET: Final = _Unset()


def scenario_names_problem(names: Sequence[str]) -> str | None:
    """Return what is wrong with a list of scenario names (none, repeated), or None when it is fine."""
    if not names:
        return "scenarios must name at least one cost scenario, e.g. ('A', 'B', 'C')"
    if len(set(names)) != len(names):
        return f"scenarios must not repeat a name, got {list(names)}"
    return None


def _scenario_name(name: str) -> str:
    if not re.fullmatch(SCENARIO_PATTERN, name):
        raise ValueError(f"scenario names are 1-32 letters/digits/_ such as 'A', got {name!r}")
    return name


def _scenario_names(names: tuple[str, ...]) -> tuple[str, ...]:
    problem = scenario_names_problem(names)
    if problem:
        raise ValueError(problem)
    return names


ScenarioName = Annotated[str, AfterValidator(_scenario_name)]
# A non-empty list of distinct scenario names: the one declaration of that rule.
ScenarioNames = Annotated[tuple[ScenarioName, ...], AfterValidator(_scenario_names)]


class ExecutionSettings(FrozenModel):
    """The settings a directive shares with a single backtest (all but the broker and the scenarios).

    Attributes:
        capital: account currency, initial capital, risk per trade, compounding.
        max_hold_bars: time stop, in bars after the signal bar; ``None`` = no time stop.
        stops_from: ``"fill"`` (levels from the entry fill) or ``"signal_close"`` (DESIGN §4).
        regime: the regime labels' settings (DESIGN §5).
        intrabar: which level is taken first when a stop and a target lie inside one bar.
    """

    capital: CapitalConfig = CapitalConfig()
    max_hold_bars: int | None = Field(default=DEFAULT_MAX_HOLD_BARS, gt=0)
    stops_from: Literal["fill", "signal_close"] = "fill"
    regime: RegimeSettings = RegimeSettings()
    intrabar: Literal["stop_first", "tradingview"] = "stop_first"


class BacktestConfig(ExecutionSettings):
    """How one backtest is run: the resolved broker profile, capital, scenarios and execution settings.

    Build it with ``BacktestConfig.resolve(...)`` (names, paths and mappings welcome) or
    ``BacktestConfig(broker=..., ...)``; unknown fields, booleans for numbers, repeated scenarios and
    scenarios the broker does not define are refused.

    Attributes:
        broker: the broker profile, resolved once (a name, path or mapping is loaded when built).
        scenarios: the cost scenarios run, in order (distinct names the broker defines).
    """

    broker: BrokerProfile = Field(default=DEFAULT_BROKER, validate_default=True)
    scenarios: ScenarioNames = DEFAULT_SCENARIOS

    @field_validator("broker", mode="before")
    @classmethod
    def _resolve_broker(cls, broker: Any, info: ValidationInfo) -> Any:
        if isinstance(broker, BrokerProfile | Mapping):
            return broker  # a mapping is validated as a profile field by field (errors get their path)
        base_dir = (info.context or {}).get("base_dir")
        try:
            return load_broker(broker, base_dir=Path(base_dir) if base_dir else None)
        except TradeScanError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("scenarios")
    @classmethod
    def _scenarios_in_broker(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        broker = info.data.get("broker")  # absent when the broker itself was refused
        if not isinstance(broker, BrokerProfile):
            return names
        for name in names:
            if name not in broker.scenarios:
                message = did_you_mean(name, broker.scenarios, what=f"cost scenario of broker {broker.name!r}")
                raise PydanticCustomError(UNKNOWN_SCENARIO, "{message}", {"message": message, "scenario": name})
        return names

    @classmethod
    def resolve(
        cls,
        config: BacktestConfig | Mapping[str, Any] | None = None,
        *,
        label: str | None = None,
        base_dir: str | Path | None = None,
        **settings: Any,
    ) -> BacktestConfig:
        """Return a config from a base (a config or a mapping of its fields) and keyword overrides.

        A keyword left at ``UNSET`` — and ``broker``, ``capital`` or ``regime`` given as ``None`` — keeps
        the base's value, else the default. ``max_hold_bars=None`` means no time stop.

        Args:
            config: the starting point (``None`` = the defaults).
            label: prefixed to error messages (e.g. the file the settings came from).
            base_dir: a folder a relative broker path is also looked up in.
            **settings: field values (``broker``, ``capital``, ``scenarios``, ``max_hold_bars``,
                ``stops_from``, ``regime``, ``intrabar``) that override the base.

        Raises:
            ConfigError: every bad or unknown field named at once, with its value.
        """
        given = {name: value for name, value in settings.items() if not _unset(name, value)}
        if isinstance(config, BacktestConfig) and not given:
            return config
        base = dict(config) if config is not None else {}
        try:
            return cls.model_validate({**base, **given}, context={"base_dir": base_dir})
        except ValidationError as exc:
            problems = describe_validation_error(exc)
            raise ConfigError(f"{label}: {problems}" if label else problems) from None

    def record(self) -> dict[str, Any]:
        """Return the config as plain data (the broker as its full profile), the shape ``resolve`` reads.

        This is what a params file records so that ``backtest --params-file`` reproduces a result with
        the very costs it was computed with, even after the broker file is edited.
        """
        return self.model_dump()


_NONE_MEANS_DEFAULT = frozenset({"broker", "capital", "regime"})


def _unset(name: str, value: Any) -> bool:
    return value is UNSET or (value is None and name in _NONE_MEANS_DEFAULT)


def config_fields() -> tuple[str, ...]:
    """Return the names of ``BacktestConfig``'s fields (the keys a params file may set)."""
    return tuple(BacktestConfig.model_fields)
