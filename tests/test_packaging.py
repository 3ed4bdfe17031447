"""A built wheel holds every bundled file, and installed from it Trade_Scan works from an empty folder.

The wheel is built once per module (``pip wheel --no-deps``, about 10 s) and installed with ``pip install
--no-deps --target`` (the dependencies are this environment's); ``.ci/run`` does the full install into a
fresh virtual environment and runs ``tradescan quickstart``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tradescan"
pytestmark = pytest.mark.skipif(not (REPO / "pyproject.toml").is_file(), reason="needs the source tree")


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools reuses ./build/lib, where a file deleted from the tree would live on.
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO, source, ignore=_not_source)
    out = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)])
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("tradescan-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)])
    assert done.returncode == 0, done.stderr[-2000:]
    return target


def _not_source(folder: str, names: list[str]) -> set[str]:
    top_level = {".git", "build", "dist", "data", "results", "out"} if Path(folder) == REPO else set()
    return {n for n in names if n in top_level or n == "__pycache__" or n.endswith((".egg-info", ".pyc"))
            or n.startswith(".venv")}


def _package_files(folder: Path, pattern: str) -> set[str]:
    files = [p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts]
    return {p.relative_to(REPO).as_posix() for p in files}


def test_wheel_holds_every_bundled_file_and_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _package_files(PACKAGE / "bundled", "**/*") | _package_files(PACKAGE / "templates", "*")
    expected |= _package_files(PACKAGE, "**/*.py")
    assert len(expected) >= 20 and {"tradescan/bundled/configs/directives/quickstart.yaml",
                                    "tradescan/bundled/strategies/s1_trend_ema_atr_adx.py"} <= expected
    assert sorted(expected - names) == []
    assert "tradescan/py.typed" in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "cluster/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tradescan = tradescan.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def _tradescan(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("TRADESCAN_INSTRUMENTS", None)
    env.pop("TRADESCAN_STRATEGY_PATH", None)
    return _run([sys.executable, "-m", "tradescan", *args], cwd=cwd, env=env)


IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys, tradescan, tradescan.paths
for module in pkgutil.walk_packages(tradescan.__path__, "tradescan."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(tradescan.paths.BUNDLED_DIR)
print("\\n".join(sorted({m.__file__ for n, m in sys.modules.items() if n.startswith("tradescan.")})))
"""


def test_installed_package_is_the_wheel_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    # An editable install of the source tree may also be on sys.path: every module must come from the wheel.
    done = _run([sys.executable, "-c", IMPORT_EVERY_MODULE], cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(installed)})
    assert done.returncode == 0, done.stderr[-2000:]
    bundled, *files = done.stdout.splitlines()
    assert bundled == str((installed / "tradescan" / "bundled").resolve())
    assert len(files) > 40
    assert [f for f in files if not Path(f).resolve().is_relative_to(installed.resolve())] == []


def test_installed_wheel_works_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    synth = _tradescan(installed, tmp_path, "data", "synth", "--symbols", "EURUSD", "--timeframe", "H1",
                       "--bars", "3000", "--seed", "1", "--json")
    assert synth.returncode == 0, synth.stderr
    backtest = _tradescan(installed, tmp_path, "backtest", "--strategy", "S1_TREND_EMA_ATR_ADX", "--symbol",
                          "EURUSD", "--timeframe", "H1", "--broker", "retail_ecn", "--json")
    assert backtest.returncode == 0, backtest.stderr
    assert set(json.loads(backtest.stdout)["metrics"]) == {"A", "B", "C"}
    preflight = _tradescan(installed, tmp_path, "preflight", "configs/directives/quickstart.yaml", "--json")
    verdicts = json.loads(preflight.stdout)  # GBPUSD and USDJPY have no data: BLOCK, exit 1
    assert preflight.returncode == 1 and verdicts["run_id"].startswith("QUICKSTART-")
    assert [verdicts["symbols"][s]["status"] for s in ("EURUSD", "GBPUSD", "USDJPY")] == ["ALLOW", "BLOCK", "BLOCK"]
    new = _tradescan(installed, tmp_path, "new-strategy", "MY_IDEA")
    assert new.returncode == 0 and (tmp_path / "strategies" / "my_idea.py").is_file(), new.stderr
    init = _tradescan(installed, tmp_path, "init", "proj")
    assert init.returncode == 0 and (tmp_path / "proj" / "configs" / "brokers" / "my_broker.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "proj", "search_spaces", "strategies"]
