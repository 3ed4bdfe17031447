"""What ``tradescan backtest --params-file`` needs to reproduce a finalist: one entry per finalist.

An entry holds ``strategy, symbol, timeframe, rank, params`` and a ``settings`` mapping with the run's
backtest settings (``broker, capital, scenarios, max_hold_bars, stops_from``), plus the data window
(``start``, ``end``), the strategy folders, the run id, the trial and the recorded ``metrics`` to
compare with. The settings are taken from the resolved directive in the manifest, so they are the ones
the sweep used, defaults included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradescan.results.manifest import RunManifest
from tradescan.results.query import FinalistSummary

SETTING_NAMES = ("broker", "capital", "scenarios", "max_hold_bars", "stops_from")


def backtest_settings(manifest: RunManifest) -> dict[str, Any]:
    """Return the run's backtest settings: broker, capital, scenarios, max_hold_bars, stops_from."""
    directive = manifest.directive
    nested = directive.get("backtest")
    source: Mapping[str, Any] = nested if isinstance(nested, Mapping) else directive
    settings = {name: source[name] for name in SETTING_NAMES if name in source}
    if "scenarios" not in settings:  # the sweep's stage 2 re-ran its finalists under these
        settings["scenarios"] = list(directive.get("stage2", {}).get("scenarios", ("A", "B", "C")))
    return settings


def params_file_entry(manifest: RunManifest, finalist: FinalistSummary) -> dict[str, Any]:
    """Return the ``--params-file`` entry of one finalist (plain data, ready for YAML or JSON)."""
    directive = manifest.directive
    return {
        "run_id": manifest.run_id,
        "strategy": directive.get("strategy"),
        "symbol": finalist.symbol,
        "timeframe": directive.get("timeframe"),
        "rank": finalist.rank,
        "trial": finalist.trial,
        "start": directive.get("start"),
        "end": directive.get("end"),
        "strategy_paths": list(manifest.strategy_dirs),
        "params": dict(finalist.params),
        "settings": backtest_settings(manifest),
        "metrics": {scenario: dict(values) for scenario, values in finalist.metrics.items()},
    }
