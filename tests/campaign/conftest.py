"""Shared fixtures of the campaign tests: one real local Ray cluster, tiny synthetic data, campaign files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SMALL_BARS = 3_000

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
