"""Fixtures of the results-store tests that run real sweeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray cluster (2 CPUs) for the module's sweeps; subprocess sweeps join it at this address."""
    ray = pytest.importorskip("ray")
    started_here = not ray.is_initialized()
    if started_here:
        from tradescan.sweep.ray_runtime import start_local_runtime

        start_local_runtime(num_cpus=2)  # 127.0.0.1 only, never a `ray start` cluster
    yield str(ray.get_runtime_context().gcs_address)
    if started_here:
        ray.shutdown()
