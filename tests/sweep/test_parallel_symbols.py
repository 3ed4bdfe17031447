"""Symbols in parallel on one actor pool: the same trials whatever the parallelism and the workers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sweep_support import write_directive

from tradescan import data
from tradescan.results import load_run
from tradescan.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("ray_cluster")
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY"]


@pytest.fixture(scope="module")
def three_symbols(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data3")
    for seed, symbol in enumerate(SYMBOLS, start=3):
        data.write_dataset(data.synthesize(symbol, "H1", 2_000, seed=seed), symbol, "H1", data_dir=folder)
    return folder


def _sweep(tmp_path: Path, data_dir: Path, name: str, workers: int, parallel: int) -> pd.DataFrame:
    directive = write_directive(tmp_path, symbols=SYMBOLS, search={"sampler": "tpe", "trials": 16, "seed": 5})
    result = run_sweep(directive, workers=workers, max_parallel_symbols=parallel, data_dir=data_dir,
                       results_dir=tmp_path / name)
    assert result.status == "complete"
    assert sorted(p.name for p in (result.run_dir / "trials").iterdir()) == [f"{s}.parquet" for s in SYMBOLS]
    return load_run(result.run_id, tmp_path / name).trials


def test_same_trials_sequential_parallel_and_workers(tmp_path: Path, three_symbols: Path) -> None:
    sequential = _sweep(tmp_path, three_symbols, "seq", workers=1, parallel=1)
    parallel = _sweep(tmp_path, three_symbols, "par", workers=2, parallel=3)
    assert sequential["symbol"].tolist() == [s for s in SYMBOLS for _ in range(16)]  # the directive's order
    assert sequential["trial"].tolist() == list(range(16)) * 3
    pd.testing.assert_frame_equal(sequential, parallel)
    mixed = _sweep(tmp_path, three_symbols, "mix", workers=2, parallel=1)
    pd.testing.assert_frame_equal(sequential, mixed)
