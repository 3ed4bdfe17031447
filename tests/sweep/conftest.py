"""Shared fixtures of the sweep tests: one real local Ray cluster per session, tiny synthetic data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sweep_support import PLUGIN_SPACES, PLUGIN_STRATEGIES, SMALL_BARS


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """Start Ray once (2 CPUs, no dashboard, loopback only) and reuse it in every sweep test."""
    ray = pytest.importorskip("ray")
    from tradescan.sweep.ray_runtime import start_local_runtime

    started_here = not ray.is_initialized()
    if started_here:
        start_local_runtime(num_cpus=2)
    yield ray
    if started_here:
        ray.shutdown()


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with EURUSD and GBPUSD H1 synthetic bars (3,000 each, fixed seed)."""
    from tradescan import data

    folder = tmp_path_factory.mktemp("data")
    for symbol in ("EURUSD", "GBPUSD"):
        data.write_dataset(data.synthesize(symbol, "H1", SMALL_BARS, seed=3), symbol, "H1", data_dir=folder)
    return folder


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    """A folder with the test plug-in strategies and their search spaces."""
    strategies = tmp_path / "user_strategies"
    strategies.mkdir()
    (strategies / "test_plugins.py").write_text(PLUGIN_STRATEGIES, encoding="utf-8")
    for name, space in PLUGIN_SPACES.items():
        (tmp_path / name).write_text(yaml.safe_dump(space), encoding="utf-8")
    return tmp_path
