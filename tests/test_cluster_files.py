"""The bundled cluster-launcher files start every node with token authentication and keep the dashboard
(and its job server) on the head's loopback address; the README says how the token reaches the nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

CLUSTER_DIR = Path(__file__).resolve().parents[1] / "cluster"
LAUNCHER_FILES = ("aws.yaml", "local.yaml")


def _config(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CLUSTER_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_every_node_starts_ray_with_token_authentication(name: str) -> None:
    config = _config(name)
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        starts = [command for command in config[key] if "ray start" in command]
        assert len(starts) == 1, key
        assert "RAY_AUTH_MODE=token ray start" in starts[0], key


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_the_token_file_reaches_every_node_and_later_shells_use_it(name: str) -> None:
    config = _config(name)
    mounts = {remote: local for remote, local in config["file_mounts"].items() if remote.endswith("/.ray/auth_token")}
    assert list(mounts.values()) == ["~/.ray/auth_token"]  # file_mounts go to the head and every worker
    assert any("export RAY_AUTH_MODE=token" in command for command in config["setup_commands"])


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_the_dashboard_listens_on_the_head_loopback_only(name: str) -> None:
    text = (CLUSTER_DIR / name).read_text(encoding="utf-8")
    [head_start] = [command for command in _config(name)["head_start_ray_commands"] if "ray start" in command]
    assert "--dashboard-host=127.0.0.1" in head_start
    assert "0.0.0.0" not in text and "--dashboard-host=::" not in text


def test_readme_says_how_the_token_is_made_and_delivered() -> None:
    readme = (CLUSTER_DIR / "README.md").read_text(encoding="utf-8")
    for needed in ("ray get-auth-token --generate", "file_mounts", "RAY_AUTH_MODE=token",
                   "--dashboard-host=127.0.0.1", "ray dashboard cluster/aws.yaml"):
        assert needed in readme, needed
    assert "authentication **off**" not in readme


def test_submit_script_joins_with_token_authentication() -> None:
    source = (CLUSTER_DIR / "submit_sweep.py").read_text(encoding="utf-8")
    assert 'os.environ.setdefault("RAY_AUTH_MODE", "token")' in source
