"""Lineage: canonical JSON and run ids are stable under key order and sensitive to every value."""

from __future__ import annotations

import datetime as dt
import re

from tradescan.directive import parse_directive
from tradescan.lineage import canonical_json, compute_lineage

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
    assert _run_id({**BASE, "search": {"trials": 51, "seed": 1}}) != base
    assert _run_id({**BASE, "symbols": ["GBPUSD", "EURUSD"]}) != base  # the order of runs is part of it
    assert _run_id({**BASE, "capital": {"initial": 10001, "risk_per_trade": 0.002}}) != base
    assert _run_id(BASE, data_hashes={"EURUSD": "a" * 64, "GBPUSD": "e" * 64}) != base
    assert _run_id(BASE, strategy_hash="f" * 64) != base
    assert _run_id(BASE, search_space_text="params: {x: 1}\n") != base
