"""Helpers of the cluster tests: a private Ray head, a private PostgreSQL server, directives, trials.

Everything here is started for the tests and stopped by them, on this machine only: a Ray head with
its own ``--temp-dir`` (stopped by killing the processes whose command line names that folder, and
their children: ``ray stop`` would stop every Ray on the machine, other people's too), and a
PostgreSQL cluster in a temporary folder listening on 127.0.0.1 and a socket in that folder.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBMIT_SCRIPT = REPO_ROOT / "cluster" / "submit_sweep.py"
JOB_TIMEOUT_S = 300
RAY_START_TIMEOUT_S = 120
PG_START_TIMEOUT_S = 60
REFERENCE_TRIALS = 24  # write_directive's default budget
Trials = list[tuple[int, str, dict[str, Any], float | None]]


def ray_cli() -> str:
    """Return the ``ray`` command of this Python's environment (next to it), else the one on ``PATH``."""
    beside = Path(sys.executable).with_name("ray")
    if beside.exists():
        return str(beside)
    found = shutil.which("ray")
    if found is None:
        raise FileNotFoundError(f"no `ray` command next to {sys.executable} or on PATH")
    return found


def free_port() -> int:
    """Return a TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_directive(folder: Path, name: str, **fields: Any) -> Path:
    """Write a small directive (S1 on EURUSD, TPE, 24 trials, batches of 8) into ``folder``; return its path."""
    body: dict[str, Any] = {
        "name": name,
        "strategy": "S1_TREND_EMA_ATR_ADX",
        "symbols": ["EURUSD"],
        "timeframe": "H1",
        "search": {"sampler": "tpe", "trials": 24, "seed": 5},
        "stage1": {"min_trades": 20},
        "stage2": {"top_k": 2},
        "batch_size": 8,
    }
    body.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def tradescan_env(**extra: str) -> dict[str, str]:
    """Return the environment of a child process that imports this checkout's ``tradescan``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def run_cli(args: list[str], *, env: Mapping[str, str] | None = None, timeout_s: float = 240,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``tradescan ARGS`` in a child process (this checkout, this Python) and return what it did."""
    command = [sys.executable, "-c", "import sys; from tradescan.cli import main; sys.exit(main(sys.argv[1:]))", *args]
    return subprocess.run(command, env=dict(env or tradescan_env()), capture_output=True, text=True,
                          timeout=timeout_s, cwd=cwd)


def last_json(text: str) -> dict[str, Any]:
    """Return the last JSON object in ``text`` that starts a line (``--json`` prints it indented, and
    ``ray job submit`` mixes it with its own log lines)."""
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    for start in (i for i, char in enumerate(text) if char == "{" and (i == 0 or text[i - 1] == "\n")):
        with contextlib.suppress(json.JSONDecodeError):
            value, _ = decoder.raw_decode(text, start)
            if isinstance(value, dict):
                found = value
    if found is None:
        raise AssertionError(f"no JSON object in the output: {text[-800:]!r}")
    return found


SLOW_TRIAL_S = 0.03
SLOW_STRATEGY = textwrap.dedent(
    '''
    """A moving-average cross that sleeps SLOW_TRIAL_S s per trial, so that a test can act during stage 1."""
    from __future__ import annotations

    import time

    import numpy as np
    from pydantic import BaseModel, Field

    from tradescan import Signals, Strategy


    class SlowCross(Strategy):
        name = "TEST_SLOW_CROSS"

        class Params(BaseModel):
            fast: int = Field(10, ge=2, le=20)
            slow: int = Field(50, ge=30, le=100)

        def warmup(self, params):
            return params.slow

        def signals(self, bars, params):
            time.sleep(SLOW_TRIAL_S)
            close = bars.close
            fast_mean = np.convolve(close, np.ones(params.fast) / params.fast)[: len(close)]
            slow_mean = np.convolve(close, np.ones(params.slow) / params.slow)[: len(close)]
            entry = np.where(fast_mean > slow_mean, 1, -1).astype(np.int8)
            entry[: params.slow] = 0
            stop = np.full(len(close), 30 * bars.instrument.pip_size)
            return Signals(entry=entry, stop_distance=stop, target_distance=stop * 2)
    '''
).replace("SLOW_TRIAL_S", repr(SLOW_TRIAL_S))


