"""Preflight's per-symbol data check: a dataset whose bytes do not match its recorded hash is BLOCKed.

The measured case: a tampered dataset passed preflight, its integrity error turned into a ``None``
data hash in the lineage, and the sweep ran on bytes nobody had recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tradescan import data
from tradescan.data.store import parquet_bytes
from tradescan.preflight import ALLOW, BLOCK, preflight, prepare


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    for symbol in ("EURUSD", "GBPUSD"):
        data.write_dataset(data.synthesize(symbol, "H1", 2_000, seed=1), symbol, "H1", data_dir=folder)
    return folder


@pytest.fixture
def directive(tmp_path: Path) -> Path:
    path = tmp_path / "pf.yaml"
    body = {"name": "PF", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD", "GBPUSD"], "timeframe": "H1"}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def test_a_tampered_dataset_blocks_its_symbol_with_the_reason(directive: Path, data_dir: Path):
    tampered = data_dir / "EURUSD" / "H1.parquet"
    bars = data.load("EURUSD", "H1", data_dir=data_dir)
    bars.loc[100, "close"] = bars.loc[100, "high"]  # one close moved, still a valid bar
    tampered.write_bytes(parquet_bytes(bars))
    report = preflight(prepare(directive, data_dir=data_dir))
    assert report.symbols["GBPUSD"].status == ALLOW
    assert report.symbols["EURUSD"].status == BLOCK
    (reason,) = report.symbols["EURUSD"].reasons
    assert reason.startswith(f"data integrity: {tampered} changed since it was written (manifest sha256")
    assert report.allowed == ["GBPUSD"]


def test_an_unreadable_manifest_blocks_every_symbol(directive: Path, data_dir: Path):
    (data_dir / "manifest.json").write_text("{")
    report = preflight(prepare(directive, data_dir=data_dir))
    for symbol in ("EURUSD", "GBPUSD"):
        assert report.symbols[symbol].status == BLOCK
        assert report.symbols[symbol].reasons[0].startswith(f"data integrity: {data_dir / 'manifest.json'}: the data")
