"""The one lookup rule (working directory, then the referring file's folder, then bundled) and its users."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tradescan import instruments
from tradescan.directive import directive_path, load_directive
from tradescan.engine.broker import available_brokers, load_broker
from tradescan.errors import ConfigError
from tradescan.paths import BUNDLED_DIR, CONFIGS_DIR, SEARCH_SPACES_DIR, find_file, lookup_dirs, lookup_roots
from tradescan.preflight import default_space_path, prepare
from tradescan.registry import get_strategy

QUICKSTART = "configs/directives/quickstart.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (the user's project folder)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADESCAN_INSTRUMENTS", raising=False)
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_roots_are_cwd_then_base_then_bundled(project: Path) -> None:
    assert lookup_roots(project / "d") == [project.resolve(), (project / "d").resolve(), BUNDLED_DIR]
    assert lookup_roots() == [project.resolve(), BUNDLED_DIR]


def test_bundled_file_when_the_user_has_none(project: Path) -> None:
    assert find_file(QUICKSTART) == CONFIGS_DIR / "directives" / "quickstart.yaml"
    assert find_file("configs/directives/nope.yaml") is None


def test_user_file_hides_the_bundled_one_and_base_dir_sits_between(project: Path) -> None:
    beside = _write(project / "d" / "search_spaces" / "s1_trend_ema_atr_adx.yaml", "beside")
    assert find_file("search_spaces/s1_trend_ema_atr_adx.yaml", project / "d") == beside.resolve()
    user = _write(project / "search_spaces" / "s1_trend_ema_atr_adx.yaml", "user")
    assert find_file("search_spaces/s1_trend_ema_atr_adx.yaml", project / "d") == user.resolve()


def test_absolute_reference_is_itself_or_nothing(project: Path) -> None:
    target = _write(project / "x.yaml", "x")
    assert find_file(str(target)) == target.resolve()
    assert find_file(str(project / "missing.yaml")) is None
    assert find_file(str(project)) is None  # a folder is not a file


def test_lookup_dirs_lists_existing_folders_user_first(project: Path) -> None:
    assert lookup_dirs("configs/brokers") == [CONFIGS_DIR / "brokers"]
    (project / "configs" / "brokers").mkdir(parents=True)
    assert lookup_dirs("configs/brokers") == [project.resolve() / "configs" / "brokers", CONFIGS_DIR / "brokers"]


# --- brokers ------------------------------------------------------------------------------------------


def test_user_broker_hides_the_bundled_profile_of_that_name(project: Path) -> None:
    assert load_broker("default").commission_per_lot == 0.0
    _write(project / "configs" / "brokers" / "default.yaml", "commission_per_lot: 3.5\nspread_pips: {'*': 1.0}\n")
    _write(project / "configs" / "brokers" / "mine.yaml", "spread_pips: {EURUSD: 0.2}\n")
    assert load_broker("default").commission_per_lot == 3.5
    assert load_broker("mine").spread_for("EURUSD") == 0.2
    found = available_brokers()
    assert found["default"] == project.resolve() / "configs" / "brokers" / "default.yaml"
    assert found["zero"] == CONFIGS_DIR / "brokers" / "zero.yaml"


# --- directives ---------------------------------------------------------------------------------------


def test_directive_path_falls_back_to_the_bundled_file(project: Path) -> None:
    assert directive_path(QUICKSTART) == CONFIGS_DIR / "directives" / "quickstart.yaml"
    assert load_directive(QUICKSTART).name == "QUICKSTART"


def test_user_directive_hides_the_bundled_one(project: Path) -> None:
    bundled = yaml.safe_load((CONFIGS_DIR / "directives" / "quickstart.yaml").read_text(encoding="utf-8"))
    _write(project / QUICKSTART, yaml.safe_dump({**bundled, "name": "MINE"}))
    assert directive_path(QUICKSTART) == Path(QUICKSTART)
    assert load_directive(QUICKSTART).name == "MINE"


def test_missing_directive_names_where_it_looked_and_the_bundled_ones(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"configs/directives/nope\.yaml: directive file not found in .* nor in "
                       r"the bundled files \(bundled configs/directives: .*quickstart\.yaml"):
        load_directive("configs/directives/nope.yaml")
    with pytest.raises(ConfigError, match=r"/abs/nope\.yaml: directive file not found$"):
        load_directive("/abs/nope.yaml")


def test_prepare_resolves_a_bundled_directive_from_an_empty_folder(project: Path) -> None:
    plan = prepare(QUICKSTART, data_dir=project / "data")
    assert plan.run_id.startswith("QUICKSTART-")
    assert plan.space.path == SEARCH_SPACES_DIR / "s1_trend_ema_atr_adx.yaml"


# --- search spaces ------------------------------------------------------------------------------------


def test_default_space_is_the_users_then_the_bundled_one(project: Path) -> None:
    strategy = get_strategy("S1_TREND_EMA_ATR_ADX")
    assert default_space_path(strategy) == SEARCH_SPACES_DIR / "s1_trend_ema_atr_adx.yaml"
    user = _write(project / "search_spaces" / "s1_trend_ema_atr_adx.yaml", "params: {}\n")
    assert default_space_path(strategy) == user.resolve()


# --- instruments --------------------------------------------------------------------------------------


def test_project_instruments_merge_over_bundled_and_env_over_both(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(project / "configs" / "instruments.yaml", yaml.safe_dump({
        "EURUSD": {"price_precision": 4},
        "MYCOIN": {"pip_size": 0.5, "price_precision": 1, "contract_size": 1, "base": "MYC", "quote": "USD",
                   "asset_class": "crypto", "days_per_year": 365},
    }))
    assert instruments.get("EURUSD").price_precision == 4
    assert instruments.get("EURUSD").pip_size == 0.0001  # the other fields stay the bundled ones
    assert instruments.get("MYCOIN").pip_size == 0.5
    env_file = _write(project / "extra.yaml", yaml.safe_dump({"MYCOIN": {"pip_size": 0.25}}))
    monkeypatch.setenv("TRADESCAN_INSTRUMENTS", str(env_file))
    assert instruments.get("MYCOIN").pip_size == 0.25
    assert instruments.get("EURUSD").price_precision == 4


def test_without_a_project_file_only_the_bundled_registry(project: Path) -> None:
    assert instruments.instrument_files() == (str(CONFIGS_DIR / "instruments.yaml"),)
