"""Strategy discovery: bundled folder, $TRADESCAN_STRATEGY_PATH, duplicates, unknown names."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tradescan.errors import TradeScanError, UnknownNameError
from tradescan.registry import discover, get_strategy, source_hash, strategy_dirs
from tradescan.strategy import Strategy

_MODULE = '''
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
'''


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
