"""Strategy discovery: bundled folder, $TRADESCAN_STRATEGY_PATH, duplicates, unknown names, and which
folders may run code (a params file never runs code from the folders it records)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError
from tradescan.paths import STRATEGIES_DIR
from tradescan.registry import (
    discover,
    get_strategy,
    resolve_strategy_paths,
    source_hash,
    strategy_dirs,
    strategy_for_params_file,
)
from tradescan.strategy import Strategy

_MODULE = """
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from tradescan import Bars, Signals, Strategy


class {cls}(Strategy):
    name = "{name}"

    class Params(BaseModel):
        lookback: int = Field(5, ge=1, le=50)

    def signals(self, bars: Bars, params: Params) -> Signals:
        n_bars = len(bars)
        return Signals(np.zeros(n_bars, dtype=np.int8), np.full(n_bars, np.nan), np.full(n_bars, np.nan))
"""


def _write(folder: Path, file_name: str, name: str, cls: str = "UserStrategy") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_text(_MODULE.format(cls=cls, name=name), encoding="utf-8")
    return path


def test_bundled_strategies_are_found() -> None:
    found = discover()
    for name in ("S1_TREND_EMA_ATR_ADX", "S2_MR_ZSCORE_EMA_REGIME", "S3_BREAKOUT_ATR_REGIME_EMA200"):
        assert name in found and issubclass(found[name], Strategy)


def test_strategy_path_env_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    _write(first, "alpha.py", "USER_ALPHA")
    _write(second, "beta.py", "USER_BETA")
    _write(second, "_private.py", "USER_HIDDEN")
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", f"{first}{os.pathsep}{second}")
    assert first.resolve() in strategy_dirs() and second.resolve() in strategy_dirs()
    found = discover()
    assert {"USER_ALPHA", "USER_BETA"} <= set(found) and "USER_HIDDEN" not in found
    strategy = get_strategy("USER_BETA")
    assert strategy.name == "USER_BETA" and strategy.parse_params({}).model_dump() == {"lookback": 5}


def test_extra_dirs_are_searched(tmp_path: Path) -> None:
    _write(tmp_path, "gamma.py", "USER_GAMMA")
    assert "USER_GAMMA" in discover([tmp_path])
    assert get_strategy("USER_GAMMA", [tmp_path]).name == "USER_GAMMA"


def test_duplicate_names_name_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _write(tmp_path, "a_dup.py", "USER_DUP", cls="First")
    b = _write(tmp_path, "b_dup.py", "USER_DUP", cls="Second")
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(tmp_path))
    with pytest.raises(TradeScanError, match="strategy name 'USER_DUP' is defined twice") as info:
        discover()
    assert str(a.resolve()) in str(info.value) and str(b.resolve()) in str(info.value)


def test_bundled_name_cannot_be_shadowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "shadow.py", "S1_TREND_EMA_ATR_ADX")
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(tmp_path))
    with pytest.raises(TradeScanError, match="'S1_TREND_EMA_ATR_ADX' is defined twice"):
        discover()


def test_unknown_strategy_lists_close_matches() -> None:
    expected = r"unknown strategy 'S1_TREND_EMA_ADX'; did you mean 'S1_TREND_EMA_ATR_ADX'"
    with pytest.raises(UnknownNameError, match=expected):
        get_strategy("S1_TREND_EMA_ADX")
    with pytest.raises(UnknownNameError, match=r"Known: .*S2_MR_ZSCORE_EMA_REGIME"):
        get_strategy("NOPE")


def test_broken_module_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n", encoding="utf-8")
    with pytest.raises(TradeScanError, match=r"broken.py: strategy module failed to import: ModuleNotFoundError"):
        discover([tmp_path])


def test_instances_and_classes_pass_through(tmp_path: Path) -> None:
    cls = discover()["S1_TREND_EMA_ATR_ADX"]
    instance = cls()
    assert get_strategy(instance) is instance
    assert isinstance(get_strategy(cls), cls)  # type: ignore[arg-type]


def test_source_hash_is_the_file_hash(tmp_path: Path) -> None:
    path = _write(tmp_path, "delta.py", "USER_DELTA")
    strategy = get_strategy("USER_DELTA", [tmp_path])
    assert source_hash(strategy) == hashlib.sha256(path.read_bytes()).hexdigest()


_MARKER_MODULE = """
import pathlib
pathlib.Path({marker!r}).write_text("this module ran")
"""


def _plant(folder: Path, marker: Path) -> Path:
    """A module whose import leaves ``marker`` behind: the proof that a folder's code ran."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "planted.py").write_text(_MARKER_MODULE.format(marker=str(marker)), encoding="utf-8")
    return folder


