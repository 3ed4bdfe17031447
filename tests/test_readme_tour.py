"""The README's tour runs as written, every command in order, in a fresh folder, and destroys no data.

The commands are taken from README.md (the first ``bash`` block under "A short tour") and run by one
``bash`` process (so ``RUN=$(...)`` and ``> best.yaml`` work as in a terminal), each one's status and
output recorded. Only ``tradescan dashboard`` is not run: it serves until stopped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SERVES_FOREVER = "tradescan dashboard"
SAMPLE = REPO / "examples" / "EURGBP_H1_mt4.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the tour's sweep runs with --workers 2"),
]


def tour_commands(readme: str) -> list[str]:
    """Return the tour's commands in order: continuation lines joined, blank and comment lines dropped."""
    section = readme.split("## A short tour", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "README.md: no ```bash block under '## A short tour'"
    lines = match.group(1).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


@dataclass(frozen=True)
class Step:
    """One tour command as it ran."""

    command: str
    status: int
    out: str
    err: str


def _shims(folder: Path) -> Path:
    # `tradescan` and `python` as the tour's shell finds them: this interpreter, with its packages.
    folder.mkdir()
    for name, target in (("tradescan", f"{shlex.quote(sys.executable)} -m tradescan"),
                         ("python", shlex.quote(sys.executable))):
        (folder / name).write_text(f'#!/bin/sh\nexec {target} "$@"\n', encoding="utf-8")
        (folder / name).chmod(0o755)
    return folder


def _run_tour(commands: list[str], clone: Path, logs: Path, bin_dir: Path) -> list[Step]:
    logs.mkdir()
    script = ["set -u -o pipefail", f"exec 3>{shlex.quote(str(logs / 'status'))}"]
    for index, command in enumerate(commands):
        out, err = shlex.quote(str(logs / f"{index}.out")), shlex.quote(str(logs / f"{index}.err"))
        # Braces, not a subshell: RUN=... stays set. The command on its own line: a trailing comment ends there.
        script += ["{", command, f"}} >{out} 2>{err}", f'echo "{index} $? $SECONDS" >&3']  # status, seconds since start
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESCAN_") and k != "RAY_ADDRESS"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, f"the tour's shell failed: {done.stderr[-2000:]}"
    statuses = {i: status for i, status, _ in (line.split() for line in (logs / "status").read_text().splitlines())}
    return [Step(command, int(statuses[str(i)]), (logs / f"{i}.out").read_text(), (logs / f"{i}.err").read_text())
            for i, command in enumerate(commands)]


def _pending(bin_dir: Path) -> list[str]:
    """Return the substrings of tour lines that may fail because another branch's work is not merged yet.

    ``top --rank`` (one finalist per ``--symbol/--rank``) belongs to the results work, the params file it
    writes being read by ``backtest --params-file`` to the config work. Once ``top --help`` offers
    ``--rank``, nothing is tolerated.
    """
    done = subprocess.run([str(bin_dir / "tradescan"), "top", "--help"], capture_output=True, text=True,
                          timeout=120, check=False)
    return [] if "--rank" in done.stdout else ["--rank", "--params-file best.yaml"]


def _sample_bars() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, header=None, names=["date", "clock", "open", "high", "low", "close", "volume"])


def test_tour_lists_the_commands_it_promises() -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    assert commands[0] == "tradescan data import examples/EURGBP_H1_mt4.csv --symbol EURGBP --timeframe H1"
    top = commands.index('tradescan top "$RUN" --format yaml --symbol AUDUSD --rank 1 > best.yaml')
    assert commands[top + 1].startswith("tradescan backtest --params-file best.yaml ")
    assert any(c.startswith("tradescan init ") for c in commands)
    assert sum(c.startswith(SERVES_FOREVER) for c in commands) == 1
    assert len(commands) >= 15


