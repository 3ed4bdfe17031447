"""Starting or joining the Ray runtime for a sweep (DESIGN §9).

``--address`` joins an existing cluster; otherwise a local one is started with one CPU per worker and
no dashboard. If Ray is already initialised in this process (a notebook, the test suite) it is reused
as it is. Ray's own token authentication (on by default in 2.60) is left in place.
"""

from __future__ import annotations

import os
from typing import Any

from tradescan.errors import TradeScanError


def ensure_ray(workers: int | None, address: str | None) -> int:
    """Make sure Ray is running and return how many evaluator actors to start.

    Args:
        workers: actors wanted (``None`` = every CPU Ray offers, at least 1).
        address: a Ray cluster address (``auto``, ``ray://host:10001``, ``host:6379``) or ``None``.
    """
    import ray

    if not ray.is_initialized():
        _start(workers, address)
    cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
    if workers is None:
        return max(1, cluster_cpus)
    if address is None and workers > cluster_cpus:
        # Each evaluator reserves one CPU; extra actors would wait for a CPU forever on a fixed cluster.
        raise TradeScanError(
            f"--workers {workers} needs {workers} CPUs but the Ray runtime has {cluster_cpus}; "
            f"use --workers {max(1, cluster_cpus)} or join a bigger cluster with --address"
        )
    return max(1, workers)


def _start(workers: int | None, address: str | None) -> None:
    import ray

    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
        raise TradeScanError(f"could not start or join {where}: {exc}".replace("\n", " ")) from None


def put(value: Any) -> Any:
    """Put ``value`` into the object store once and return its reference."""
    import ray

    return ray.put(value)
