"""Preflight: the directive refused as a whole, or ALLOW/BLOCK per symbol with reasons."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from tradescan import data
from tradescan.errors import ConfigError
from tradescan.preflight import ALLOW, BLOCK, preflight, prepare

PEEKING = textwrap.dedent(
    '''
    import numpy as np
    from pydantic import BaseModel
    from tradescan import Signals, Strategy

    class Peeking(Strategy):
        name = "TEST_PEEKING"

        class Params(BaseModel):
            n: int = 5

        def warmup(self, params):
            return params.n

        def signals(self, bars, params):
            tomorrow = np.roll(bars.close, -1)  # looks one bar ahead
            entry = np.where(tomorrow > bars.close, 1, -1).astype(np.int8)
            stop = np.full(len(bars), 0.001)
            return Signals(entry=entry, stop_distance=stop, target_distance=stop)
    '''
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    data.write_dataset(data.synthesize("EURUSD", "H1", 2_000, seed=1), "EURUSD", "H1", data_dir=folder)
    data.write_dataset(data.synthesize("GBPUSD", "H1", 2_000, seed=1), "GBPUSD", "H1", data_dir=folder)
    data.write_dataset(data.synthesize("USDJPY", "H1", 300, seed=1), "USDJPY", "H1", data_dir=folder)
    return folder


def _directive(tmp_path: Path, **fields: object) -> Path:
    body = {"name": "PF", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD"], "timeframe": "H1", **fields}
    path = tmp_path / "pf.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def test_allow_and_block_reasons_per_symbol(tmp_path: Path, data_dir: Path) -> None:
    path = _directive(tmp_path, symbols=["EURUSD", "GBPUSD", "AUDUSD", "USDJPY"],
                      broker={"name": "only_majors", "spread_pips": {"EURUSD": 1.0, "AUDUSD": 1.0, "USDJPY": 1.0}})
    report = preflight(prepare(path, data_dir=data_dir)).as_dict()
    symbols = report["symbols"]
    assert symbols["EURUSD"] == {"status": ALLOW}
    assert symbols["GBPUSD"]["status"] == BLOCK
    assert "broker lacks the symbol" in symbols["GBPUSD"]["reasons"][0]
    assert symbols["AUDUSD"]["status"] == BLOCK and symbols["AUDUSD"]["reasons"][0].startswith("no data")
    assert "too little data: 300 bars" in symbols["USDJPY"]["reasons"][0]
    assert report["run_id"].startswith("PF-") and len(report["hash"]) == 64


def test_an_account_currency_that_cannot_value_the_pnl_is_blocked(tmp_path: Path, data_dir: Path) -> None:
    # EURUSD in a EUR account: base = account (1 / price); GBPUSD: neither, and no quote_rate for EUR
    path = _directive(tmp_path, symbols=["EURUSD", "GBPUSD"], capital={"initial": 5_000, "currency": "EUR"})
    symbols = preflight(prepare(path, data_dir=data_dir)).as_dict()["symbols"]
    assert symbols["EURUSD"] == {"status": ALLOW}
    assert symbols["GBPUSD"]["status"] == BLOCK
    assert symbols["GBPUSD"]["reasons"][0].startswith("account currency: GBPUSD: cannot value its PnL in EUR")


def test_unknown_instrument_is_blocked(tmp_path: Path, data_dir: Path) -> None:
    report = preflight(prepare(_directive(tmp_path, symbols=["EURUSD", "NOTASYMBOL"]), data_dir=data_dir))
    assert report.symbols["NOTASYMBOL"].status == BLOCK
    assert "unknown instrument" in report.symbols["NOTASYMBOL"].reasons[0]
    assert report.allowed == ["EURUSD"]


def test_a_strategy_that_looks_ahead_is_blocked(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "strategies_extra"
    folder.mkdir()
    (folder / "peeking.py").write_text(PEEKING, encoding="utf-8")
    space = tmp_path / "peeking.yaml"
    space.write_text("params: {n: {type: int, low: 2, high: 9}}\n", encoding="utf-8")
    path = _directive(tmp_path, strategy="TEST_PEEKING", strategy_paths=[str(folder)], search={"space": str(space)})
    check = preflight(prepare(path, data_dir=data_dir)).symbols["EURUSD"]
    assert check.status == BLOCK
    assert "look-ahead check failed" in check.reasons[0]


def test_an_invalid_directive_is_refused_as_a_whole_with_every_fault(tmp_path: Path, data_dir: Path) -> None:
    path = _directive(tmp_path, strategy="S1_TREND_EMA_ATR_ADY", broker="nobroker")
    with pytest.raises(ConfigError) as caught:
        prepare(path, data_dir=data_dir)
    message = str(caught.value)
    assert message.startswith("pf.yaml: ")
    assert "strategy: unknown strategy 'S1_TREND_EMA_ATR_ADY'; did you mean 'S1_TREND_EMA_ATR_ADX'" in message
    assert "broker: unknown broker profile 'nobroker'" in message


def test_bad_space_and_preset_are_refused(tmp_path: Path, data_dir: Path) -> None:
    space = tmp_path / "bad.yaml"
    space.write_text("params: {ema_fast: {type: int, low: 1, high: 10}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: params\.ema_fast: 1 is outside"):
        prepare(_directive(tmp_path, search={"space": str(space)}), data_dir=data_dir)
    with pytest.raises(ConfigError, match=r"search\.preset: 'huge' is not a preset of the space"):
        prepare(_directive(tmp_path, search={"preset": "huge", "sampler": "grid"}), data_dir=data_dir)
    expected = r"pf\.yaml: stage2\.scenarios: unknown cost scenario of broker 'default' 'D'"
    with pytest.raises(ConfigError, match=expected):
        prepare(_directive(tmp_path, stage2={"scenarios": ["A", "D"]}), data_dir=data_dir)


def test_the_run_id_follows_the_data(tmp_path: Path, data_dir: Path) -> None:
    path = _directive(tmp_path)
    first = prepare(path, data_dir=data_dir).run_id
    assert prepare(path, data_dir=data_dir).run_id == first
    other = tmp_path / "other_data"
    data.write_dataset(data.synthesize("EURUSD", "H1", 2_000, seed=2), "EURUSD", "H1", data_dir=other)
    assert prepare(path, data_dir=other).run_id != first


def test_naming_the_default_space_or_leaving_it_out_gives_one_run_id(tmp_path: Path, data_dir: Path) -> None:
    implicit = prepare(_directive(tmp_path), data_dir=data_dir)
    explicit_file = _directive(tmp_path, search={"space": "search_spaces/s1_trend_ema_atr_adx.yaml"})
    explicit = prepare(explicit_file, data_dir=data_dir)
    assert implicit.lineage.run_id == explicit.lineage.run_id
    assert implicit.lineage.directive["search"]["space"] == "search_spaces/s1_trend_ema_atr_adx.yaml"
    other = prepare(_directive(tmp_path, search={"space": "search_spaces/s1_trend_ema_atr_adx.yaml", "seed": 7}),
                    data_dir=data_dir)
    assert other.lineage.run_id != implicit.lineage.run_id