def slow_strategy(folder: Path, trials: int, seed: int) -> dict[str, Any]:
    """Write TEST_SLOW_CROSS and its search space into ``folder``; return the directive fields of a
    random search of ``trials`` trials over it (batches of 4)."""
    strategies = folder / "user_strategies"
    strategies.mkdir(exist_ok=True)
    (strategies / "slow_cross.py").write_text(SLOW_STRATEGY, encoding="utf-8")
    space = folder / "slow_cross.yaml"
    space.write_text(yaml.safe_dump({
        "params": {"fast": {"type": "int", "low": 2, "high": 20},
                   "slow": {"type": "int", "low": 30, "high": 100, "step": 10}},
    }), encoding="utf-8")
    return {"strategy": "TEST_SLOW_CROSS", "strategy_paths": [str(strategies)], "stage1": {"min_trades": 5},
            "batch_size": 4, "search": {"space": str(space), "sampler": "random", "trials": trials, "seed": seed}}


# --- Optuna studies ----------------------------------------------------------------------------------


def open_storage(spec: str) -> Any:
    """Open an Optuna storage through Optuna's public API: an RDB URL, or a journal file path."""
    if "://" in spec:
        return optuna.storages.RDBStorage(spec)
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(spec))


def study_trials(spec: str, run_id: str, symbol: str) -> Trials:
    """Return ``(number, state, params, value)`` of every trial of one symbol's study, by number."""
    study = optuna.load_study(study_name=f"{run_id}/{symbol}", storage=open_storage(spec))
    return sorted((t.number, t.state.name, dict(t.params), t.value) for t in study.get_trials(deepcopy=False))


# --- processes started for a test ---------------------------------------------------------------------


def _process_table() -> list[tuple[int, int, str]]:
    table = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        table.append((int(entry.name), parent, command))
    return table


def processes_naming(marker: str) -> set[int]:
    """Return the pids whose command line contains ``marker``, and all their descendants."""
    table = _process_table()
    found = {pid for pid, _, command in table if marker in command}
    grew = True
    while grew:
        grew = False
        for pid, parent, _ in table:
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    found.discard(os.getpid())
    return found


def stop_processes(pids: set[int], grace_s: float = 3.0) -> None:
    """SIGTERM ``pids``, then SIGKILL whichever still runs after ``grace_s``."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if _running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --- a private Ray head -------------------------------------------------------------------------------


def installed_ray_has_token_auth() -> bool:
    """Return whether the installed Ray knows token authentication (``RAY_AUTH_MODE=token``, Ray ≥ 2.52)."""
    import ray._raylet

    return hasattr(ray._raylet, "AuthenticationMode")


@dataclass
class RayHead:
    """A Ray head started with ``ray start --head`` for the tests, its job server on 127.0.0.1.

    ``env`` is what a client needs to reach it (the token when token authentication is on).
    """

    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    env: dict[str, str] = field(default_factory=dict)
    token: str | None = None

    @property
    def job_address(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def gcs_address(self) -> str:
        """Return the head's GCS address (``host:port``) as Ray wrote it into the session folder."""
        latest = self.temp_dir / "ray_current_cluster"
        if latest.exists():
            return latest.read_text().strip().splitlines()[0]
        return f"127.0.0.1:{self.gcs_port}"

    @classmethod
    def start(cls, num_cpus: int = 2) -> RayHead:
        """Start the head (token authentication on when Ray supports it); raise with Ray's output if it fails."""
        temp_dir = Path(tempfile.mkdtemp(prefix="tsray-", dir="/tmp"))  # short: Ray's socket paths are limited
        ports = {name: free_port() for name in (
            "port", "dashboard-port", "ray-client-server-port", "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port", "node-manager-port",
            "object-manager-port")}
        token = secrets.token_hex(32) if installed_ray_has_token_auth() else None
        env = tradescan_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token) if token else tradescan_env()
        env.pop("RAY_ADDRESS", None)
        env["RAY_USAGE_STATS_ENABLED"] = "0"
        head = cls(temp_dir, ports["port"], ports["dashboard-port"], env, token)
        command = [
            ray_cli(), "start", "--head", "--num-cpus", str(num_cpus), "--dashboard-host", "127.0.0.1",
            "--node-ip-address", "127.0.0.1",
            "--temp-dir", str(temp_dir), "--object-store-memory", str(200 * 2**20), "--disable-usage-stats",
            *(f"--{name}={port}" for name, port in ports.items()),
        ]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RAY_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            head.stop()
            raise RuntimeError(f"ray start --head did not finish within {RAY_START_TIMEOUT_S} s") from None
        if done.returncode != 0:
            head.stop()
            raise RuntimeError(f"ray start --head failed ({done.returncode}): {done.stderr[-1500:]}")
        return head

    def stop(self) -> None:
        """Stop this head's processes only (found by its temp folder), then remove the folder."""
        stop_processes(processes_naming(str(self.temp_dir)))
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def job_submit(head: RayHead, working_dir: Path, *entrypoint: str) -> subprocess.CompletedProcess[str]:
    """Run ``ray job submit --working-dir WORKING_DIR -- ENTRYPOINT`` against ``head`` and wait for the job."""
    command = [ray_cli(), "job", "submit", "--address", head.job_address, "--working-dir", str(working_dir),
               "--", *entrypoint]
    return subprocess.run(command, env=head.env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S)


