"""Campaign files for the campaign tests: a small base directive and ``write_campaign``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

BASE_DIRECTIVE: dict[str, Any] = {
    "name": "BASE",
    "strategy": "S1_TREND_EMA_ATR_ADX",
    "timeframe": "H1",
    "search": {"sampler": "tpe", "trials": 8, "seed": 5},
    "stage1": {"min_trades": 20},
    "stage2": {"top_k": 2},
    "batch_size": 8,
}


def write_campaign(folder: Path, file_name: str = "camp", **fields: Any) -> Path:
    """Write a campaign YAML into ``folder`` (defaults: EURUSD, GBPUSD and USDJPY without data,
    screen 16 trials, validate 24 trials, rules on stage-2 metrics) and return its path."""
    body: dict[str, Any] = {
        "name": "T_CAMP",
        "universe": ["EURUSD", "GBPUSD", "USDJPY"],
        "directive": dict(BASE_DIRECTIVE),
        "phases": {
            "screen": {"trials": 16, "pass": {"sharpe": "> -1000"}},
            "validate": {"trials": 24, "pass": {"trades": ">= 1", "scenario": "C"}},
        },
    }
    body.update(fields)
    path = folder / f"{file_name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path