def test_a_params_file_never_runs_code_from_the_folders_it_records(tmp_path: Path):
    """Measured: `backtest --params-file` imported every module of the folder the file named."""
    marker = tmp_path / "ran"
    elsewhere = _plant(tmp_path / "elsewhere", marker)
    strategy = strategy_for_params_file("S1_TREND_EMA_ATR_ADX", [str(elsewhere)], label="best.yaml")
    assert strategy.name == "S1_TREND_EMA_ATR_ADX"
    assert not marker.exists()


def test_a_strategy_only_in_a_recorded_folder_says_how_to_allow_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "mine"
    _write(folder, "eps.py", "USER_EPSILON")
    with pytest.raises(UnknownNameError) as info:
        strategy_for_params_file("USER_EPSILON", [str(folder)], label="best.yaml")
    assert str(info.value).endswith(
        f"; best.yaml records the strategy folder(s) {folder}, but a params file does not run code from folders "
        "it names: add the folder to TRADESCAN_STRATEGY_PATH to use its strategies"
    )
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(folder))
    assert strategy_for_params_file("USER_EPSILON", [str(folder)], label="best.yaml").name == "USER_EPSILON"


def test_backtest_with_a_params_file_from_elsewhere_runs_nothing_from_it(tmp_path: Path, capsys):
    from tradescan.cli import main

    marker = tmp_path / "ran"
    planted = _plant(tmp_path / "tmp_like", marker)
    params = tmp_path / "best.yaml"
    params.write_text(f"strategy: NOT_BUNDLED\nsymbol: EURUSD\ntimeframe: H1\nstrategy_paths: [{planted}]\n"
                      "params: {ema_fast: 20}\n")  # fmt: skip
    assert main(["backtest", "--params-file", str(params), "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradescan: error: unknown strategy 'NOT_BUNDLED'") and err.count("\n") == 1
    assert f"records the strategy folder(s) {planted}, but a params file does not run code" in err
    assert not marker.exists()


def test_directive_paths_are_beside_the_directive_never_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Measured: a relative entry missing beside the directive was imported from the working directory."""
    marker = tmp_path / "ran"
    _plant(tmp_path / "cwd" / "strats", marker)
    monkeypatch.chdir(tmp_path / "cwd")
    directive_dir = tmp_path / "project"
    (directive_dir / "strats").mkdir(parents=True)
    assert resolve_strategy_paths(["strats"], directive_dir, label="strategy_paths") == (
        str((directive_dir / "strats").resolve()),
    )
    with pytest.raises(ConfigError) as info:
        resolve_strategy_paths(["strats", "gone"], directive_dir, label="strategy_paths")
    assert str(info.value) == f"strategy_paths entry 'gone': folder {directive_dir / 'gone'} does not exist"
    assert not marker.exists()


def test_preflight_refuses_a_directive_path_that_is_not_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tradescan.preflight import prepare

    marker = tmp_path / "ran"
    _plant(tmp_path / "strats", marker)
    monkeypatch.chdir(tmp_path)  # ./strats exists here, but not beside the directive
    directive = tmp_path / "project" / "d.yaml"
    directive.parent.mkdir()
    directive.write_text("name: T\nstrategy: S1_TREND_EMA_ATR_ADX\nsymbols: [EURUSD]\ntimeframe: H1\n"
                         "strategy_paths: [strats]\n")  # fmt: skip
    with pytest.raises(ConfigError, match=r"^d\.yaml: strategy_paths entry 'strats': folder .*project/strats does"):
        prepare(directive, data_dir=tmp_path / "data")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "strategy_paths: an empty entry; name a folder of strategy modules"),
        ("/", "strategy_paths entry '/': / is the file-system root; name the folder that holds your strategies"),
        ("shared", "is writable by every user, so its modules could be anyone's code; keep strategies in a folder"),
        ("file.py", "strategy_paths entry 'file.py': {base}/file.py is not a folder"),
    ],
    ids=["empty", "root", "world-writable", "a-file"],
)
def test_folders_that_may_not_hold_strategies(tmp_path: Path, entry: str, message: str):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o1777)  # like /tmp
    (tmp_path / "file.py").write_text("")
    with pytest.raises(ConfigError) as info:
        resolve_strategy_paths([entry], tmp_path, label="strategy_paths")
    assert message.format(base=tmp_path) in str(info.value)


def test_the_working_directory_strategies_folder_only_when_it_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    assert strategy_dirs() == [STRATEGIES_DIR.resolve()]
    (tmp_path / "strategies").mkdir()
    assert strategy_dirs() == [STRATEGIES_DIR.resolve(), (tmp_path / "strategies").resolve()]


def test_a_missing_strategy_path_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(tmp_path / "typo"))
    with pytest.raises(
        ConfigError, match=rf"TRADESCAN_STRATEGY_PATH entry '{tmp_path}/typo': folder .* does not exist"
    ):
        discover()
    monkeypatch.delenv("TRADESCAN_STRATEGY_PATH")
    with pytest.raises(ConfigError, match=r"strategy folder '.*nowhere': folder .* does not exist"):
        discover([tmp_path / "nowhere"])
