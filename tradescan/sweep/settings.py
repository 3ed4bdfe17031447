"""The settings an evaluator actor needs, as one small picklable value.

Everything here comes from the resolved directive; it is sent to each actor once, when the actor is
created, so per-trial calls carry only a symbol name and parameter dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradescan.preflight import SweepPlan


@dataclass(frozen=True)
class EvaluatorSettings:
    """How every backtest of a sweep is run (all but the parameters).

    Attributes:
        strategy: the registered strategy name.
        strategy_dirs: extra strategy folders (absolute), searched by the registry in the worker too.
        broker: broker profile name or mapping.
        capital: ``CapitalConfig`` fields.
        scenarios: every scenario the session prepares (stage 1's first).
        stage1_scenario: the scenario a stage-1 trial is scored under.
        stage2_scenarios: the scenarios finalists are re-run under.
        max_hold_bars: time stop in bars (None = none).
        stops_from: ``"fill"`` or ``"signal_close"``.
    """

    strategy: str
    strategy_dirs: tuple[str, ...]
    broker: str | dict[str, Any]
    capital: dict[str, Any]
    scenarios: tuple[str, ...]
    stage1_scenario: str
    stage2_scenarios: tuple[str, ...]
    max_hold_bars: int | None
    stops_from: str

    @classmethod
    def from_plan(cls, plan: SweepPlan) -> EvaluatorSettings:
        """Return the settings of ``plan``'s directive."""
        directive = plan.directive
        return cls(
            strategy=directive.strategy,
            strategy_dirs=plan.strategy_dirs,
            broker=directive.broker,
            capital=directive.capital.model_dump(),
            scenarios=directive.scenarios_needed,
            stage1_scenario=directive.stage1.scenario,
            stage2_scenarios=directive.stage2.scenarios,
            max_hold_bars=directive.max_hold_bars,
            stops_from=directive.stops_from,
        )
