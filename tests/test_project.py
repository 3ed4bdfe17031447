"""``tradescan init``: the project folder, its idempotence, and that run from it its own files are used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tradescan.cli import main
from tradescan.directive import load_directive
from tradescan.engine.broker import load_broker
from tradescan.errors import TradeScanError
from tradescan.paths import CONFIGS_DIR
from tradescan.preflight import prepare
from tradescan.project import init_project
from tradescan.registry import get_strategy
from tradescan.search_space import load_search_space

FILES = [
    "strategies/my_strategy.py",
    "search_spaces/my_strategy.yaml",
    "configs/directives/my_strategy.yaml",
    "configs/brokers/my_broker.yaml",
    "README.md",
    ".gitignore",
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is not the project folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_writes_the_project_files(tmp_path: Path, elsewhere: Path) -> None:
    result = init_project(tmp_path / "proj")
    assert result.created == [tmp_path / "proj" / name for name in FILES] and result.existing == []
    assert result.strategy == "MY_STRATEGY"
    assert result.next_commands() == [
        f"cd {tmp_path / 'proj'}",
        "tradescan data synth --symbols EURUSD,GBPUSD,USDJPY --timeframe H1 --bars 30000 --seed 42",
        "tradescan check-strategy MY_STRATEGY --symbol EURUSD --timeframe H1",
        "tradescan preflight configs/directives/my_strategy.yaml",
        "tradescan sweep configs/directives/my_strategy.yaml",
    ]
    assert (tmp_path / "proj" / ".gitignore").read_text().split() == ["data/", "results/", "out/"]


def test_directive_is_the_quickstart_one_pointed_at_the_project_files(tmp_path: Path, elsewhere: Path) -> None:
    init_project(tmp_path / "proj")
    mine = load_directive(tmp_path / "proj" / "configs" / "directives" / "my_strategy.yaml").model_dump()
    quickstart = load_directive(CONFIGS_DIR / "directives" / "quickstart.yaml").model_dump()
    own = {"name": "MY_STRATEGY", "strategy": "MY_STRATEGY", "broker": "my_broker"}
    assert {key: mine[key] for key in own} == own
    assert mine["search"] == {**quickstart["search"], "space": "search_spaces/my_strategy.yaml"}
    assert {k: v for k, v in mine.items() if k not in {*own, "search"}} == {
        k: v for k, v in quickstart.items() if k not in {*own, "search"}
    }


def test_broker_is_the_bundled_default_renamed(tmp_path: Path, elsewhere: Path) -> None:
    init_project(tmp_path / "proj")
    text = (tmp_path / "proj" / "configs" / "brokers" / "my_broker.yaml").read_text()
    assert text.startswith('# Broker cost profile "my_broker"')
    mine = load_broker(tmp_path / "proj" / "configs" / "brokers" / "my_broker.yaml")
    assert mine.name == "my_broker"
    assert mine.model_dump(exclude={"name"}) == load_broker("default").model_dump(exclude={"name"})


def test_run_from_the_folder_its_own_files_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    init_project(project)
    monkeypatch.chdir(project)
    plan = prepare("configs/directives/my_strategy.yaml", data_dir=project / "data")
    assert plan.run_id.startswith("MY_STRATEGY-")
    assert plan.space.path == (project / "search_spaces" / "my_strategy.yaml").resolve()
    assert type(plan.strategy).__module__.startswith("tradescan_user_strategies.my_strategy_")
    assert load_broker("my_broker").name == "my_broker"
    space = load_search_space(project / "search_spaces" / "my_strategy.yaml", get_strategy("MY_STRATEGY"))
    assert set(space.params) == {"fast", "slow", "k_sl", "k_tp"}


def test_second_run_changes_nothing_and_a_deleted_file_comes_back(tmp_path: Path, elsewhere: Path) -> None:
    project = tmp_path / "proj"
    init_project(project)
    directive = project / "configs" / "directives" / "my_strategy.yaml"
    directive.write_text("# my own edits\n")
    again = init_project(project)
    assert again.created == [] and again.existing == [project / name for name in FILES]
    assert directive.read_text() == "# my own edits\n"
    assert f"exists, left unchanged: {directive}" in str(again)
    (project / "README.md").unlink()
    third = init_project(project)
    assert third.created == [project / "README.md"]


def test_other_strategy_name(tmp_path: Path, elsewhere: Path) -> None:
    result = init_project(tmp_path / "p", strategy="RsiRevert")
    assert result.directive_file == tmp_path / "p" / "configs" / "directives" / "rsi_revert.yaml"
    assert load_directive(result.directive_file).strategy == "RSI_REVERT"
    assert 'name = "RSI_REVERT"' in (tmp_path / "p" / "strategies" / "rsi_revert.py").read_text()


def test_folder_that_is_a_file_is_refused(tmp_path: Path, elsewhere: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(TradeScanError, match=r"/f: is a file; give a folder"):
        init_project(tmp_path / "f")


def test_unwritable_place_is_a_one_line_error(tmp_path: Path, elsewhere: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "configs").write_text("a file where a folder should be")
    with pytest.raises(TradeScanError, match=r"proj/configs/directives: cannot make the folder"):
        init_project(tmp_path / "proj")


# --- the command --------------------------------------------------------------------------------------


def test_cli_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[: len(FILES)] == [f"created {name}" for name in FILES]
    synth = "tradescan data synth --symbols EURUSD,GBPUSD,USDJPY --timeframe H1 --bars 30000 --seed 42"
    assert out[len(FILES) + 1] == f"  {synth}"
    assert not any(line.strip().startswith("cd ") for line in out)


def test_cli_json(tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "proj"), "--strategy", "MY_IDEA", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["strategy"] == "MY_IDEA" and printed["existing"] == []
    assert printed["directive"] == str(tmp_path / "proj" / "configs" / "directives" / "my_idea.yaml")
    assert yaml.safe_load(Path(printed["directive"]).read_text())["strategy"] == "MY_IDEA"


def test_cli_bad_name_is_one_line(tmp_path: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "proj"), "--strategy", "../evil"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid strategy name '../evil'" in err
    assert not (tmp_path / "proj").exists()
