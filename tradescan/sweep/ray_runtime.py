"""Starting or joining the Ray runtime for a sweep (DESIGN §9).

Three cases, each checked before anything is started:

* **Local** (no ``--address``, Ray not running in this process): ``--workers`` must not exceed the CPUs
  this process may use (``local_cpus``); the runtime is then started with that many CPUs, no
  dashboard, and **every port bound to 127.0.0.1** — Ray's single-node mode, the one it uses on macOS
  and Windows — so nothing on the network can reach it. Ray's token authentication (on by default for
  local runtimes since Ray 2.59) is left as Ray sets it.
* **Joined** (``--address``): the address is probed with one TCP connection first, so an address where
  nothing listens fails within seconds instead of after Ray's minutes of retries; then ``--workers``
  must not exceed the cluster's CPUs (an actor beyond them would wait for a CPU forever).
* **Reused** (Ray already initialised in this process: a notebook, the test suite): used as it is,
  with the same CPU check as a joined cluster.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

from tradescan.errors import TradeScanError

LOCAL_HOST = "127.0.0.1"
# One TCP connection to the head must answer within this, or --address is reported unreachable.
ADDRESS_PROBE_TIMEOUT_S = 5.0
# Ray's own switch for single-node runtimes: with it off, the node IP is the loopback address and the
# GCS, raylet and worker servers listen on 127.0.0.1 only (ray._private.services.get_node_ip_address).
_SINGLE_NODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_QUIET: dict[str, Any] = {"log_to_driver": False, "logging_level": "error"}


def local_cpus() -> int:
    """Return how many CPUs this process may run on (its CPU affinity, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def ensure_ray(workers: int | None, address: str | None) -> int:
    """Make sure Ray is running and return how many evaluator actors to start.

    Args:
        workers: actors wanted (``None`` = every CPU of the runtime).
        address: a Ray cluster address (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``) or ``None``.

    Raises:
        TradeScanError: ``workers`` exceeds the CPUs, the address is malformed or unreachable, or the
            runtime could not be started or joined.
    """
    import ray

    if ray.is_initialized():
        return _workers_on_cluster(workers, "the Ray runtime of this process")
    if address is None:
        cpus = local_cpus()
        wanted = cpus if workers is None else workers
        if wanted > cpus:
            raise TradeScanError(
                f"--workers {wanted} needs {wanted} CPUs but this machine has {cpus}; "
                f"use --workers {cpus} or fewer, or join a bigger cluster with --address"
            )
        start_local_runtime(wanted)
        return wanted
    probe_address(address)
    _join(address)
    return _workers_on_cluster(workers, f"the Ray cluster at {address}")


def _workers_on_cluster(workers: int | None, where: str) -> int:
    import ray

    cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
    if cluster_cpus < 1:
        raise TradeScanError(f"{where} offers no CPU for an evaluator; start a worker node with CPUs first")
    if workers is None:
        return cluster_cpus
    if workers > cluster_cpus:
        # Each evaluator reserves one CPU; extra actors would wait for a CPU forever on a fixed cluster.
        raise TradeScanError(
            f"--workers {workers} needs {workers} CPUs but {where} has {cluster_cpus}; "
            f"use --workers {cluster_cpus} or fewer, or add nodes first"
        )
    return workers


# --- local runtime ------------------------------------------------------------------------------------


def start_local_runtime(num_cpus: int) -> None:
    """Start a Ray runtime on this machine with ``num_cpus`` CPUs, listening on 127.0.0.1 only.

    Raises:
        TradeScanError: Ray could not start, or it did not bind the loopback address (it is shut down
            again: a runtime reachable from the network is never left running).
    """
    import ray

    try:
        with _single_node_mode():
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, dashboard_host=LOCAL_HOST, **_QUIET)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise TradeScanError(f"could not start a local Ray runtime: {exc}".replace("\n", " ")) from None
    host = str(ray.get_runtime_context().gcs_address).rpartition(":")[0]
    if host != LOCAL_HOST:
        ray.shutdown()
        raise TradeScanError(f"the local Ray runtime bound {host}, not {LOCAL_HOST}; it was stopped again")


@contextlib.contextmanager
def _single_node_mode() -> Iterator[None]:
    """Turn on Ray's single-node (loopback) mode while the runtime starts, then restore the setting.

    Ray reads the environment variable once, when ``ray._private.ray_constants`` is imported, so the
    module's flag is set too in case Ray was imported before; the processes Ray starts inherit the
    variable.
    """
    from ray._private import ray_constants

    saved_env = os.environ.get(_SINGLE_NODE_ENV)
    saved_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_SINGLE_NODE_ENV] = "0"
    if saved_flag is not None:
        ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(_SINGLE_NODE_ENV, None)
        else:
            os.environ[_SINGLE_NODE_ENV] = saved_env
        if saved_flag is not None:
            ray_constants.ENABLE_RAY_CLUSTER = saved_flag


# --- joining a cluster --------------------------------------------------------------------------------


def split_address(address: str) -> tuple[str, int] | None:
    """Return ``(host, port)`` of a Ray address, or ``None`` for ``auto`` (Ray finds the cluster).

    Raises:
        TradeScanError: the address is neither ``auto``, ``HOST:PORT`` nor ``ray://HOST:PORT``.
    """
    text = address.strip()
    if text == "auto":
        return None
    host, _, port_text = text.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")  # an IPv6 literal: [::1]:6379
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65_535:
        shown = address if len(address) <= 80 else address[:77] + "..."
        raise TradeScanError(f"--address: expected auto, HOST:PORT or ray://HOST:PORT, got {shown!r}")
    return host, int(port_text)


def probe_address(address: str) -> None:
    """Check that something accepts a TCP connection at ``address`` within a few seconds.

    Raises:
        TradeScanError: the address is malformed, or nothing answers there.
    """
    target = split_address(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=ADDRESS_PROBE_TIMEOUT_S):
            pass
    except TimeoutError:
        reason = f"no answer within {ADDRESS_PROBE_TIMEOUT_S:g} s"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    else:
        return
    raise TradeScanError(
        f"could not join the Ray cluster at {address}: nothing answers at {target[0]}:{target[1]} ({reason}); "
        "check --address, or start the head with `ray start --head`"
    )


def _join(address: str) -> None:
    import ray

    target = split_address(address)
    # A runtime on 127.0.0.1 (another tradescan process's) expects its drivers on that address too.
    loopback = target is not None and _is_loopback(target[0])
    try:
        with _single_node_mode() if loopback else contextlib.nullcontext():
            ray.init(address=address, **_QUIET)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        message = f"could not join the Ray cluster at {address}: {exc}".replace("\n", " ")
        raise TradeScanError(message[:300]) from None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def put(value: Any) -> Any:
    """Put ``value`` into the object store once and return its reference."""
    import ray

    return ray.put(value)
