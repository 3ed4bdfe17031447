"""Lineage: canonical JSON and run ids are stable under key order and sensitive to every value."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from tradescan import instruments
from tradescan.directive import parse_directive
from tradescan.lineage import canonical_json, compute_lineage, split_budget
from tradescan.paths import CONFIGS_DIR
from tradescan.preflight import prepare

BASE = {"name": "T", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD", "GBPUSD"], "timeframe": "H1",
        "capital": {"initial": 10000, "risk_per_trade": 0.002}, "search": {"trials": 50, "seed": 1}}
INPUTS = {"data_hashes": {"EURUSD": "a" * 64, "GBPUSD": "b" * 64}, "strategy_hash": "c" * 64,
          "search_space_text": "params: {}\n"}


def _run_id(raw: dict[str, object], **overrides: object) -> str:
    return compute_lineage(parse_directive(raw), **{**INPUTS, **overrides}).run_id  # type: ignore[arg-type]


def test_canonical_json_normalises_numbers_dates_and_order() -> None:
    assert canonical_json({"b": 1.0, "a": [2, 3.5], "d": dt.date(2020, 1, 2)}) == canonical_json(
        {"d": "2020-01-02", "a": (2.0, 3.5), "b": 1}
    )
    assert canonical_json({"x": -0.0, "y": float("inf")}) == '{"x":0,"y":"inf"}'


def test_run_id_is_deterministic_and_shaped() -> None:
    run_id = _run_id(BASE)
    assert re.fullmatch(r"T-[0-9a-f]{12}", run_id)
    assert run_id == _run_id(dict(BASE))


def test_key_order_and_spelt_out_defaults_keep_the_run_id() -> None:
    reordered = dict(reversed(list(BASE.items())))
    reordered["capital"] = {"risk_per_trade": 0.002, "initial": 10000.0}
    explicit = {**BASE, "max_hold_bars": 96, "stops_from": "fill", "batch_size": 32,
                "stage2": {"scenarios": ["A", "B", "C"], "top_k": 10}}
    assert _run_id(reordered) == _run_id(BASE) == _run_id(explicit)


def test_any_value_change_changes_the_run_id() -> None:
    base = _run_id(BASE)
    assert _run_id({**BASE, "search": {"trials": 50, "seed": 2}}) != base
    assert _run_id({**BASE, "search": {"trials": 50, "seed": 1, "sampler": "random"}}) != base
    assert _run_id({**BASE, "batch_size": 16}) != base  # the TPE sequence depends on it
    assert _run_id({**BASE, "stage2": {"scenarios": ["A", "B"]}}) != base
    assert _run_id({**BASE, "symbols": ["GBPUSD", "EURUSD"]}) != base  # the order of runs is part of it
    assert _run_id({**BASE, "capital": {"initial": 10001, "risk_per_trade": 0.002}}) != base
    assert _run_id(BASE, data_hashes={"EURUSD": "a" * 64, "GBPUSD": "e" * 64}) != base
    assert _run_id(BASE, strategy_hash="f" * 64) != base
    assert _run_id(BASE, search_space_text="params: {x: 1}\n") != base


def test_budget_only_fields_leave_the_run_id_alone() -> None:
    base = compute_lineage(parse_directive(BASE), **INPUTS)  # type: ignore[arg-type]
    raised = compute_lineage(  # type: ignore[arg-type]
        parse_directive({**BASE, "search": {"trials": 300, "seed": 1}, "stage2": {"top_k": 25}}), **INPUTS
    )
    assert raised.run_id == base.run_id and raised.hash == base.hash
    assert base.budget == {"search.trials": 50, "stage2.top_k": 10, "trial_timeout_s": 300, "guards": None}
    assert raised.budget == {"search.trials": 300, "stage2.top_k": 25, "trial_timeout_s": 300, "guards": None}
    guarded = compute_lineage(parse_directive({**BASE, "guards": {"preset": "screen"}}), **INPUTS)  # type: ignore[arg-type]
    assert guarded.run_id == base.run_id  # guard settings change no stage-1/2 number: same run
    assert raised.directive["search"]["trials"] == 300  # the manifest still records the budget asked for


def test_split_budget_removes_only_the_budget_fields() -> None:
    hashed, budget = split_budget({"name": "T", "search": {"trials": 5, "seed": 1}, "stage2": {"top_k": 3}})
    assert hashed == {"name": "T", "search": {"seed": 1}, "stage2": {}}
    assert budget == {"search.trials": 5, "stage2.top_k": 3}
    assert split_budget({"name": "T"}) == ({"name": "T"}, {})


def test_the_resolved_backtest_config_and_instrument_facts_are_hashed() -> None:
    directive = parse_directive(BASE)
    config = directive.backtest_config()
    facts = {"EURUSD": instruments.get("EURUSD"), "GBPUSD": instruments.get("GBPUSD")}

    def run_id(**overrides: object) -> str:
        inputs = {**INPUTS, "backtest": config, "instruments": facts, **overrides}
        return compute_lineage(directive, **inputs).run_id  # type: ignore[arg-type]

    base = run_id()
    assert base == run_id() and base != compute_lineage(directive, **INPUTS).run_id  # type: ignore[arg-type]
    wider = config.broker.model_copy(update={"spread_pips": {**config.broker.spread_pips, "EURUSD": 0.8}})
    assert run_id(backtest=config.model_copy(update={"broker": wider})) != base
    assert run_id(instruments={**facts, "GBPUSD": facts["GBPUSD"].model_copy(update={"pip_size": 0.001})}) != base
    assert run_id(instruments={**facts, "GBPUSD": None}) != base
    lineage = compute_lineage(directive, **{**INPUTS, "backtest": config, "instruments": facts})  # type: ignore[arg-type]
    assert lineage.backtest is not None and lineage.backtest["broker"]["spread_pips"]["EURUSD"] == 0.7
    assert lineage.instruments["GBPUSD"]["pip_size"] == 0.0001
    assert set(lineage.as_dict()) >= {"backtest", "instruments", "budget"}


def _write_directive(folder: Path, **fields: object) -> Path:
    body = {"name": "LIN", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD"], "timeframe": "H1", **fields}
    path = folder / "lin.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def test_editing_the_broker_file_changes_the_run_id(tmp_path: Path) -> None:
    broker_file = tmp_path / "mybroker.yaml"
    original = (CONFIGS_DIR / "brokers" / "default.yaml").read_text(encoding="utf-8").replace(
        "name: default", "name: mybroker"
    )
    broker_file.write_text(original, encoding="utf-8")
    directive = _write_directive(tmp_path, broker="mybroker.yaml")  # found beside the directive
    first = prepare(directive, data_dir=tmp_path / "data")
    assert first.backtest.broker.name == "mybroker" and first.backtest.broker.spread_pips["EURUSD"] == 0.7
    assert first.lineage.backtest is not None and first.lineage.backtest["broker"]["spread_pips"]["EURUSD"] == 0.7

    broker_file.write_text(original.replace("EURUSD: 0.7", "EURUSD: 0.8"), encoding="utf-8")  # same size
    edited = prepare(directive, data_dir=tmp_path / "data")
    assert edited.backtest.broker.spread_pips["EURUSD"] == 0.8
    assert edited.run_id != first.run_id

    broker_file.write_text(original, encoding="utf-8")
    assert prepare(directive, data_dir=tmp_path / "data").run_id == first.run_id


def test_editing_an_instrument_entry_changes_the_run_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directive = _write_directive(tmp_path)
    monkeypatch.delenv("TRADESCAN_INSTRUMENTS", raising=False)
    bundled = prepare(directive, data_dir=tmp_path / "data")
    user_file = tmp_path / "instruments.yaml"
    user_file.write_text("EURUSD: {price_precision: 5}\n", encoding="utf-8")  # the bundled value again
    monkeypatch.setenv("TRADESCAN_INSTRUMENTS", str(user_file))
    assert prepare(directive, data_dir=tmp_path / "data").run_id == bundled.run_id

    user_file.write_text("EURUSD: {price_precision: 4}\n", encoding="utf-8")
    edited = prepare(directive, data_dir=tmp_path / "data")
    assert edited.instruments["EURUSD"].price_precision == 4
    assert edited.lineage.instruments["EURUSD"]["price_precision"] == 4
    assert edited.run_id != bundled.run_id


def test_raising_the_trials_keeps_the_run_id_of_a_prepared_directive(tmp_path: Path) -> None:
    small = prepare(_write_directive(tmp_path, search={"trials": 200}), data_dir=tmp_path / "data")
    large = prepare(_write_directive(tmp_path, search={"trials": 300}), data_dir=tmp_path / "data")
    assert small.run_id == large.run_id
    assert (small.lineage.budget["search.trials"], large.lineage.budget["search.trials"]) == (200, 300)
    other_seed = prepare(_write_directive(tmp_path, search={"trials": 300, "seed": 1}), data_dir=tmp_path / "data")
    assert other_seed.run_id != small.run_id
