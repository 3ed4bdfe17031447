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
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    yield str(ray.get_runtime_context().gcs_address)
    if started_here:
        ray.shutdown()