def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    commands = [c for c in tour_commands(README.read_text(encoding="utf-8")) if not c.startswith(SERVES_FOREVER)]
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(REPO / "examples", clone / "examples")  # the one repo file the tour reads
    bin_dir = _shims(tmp_path / "bin")
    pending = _pending(bin_dir)
    steps = _run_tour(commands, clone, tmp_path / "logs", bin_dir)

    tolerated = [s for s in steps if s.status != 0 and any(p in s.command for p in pending)]
    failed = [s for s in steps if s.status != 0 and s not in tolerated]
    assert not failed, "\n".join(f"exit {s.status}: {s.command}\n{s.err[-1500:]}" for s in failed)

    by_start = {s.command.split("  #")[0].strip(): s for s in steps}
    sweep = next(s for c, s in by_start.items() if c.startswith("tradescan sweep "))
    run_id = re.search(r"\bTOUR-[0-9a-f]{12}\b", sweep.out)
    assert run_id, sweep.out[-1000:]
    top_table = next(s for c, s in by_start.items() if c == 'tradescan top "$RUN" --symbol AUDUSD')
    assert "AUDUSD" in top_table.out and "NZDUSD" not in top_table.out
    assert (clone / "my_research" / "configs" / "directives" / "my_strategy.yaml").is_file()
    assert (clone / "out" / "s1_audusd" / "trades.parquet").is_file()

    # No data destroyed: the imported sample is still exactly the sample, after every later command.
    from tradescan import data

    stored = data.load("EURGBP", "H1", data_dir=clone / "data")
    sample = _sample_bars()
    assert len(stored) == len(sample) == 2000
    for column in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(stored[column].to_numpy(), sample[column].to_numpy())

    if tolerated:
        pytest.xfail("pending other branches (" + ", ".join(pending) + "): "
                     + "; ".join(f"exit {s.status}: {s.command} -> {s.err.strip()[-300:]}" for s in tolerated))
    best = (clone / "best.yaml").read_text(encoding="utf-8")
    assert "AUDUSD" in best and run_id.group(0) in best


def test_tour_data_commands_run_twice(tmp_path: Path) -> None:
    """Re-running the tour's import (the same file) refreshes EURGBP; synth and resample refresh their own."""
    commands = [c for c in tour_commands(README.read_text(encoding="utf-8")) if c.startswith("tradescan data ")]
    assert commands[0].startswith("tradescan data import ") and len(commands) >= 4
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(REPO / "examples", clone / "examples")
    steps = _run_tour(commands + commands, clone, tmp_path / "logs", _shims(tmp_path / "bin"))
    assert [(s.command, s.status) for s in steps if s.status != 0] == []
    assert steps[len(commands)].out.startswith("imported examples/EURGBP_H1_mt4.csv (mt4): EURGBP H1: 2,000 bars, ")
    from tradescan import data

    stored = data.load("EURGBP", "H1", data_dir=clone / "data")
    np.testing.assert_array_equal(stored["close"].to_numpy(), _sample_bars()["close"].to_numpy())


def test_harness_keeps_variables_and_reports_each_status(tmp_path: Path) -> None:
    commands = ["RUN=$(echo TOUR-1)  # a comment", 'test "$RUN" = TOUR-1', "echo out; echo err >&2; false",
                "echo kept > f.txt", "cat f.txt"]
    (tmp_path / "clone").mkdir()
    steps = _run_tour(commands, tmp_path / "clone", tmp_path / "logs", _shims(tmp_path / "bin"))
    assert [s.status for s in steps] == [0, 0, 1, 0, 0]
    assert (steps[2].out, steps[2].err, steps[3].out, steps[4].out) == ("out\n", "err\n", "", "kept\n")


def test_ci_runs_the_readme_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    main_job, tests = re.findall(r"```bash\n(.*?)\n```", section, re.S)
    assert main_job == "python -m pip install -e . && tradescan quickstart"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.splitlines().count(tests) == 1, f".ci/run must run the README's test command: {tests}"
    assert ci.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in ci
    assert re.search(r'/tradescan" quickstart\)', ci) and "QUICKSTART-[0-9a-f]{12}" in ci
    assert "ruff check .\n" in ci and "\nmypy\n" in ci
