"""Shared fixtures of the campaign tests: one real local Ray cluster, tiny synthetic data, campaign files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

SMALL_BARS = 3_000

BASE_DIRECTIVE: dict[str, Any] = {
    "name": "BASE",
    "strategy": "S1_TREND_EMA_ATR_ADX",
    "timeframe": "H1",
    "search": {"sampler": "tpe", "trials": 8, "seed": 5},
    "stage1": {"min_trades": 20},
    "stage2": {"top_k": 2},
    "batch_size": 8,
}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """Start Ray once (2 CPUs, no dashboard) and reuse it in every campaign test."""
    ray = pytest.importorskip("ray")
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    yield ray
    if started_here:
        ray.shutdown()


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with EURUSD and GBPUSD H1 synthetic bars (3,000 each, fixed seed) and no USDJPY."""
    from tradescan import data

    folder = tmp_path_factory.mktemp("data")
    for symbol in ("EURUSD", "GBPUSD"):
        data.write_dataset(data.synthesize(symbol, "H1", SMALL_BARS, seed=3), symbol, "H1", data_dir=folder)
    return folder


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
