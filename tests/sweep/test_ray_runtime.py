"""Starting and joining Ray: the CPU checks happen before anything starts, a dead address fails fast,
and a local runtime listens on the loopback address only.

Every check of a fresh start runs in a new Python process: the test session's own Ray runtime (the
``ray_cluster`` fixture) would otherwise be reused, and the check under test never reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sweep_support import write_directive

from tradescan.errors import TradeScanError
from tradescan.sweep.ray_runtime import ensure_ray, local_cpus, probe_address, split_address

WORKTREE = Path(__file__).resolve().parents[2]


def _python(code: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout_s, env=env)


def _cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    return subprocess.run([sys.executable, "-m", "tradescan", *args], capture_output=True, text=True,
                          timeout=timeout_s, env=env)


@pytest.mark.parametrize("extra", [1, 10_000])
def test_more_workers_than_local_cpus_is_refused_before_ray_starts(extra: int) -> None:
    cpus = local_cpus()
    wanted = cpus + extra
    result = _python(
        f"""
        import ray
        from tradescan.sweep.ray_runtime import ensure_ray
        try:
            ensure_ray({wanted}, None)
        except Exception as exc:
            print(type(exc).__name__, exc)
        print("initialised:", ray.is_initialized())
        """
    )
    assert result.stdout.splitlines() == [
        f"TradeScanError --workers {wanted} needs {wanted} CPUs but this machine has {cpus}; "
        f"use --workers {cpus} or fewer, or join a bigger cluster with --address",
        "initialised: False",
    ], result.stderr


def test_sweep_cli_refuses_too_many_workers_in_a_fresh_process(tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, search={"trials": 4, "sampler": "random"})
    wanted = local_cpus() + 1
    started = time.monotonic()
    result = _cli("sweep", str(directive), "--workers", str(wanted), "--data-dir", str(small_data_dir),
                  "--results-dir", str(tmp_path / "r"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"tradescan: error: --workers {wanted} needs {wanted} CPUs but this machine has {local_cpus()}; "
        f"use --workers {local_cpus()} or fewer, or join a bigger cluster with --address"
    ]
    assert time.monotonic() - started < 60  # no Ray runtime was started and waited for


@pytest.mark.usefixtures("ray_cluster")
def test_a_reused_runtime_is_checked_against_its_own_cpus() -> None:
    import ray

    cpus = int(ray.cluster_resources()["CPU"])
    assert ensure_ray(None, None) == cpus
    assert ensure_ray(1, None) == 1
    with pytest.raises(TradeScanError, match=rf"--workers {cpus + 1} needs {cpus + 1} CPUs but the Ray runtime "
                                             rf"of this process has {cpus}; use --workers {cpus} or fewer"):
        ensure_ray(cpus + 1, None)


@pytest.mark.usefixtures("ray_cluster")
def test_another_process_joins_a_loopback_runtime_by_its_address() -> None:
    import ray

    address = ray.get_runtime_context().gcs_address
    assert address.startswith("127.0.0.1:")
    result = _python(
        f"""
        import ray
        from tradescan.sweep.ray_runtime import ensure_ray
        print(ensure_ray(1, {address!r}), ray.get_runtime_context().gcs_address)
        """,
        timeout_s=90,
    )
    assert result.stdout.split() == ["1", address], result.stderr[-500:]


def test_address_forms() -> None:
    assert split_address("auto") is None
    assert split_address("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert split_address("ray://head:10001") == ("head", 10001)
    assert split_address("[::1]:6379") == ("::1", 6379)
    for bad in ("head", "head:0", "head:70000", ":6379", "head:port", "x" * 200):
        with pytest.raises(TradeScanError, match=r"--address: expected auto, HOST:PORT or ray://HOST:PORT, got"):
            split_address(bad)


def test_an_address_where_nothing_listens_fails_within_seconds() -> None:
    started = time.monotonic()
    with pytest.raises(TradeScanError) as caught:
        probe_address("127.0.0.1:1")
    assert time.monotonic() - started < 10
    assert str(caught.value) == (
        "could not join the Ray cluster at 127.0.0.1:1: nothing answers at 127.0.0.1:1 (Connection refused); "
        "check --address, or start the head with `ray start --head`"
    )


def test_sweep_cli_with_a_dead_address_fails_with_one_line(tmp_path: Path, small_data_dir: Path) -> None:
    directive = write_directive(tmp_path, search={"trials": 4, "sampler": "random"})
    started = time.monotonic()
    result = _cli("sweep", str(directive), "--address", "127.0.0.1:1", "--data-dir", str(small_data_dir),
                  "--results-dir", str(tmp_path / "r"), timeout_s=90)
    assert time.monotonic() - started < 45  # was: minutes of Ray retries
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tradescan: error: could not join the Ray cluster at 127.0.0.1:1: "
                                                   "nothing answers"), result.stderr


# --- the local runtime listens on 127.0.0.1 only ---------------------------------------------------------

LISTENING_SOCKETS = """
import json, os, subprocess

def tree(root):
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    parents[int(name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier += children
    return found

def socket_inodes(pids):
    inodes = set()
    for pid in pids:
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes

def address(hex_address, family):
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if family == 4:
        text = ".".join(str(b) for b in raw[::-1])
    else:
        words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
        ip = __import__("ipaddress").IPv6Address(b"".join(words))
        text = f"::ffff:{ip.ipv4_mapped}" if ip.ipv4_mapped else ip.compressed
    return f"{text}:{int(port, 16)}"

def listening(pids):
    inodes = socket_inodes(pids)
    found = []
    for family, table in ((4, "/proc/net/tcp"), (6, "/proc/net/tcp6")):
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    found.append(address(fields[1], family))
    return found
"""


def _is_loopback(address: str) -> bool:
    host = address.rpartition(":")[0]
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


def test_a_local_runtime_listens_on_the_loopback_address_only() -> None:
    result = _python(
        LISTENING_SOCKETS
        + textwrap.dedent(
            """
            import time
            import ray
            from tradescan.sweep.ray_runtime import ensure_ray

            ensure_ray(1, None)

            @ray.remote(num_cpus=1)
            class Probe:
                def pid(self):
                    return os.getpid()

            probe = Probe.remote()  # kept referenced: its worker process must stay alive (it listens too)
            actor_pid = ray.get(probe.pid.remote())
            time.sleep(2)  # let the agents open their ports
            pids = tree(os.getpid())
            print(json.dumps({"actor_in_tree": actor_pid in pids, "listening": listening(pids),
                              "gcs": ray.get_runtime_context().gcs_address}))
            ray.shutdown()
            """
        )
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["actor_in_tree"], report
    assert report["gcs"].startswith("127.0.0.1:")
    assert len(report["listening"]) >= 3  # GCS, raylet, the worker: the check saw real sockets
    exposed = [address for address in report["listening"] if not _is_loopback(address)]
    assert exposed == [], f"listening beyond localhost: {exposed}"
