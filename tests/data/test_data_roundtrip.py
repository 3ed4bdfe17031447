"""Real bars written in every supported format come back from the store exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tradescan.data import dataset_hash, import_file, load

FORMATS = ["csv", "mt4", "mt5", "binance", "binance_us", "dukascopy"]


@pytest.mark.parametrize("writer_name", FORMATS)
@pytest.mark.parametrize("fmt", ["auto", "explicit"])
def test_real_eurusd_round_trip(writer_name, fmt, real_eurusd, format_writers, tmp_path: Path, data_dir: Path):
    path = format_writers[writer_name](real_eurusd, tmp_path / f"eurusd_{writer_name}.csv")
    expected_format = writer_name.removesuffix("_us")
    report = import_file(path, "EURUSD", "H1", fmt="auto" if fmt == "auto" else expected_format, data_dir=data_dir)
    assert report.format == expected_format
    assert report.rows == len(real_eurusd) == 5000
    assert report.dropped == ()
    pd.testing.assert_frame_equal(load("EURUSD", "H1", data_dir=data_dir), real_eurusd)


def test_every_format_stores_identical_bytes(real_eurusd, format_writers, tmp_path: Path):
    hashes = set()
    for name in FORMATS:
        path = format_writers[name](real_eurusd, tmp_path / f"{name}.csv")
        folder = tmp_path / f"data_{name}"
        import_file(path, "EURUSD", "H1", data_dir=folder)
        hashes.add(dataset_hash("EURUSD", "H1", folder))
    assert len(hashes) == 1
