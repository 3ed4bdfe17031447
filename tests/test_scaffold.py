"""``new-strategy`` scaffolding: names, idempotence, and a generated strategy that honours the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_strategies import assert_strategy_contract, random_walk_frame

from tradescan.errors import TradeScanError
from tradescan.lookahead import check_lookahead
from tradescan.registry import discover, get_strategy
from tradescan.scaffold import class_name, new_strategy, snake_name, strategy_name
from tradescan.search_space import load_search_space


@pytest.mark.parametrize(
    ("given", "registry", "stem", "cls"),
    [
        ("MY_IDEA", "MY_IDEA", "my_idea", "MyIdea"),
        ("MyIdea", "MY_IDEA", "my_idea", "MyIdea"),
        ("my_idea2", "MY_IDEA2", "my_idea2", "MyIdea2"),
        ("RSI_Revert", "RSI_REVERT", "rsi_revert", "RsiRevert"),
    ],
)
def test_names(given: str, registry: str, stem: str, cls: str) -> None:
    assert (strategy_name(given), snake_name(given), class_name(given)) == (registry, stem, cls)


@pytest.mark.parametrize("bad", ["", "1ABC", "my-idea", "../evil", "a b"])
def test_invalid_names_are_refused(bad: str) -> None:
    with pytest.raises(TradeScanError, match="invalid strategy name"):
        new_strategy(bad, "unused")


def test_writes_both_files_and_never_overwrites(tmp_path: Path) -> None:
    strategies = tmp_path / "strategies"
    first = new_strategy("MY_IDEA", strategies)
    module, space = strategies / "my_idea.py", tmp_path / "search_spaces" / "my_idea.yaml"
    assert first.created == [module, space] and first.existing == []
    assert "class MyIdea(Strategy):" in module.read_text() and 'name = "MY_IDEA"' in module.read_text()
    assert "MyIdea.Params" in space.read_text()
    module.write_text("# my own work\n")
    second = new_strategy("MY_IDEA", strategies)
    assert second.created == [] and second.existing == [module, space]
    assert module.read_text() == "# my own work\n"
    assert f"exists, left unchanged: {module}" in str(second)
    space.unlink()
    third = new_strategy("MY_IDEA", strategies)
    assert third.created == [space] and third.existing == [module]


def test_search_space_dir_option(tmp_path: Path) -> None:
    result = new_strategy("OTHER_IDEA", tmp_path / "a", tmp_path / "b")
    assert result.search_space_file == tmp_path / "b" / "other_idea.yaml" and result.search_space_file.exists()


def test_taken_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TradeScanError, match="'S1_TREND_EMA_ATR_ADX' is already used"):
        new_strategy("S1_TREND_EMA_ATR_ADX", tmp_path / "strategies")
    assert not (tmp_path / "strategies" / "s1_trend_ema_atr_adx.py").exists()


def test_generated_strategy_is_discoverable_and_honours_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = new_strategy("SCAFFOLD_PROBE", tmp_path / "strategies")
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(tmp_path / "strategies"))
    assert "SCAFFOLD_PROBE" in discover()
    strategy = get_strategy("SCAFFOLD_PROBE")
    frame = random_walk_frame(2000, seed=4)
    assert_strategy_contract(strategy, frame)
    assert check_lookahead("SCAFFOLD_PROBE", frame).ok
    space = load_search_space(result.search_space_file, strategy)
    assert set(space.params) == {"fast", "slow", "k_sl", "k_tp"}
    assert set(space.presets) == {"small", "medium"}


def test_the_template_shows_the_optional_signals_fields(tmp_path: Path) -> None:
    result = new_strategy("pullback_plan", tmp_path / "strategies")
    text = result.strategy_file.read_text()
    for field in ("exit=", "trail_distance=", "targets=", "target_fractions=", "break_even="):
        assert f"            # {field}" in text, field  # shown, commented out, inside the Signals(...) call
    assert "pullback_plan.pine" in text  # where `tradescan export pine` looks for its Pine rules