@dataclass(frozen=True)
class SubmittedSweep:
    """A sweep submitted with ``ray job submit`` (``cluster/submit_sweep.py``): what the CLI printed,
    the job's own JSON outcome and the trials it stored."""

    done: subprocess.CompletedProcess[str]
    outcome: dict[str, Any]
    trials: Trials


# --- a private PostgreSQL server ----------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """Return the folder with ``initdb`` and ``pg_ctl``: ``$TRADESCAN_PG_BIN``, ``PATH``, or Debian's newest."""
    configured = os.environ.get("TRADESCAN_PG_BIN")
    if configured:
        return Path(configured)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster: trust authentication, 127.0.0.1 only, no fsync (test data)."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None
    user: str = "tradescan"
    _databases: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database`` as a user would type it for ``--storage``."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        return ["runuser", "-u", self.run_as, "--", *command] if self.run_as else command

    @classmethod
    def start(cls) -> PostgresServer:
        """Create and start a cluster; raise ``RuntimeError`` naming the step and PostgreSQL's output."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None or not (bin_dir / "initdb").exists():
            raise FileNotFoundError("no PostgreSQL server programs (initdb, pg_ctl) on PATH or in /usr/lib/postgresql")
        run_as = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise FileNotFoundError("running as root and there is no 'postgres' user to run the server") from None
            if shutil.which("runuser") is None:
                raise FileNotFoundError("running as root and there is no `runuser` to run the server as 'postgres'")
            run_as = "postgres"
        root = Path(tempfile.mkdtemp(prefix="tspg-", dir="/tmp"))
        server = cls(bin_dir, root, free_port(), run_as)
        if run_as:
            entry = pwd.getpwnam(run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server._step("initdb", "-D", str(server.data_dir), "-U", server.user, "--auth=trust", "-E", "UTF8",
                     "--no-sync", "--no-instructions")
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        server._step("pg_ctl", "-D", str(server.data_dir), "-l", str(root / "server.log"), "-o", options,
                     "-w", "-t", str(PG_START_TIMEOUT_S), "start")
        return server

    def _step(self, program: str, *args: str) -> None:
        try:
            done = subprocess.run(self._command(program, *args), capture_output=True, text=True,
                                  timeout=PG_START_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"{program} did not finish within {PG_START_TIMEOUT_S + 30} s") from None
        if done.returncode != 0:
            log = self.root / "server.log"
            detail = (done.stderr or done.stdout)[-800:] + (log.read_text()[-800:] if log.exists() else "")
            self.stop()
            raise RuntimeError(f"{program} failed ({done.returncode}): {detail}")

    def create_database(self) -> str:
        """Create a fresh, empty database and return its URL."""
        import psycopg

        self._databases += 1
        name = f"t{self._databases}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and remove its folder."""
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(self._command("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                           capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def started(factory: Any) -> Iterator[Any]:
    """Start ``factory()``, yield it, stop it afterwards."""
    thing = factory()
    try:
        yield thing
    finally:
        thing.stop()
