"""The settings an evaluator actor needs, as one small picklable value.

Everything here was resolved by ``preflight.prepare`` — the ``BacktestConfig`` with its broker profile
loaded, the instrument facts of every symbol — and is sent to each actor once, when the actor is
created. An actor never reads a broker or instruments file, so every trial of a run is computed with
exactly the content its run id hashes; per-trial calls carry only a symbol name and parameter dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tradescan.engine.config import BacktestConfig
from tradescan.instruments import Instrument
from tradescan.preflight import SweepPlan


@dataclass(frozen=True)
class EvaluatorSettings:
    """How every backtest of a sweep is run (all but the parameters).

    Attributes:
        strategy: the registered strategy name.
        strategy_dirs: extra strategy folders (absolute), searched by the registry in the worker too.
        config: the resolved backtest settings; its scenarios are every scenario the session prepares
            (stage 1's first).
        stage1_scenario: the scenario a stage-1 trial is scored under.
        stage2_scenarios: the scenarios finalists are re-run under.
        instruments: the instrument facts of the run's symbols, as hashed into the run id.
    """

    strategy: str
    strategy_dirs: tuple[str, ...]
    config: BacktestConfig
    stage1_scenario: str
    stage2_scenarios: tuple[str, ...]
    instruments: Mapping[str, Instrument] = field(default_factory=dict)

    @classmethod
    def from_plan(cls, plan: SweepPlan) -> EvaluatorSettings:
        """Return the settings of ``plan`` (its resolved config and instrument facts)."""
        directive = plan.directive
        return cls(
            strategy=directive.strategy,
            strategy_dirs=plan.strategy_dirs,
            config=plan.backtest,
            stage1_scenario=directive.stage1.scenario,
            stage2_scenarios=directive.stage2.scenarios,
            instruments=dict(plan.instruments),
        )
