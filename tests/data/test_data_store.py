"""The Parquet store: layout, manifest, hashes, atomic replacement, load filters, refused names."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan.data import (
    DatasetExistsError,
    dataset_hash,
    dataset_path,
    import_file,
    list_datasets,
    load,
    synthesize,
    synthetic_source,
    write_dataset,
)
from tradescan.data.store import parquet_bytes
from tradescan.errors import DataError, TradeScanError, UnknownNameError


def hourly_bars(n_bars: int = 48, start: str = "2024-01-01") -> pd.DataFrame:
    times = pd.date_range(start, periods=n_bars, freq="h", tz="UTC").as_unit("ns")
    close = 1.1 + 0.0001 * np.arange(n_bars)
    return pd.DataFrame(
        {
            "time": times,
            "open": close - 0.00005,
            "high": close + 0.0002,
            "low": close - 0.0002,
            "close": close,
            "volume": np.arange(n_bars, dtype=np.float64),
        }
    )


def test_layout_and_manifest(data_dir: Path):
    info = write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    path = data_dir / "EURUSD" / "H1.parquet"
    assert info.path == path == dataset_path("EURUSD", "H1", data_dir)
    payload = path.read_bytes()
    assert info.sha256 == hashlib.sha256(payload).hexdigest()
    manifest = json.loads((data_dir / "manifest.json").read_text())
    assert manifest == {
        "version": 2,
        "datasets": {
            "EURUSD/H1": {
                "symbol": "EURUSD",
                "timeframe": "H1",
                "file": "EURUSD/H1.parquet",
                "sha256": info.sha256,
                "rows": 48,
                "start": "2024-01-01T00:00:00+00:00",
                "end": "2024-01-02T23:00:00+00:00",
                "tz": "UTC",
                "source": {"kind": "frame", "label": "frame"},
            }
        },
    }
    assert dataset_hash("EURUSD", "H1", data_dir) == info.sha256
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_load_returns_the_standard_frame(data_dir: Path):
    bars = hourly_bars()
    write_dataset(bars, "EURUSD", "H1", data_dir)
    loaded = load("EURUSD", "H1", data_dir=data_dir)
    pd.testing.assert_frame_equal(loaded, bars)
    assert str(loaded["time"].dtype) == "datetime64[ns, UTC]"
    assert list(loaded.columns) == ["time", "open", "high", "low", "close", "volume"]


def test_naive_times_are_utc_and_volume_is_optional(data_dir: Path):
    bars = hourly_bars(3)
    naive = bars.drop(columns="volume").assign(time=bars["time"].dt.tz_localize(None))
    write_dataset(naive, "EURUSD", "H1", data_dir)
    pd.testing.assert_frame_equal(load("EURUSD", "H1", data_dir=data_dir), bars.assign(volume=0.0))


def test_same_frame_same_bytes():
    bars = hourly_bars()
    assert parquet_bytes(bars) == parquet_bytes(bars.copy())
    assert parquet_bytes(bars) != parquet_bytes(bars.assign(volume=bars["volume"] + 1))


def test_writing_twice_gives_the_same_file_and_hash(data_dir: Path, tmp_path: Path):
    first = write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    second = write_dataset(hourly_bars(), "EURUSD", "H1", tmp_path / "other")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.mark.parametrize(
    ("start", "end", "expected_hours"),
    [
        ("2024-01-01 05:00", "2024-01-01 07:00", [5, 6, 7]),  # inclusive at both ends
        (pd.Timestamp("2024-01-02 21:00", tz="UTC"), None, [21, 22, 23]),
        (None, dt.datetime(2024, 1, 1, 1), [0, 1]),
        ("2024-01-02 22:00", "2024-01-02", [22, 23]),  # a bare end date covers its whole day
        ("2024-01-02 22:00", dt.date(2024, 1, 2), [22, 23]),
        ("2024-01-01T07:00:00+02:00", "2024-01-01 06:00", [5, 6]),  # offsets are converted to UTC
        ("2025-01-01", None, []),
    ],
)
def test_load_start_end_filters(data_dir: Path, start, end, expected_hours):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    loaded = load("EURUSD", "H1", start=start, end=end, data_dir=data_dir)
    assert loaded["time"].dt.hour.tolist() == expected_hours
    assert loaded.index.tolist() == list(range(len(expected_hours)))


def test_load_end_before_start(data_dir: Path):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    with pytest.raises(DataError, match="end 2024-01-01 00:00:00 is before start 2024-01-02 00:00:00"):
        load("EURUSD", "H1", start="2024-01-02 00:00", end="2024-01-01 00:00", data_dir=data_dir)
    with pytest.raises(DataError, match="cannot read start time 'soon'"):
        load("EURUSD", "H1", start="soon", data_dir=data_dir)


def test_load_missing_dataset_lists_what_exists(data_dir: Path):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    write_dataset(hourly_bars(), "GBPUSD", "H1", data_dir)
    expected = f"no data for EURUSD M15 in {data_dir} (available: EURUSD H1, GBPUSD H1)"
    with pytest.raises(DataError, match=re.escape(expected)):
        load("EURUSD", "M15", data_dir=data_dir)
    with pytest.raises(DataError, match=re.escape(f"no data for USDJPY H1 in {data_dir / 'empty'} (the folder has no")):
        load("USDJPY", "H1", data_dir=data_dir / "empty")


def test_data_dir_defaults_to_environment(data_dir: Path, monkeypatch):
    monkeypatch.setenv("TRADESCAN_DATA_DIR", str(data_dir))
    write_dataset(hourly_bars(), "EURUSD", "H1")
    assert (data_dir / "EURUSD" / "H1.parquet").is_file()
    assert len(load("EURUSD", "H1")) == 48


@pytest.mark.parametrize("symbol", ["../x", "a/b", ".hidden", "..", "a\\b", "", "EUR USD"])
def test_path_like_symbols_are_refused(symbol, data_dir: Path, write_text):
    with pytest.raises(TradeScanError, match="invalid symbol"):
        write_dataset(hourly_bars(), symbol, "H1", data_dir)
    with pytest.raises(TradeScanError, match="invalid symbol"):
        load(symbol, "H1", data_dir=data_dir)
    with pytest.raises(TradeScanError, match="invalid symbol"):
        import_file(write_text("x.csv", "time,open,high,low,close"), symbol, "H1", data_dir=data_dir)
    assert not data_dir.exists()


def test_unknown_timeframe_is_refused(data_dir: Path):
    with pytest.raises(DataError, match=r"unknown timeframe 'H2'; known timeframes: M1, M5, M15, M30, H1, H4, D1"):
        write_dataset(hourly_bars(), "EURUSD", "H2", data_dir)
    info = write_dataset(hourly_bars(), "EURUSD", "h1", data_dir)  # lower case is the same timeframe
    assert info.timeframe == "H1"


def test_list_datasets(data_dir: Path):
    columns = ["symbol", "timeframe", "rows", "start", "end", "sha256", "tz", "source"]
    assert list(list_datasets(data_dir).columns) == columns
    assert list_datasets(data_dir).empty
    eurusd = write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    write_dataset(synthesize("EURUSD", "M15", 10, seed=1), "EURUSD", "M15", data_dir)
    write_dataset(hourly_bars(5), "AUDUSD", "H1", data_dir)
    listing = list_datasets(data_dir)
    assert listing[["symbol", "timeframe", "rows"]].values.tolist() == [
        ["AUDUSD", "H1", 5],
        ["EURUSD", "M15", 10],
        ["EURUSD", "H1", 48],
    ]
    row = listing.iloc[2]
    assert (row["start"], row["end"], row["sha256"], row["tz"], row["source"]) == (
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-01-02 23:00", tz="UTC"),
        eurusd.sha256,
        "UTC",
        "frame",
    )


def test_list_includes_files_missing_from_the_manifest(data_dir: Path):
    info = write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    (data_dir / "manifest.json").unlink()
    listing = list_datasets(data_dir)
    assert listing[["symbol", "timeframe", "rows", "sha256", "tz", "source"]].values.tolist() == [
        ["EURUSD", "H1", 48, info.sha256, "unknown", "not in the manifest"]
    ]


def test_dataset_hash_detects_a_changed_file(data_dir: Path):
    info = write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    info.path.write_bytes(parquet_bytes(hourly_bars(10)))
    with pytest.raises(DataError, match=r"H1\.parquet changed since it was written"):
        dataset_hash("EURUSD", "H1", data_dir)
    with pytest.raises(DataError, match="no data for EURUSD D1"):
        dataset_hash("EURUSD", "D1", data_dir)


def snapshot(data_dir: Path) -> tuple[bytes, bytes]:
    return (data_dir / "EURUSD" / "H1.parquet").read_bytes(), (data_dir / "manifest.json").read_bytes()


@pytest.mark.parametrize(
    "bad_lines",
    [
        ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.0,1.1,1.1"],  # validation error
        ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.2,1.0,1.1,9,9"],  # parse error
        ["time,open,high,low", "2024-01-03 00:00:00,1.1,1.2,1.0"],  # missing column
    ],
    ids=["validation", "parse", "columns"],
)
def test_failed_reimport_leaves_file_and_manifest_untouched(data_dir: Path, write_text, bad_lines):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    before = snapshot(data_dir)
    with pytest.raises(DataError):
        import_file(write_text("bad.csv", *bad_lines), "EURUSD", "H1", data_dir=data_dir)
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in (data_dir / "EURUSD").iterdir()) == ["H1.parquet"]


def test_forced_import_replaces_the_dataset(data_dir: Path, write_text):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    lines = ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.2,1.0,1.1", "2024-01-03 01:00:00,1.1,1.2,1.0,1.1"]
    report = import_file(write_text("new.csv", *lines), "EURUSD", "H1", data_dir=data_dir, force=True)
    assert load("EURUSD", "H1", data_dir=data_dir)["close"].tolist() == [1.1, 1.1]
    manifest = json.loads((data_dir / "manifest.json").read_text())["datasets"]["EURUSD/H1"]
    source = {"kind": "import", "path": str(write_text("new.csv", *lines).resolve()), "format": "csv"}
    assert (manifest["rows"], manifest["sha256"], manifest["source"]) == (2, report.dataset.sha256, source)


TWO_BARS = ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.2,1.0,1.1", "2024-01-03 01:00:00,1.1,1.2,1.0,1.1"]


def test_import_keeps_a_dataset_it_did_not_make(data_dir: Path, write_text):
    """DESIGN §2 in the library, not only the CLI: 2 imported bars silently replaced 2,000 synthetic ones."""
    write_dataset(synthesize("EURUSD", "H1", 2000, seed=7), "EURUSD", "H1", data_dir, source=synthetic_source(2000, 7))
    before = snapshot(data_dir)
    path = write_text("ok.csv", *TWO_BARS)
    with pytest.raises(DatasetExistsError) as refused:
        import_file(path, "EURUSD", "H1", data_dir=data_dir)
    assert str(refused.value) == (
        f"{data_dir / 'EURUSD' / 'H1.parquet'} already holds synthetic seed=7 bars=2000 start=2020-01-01; "
        f"importing {path.resolve()} does not replace it unless asked"
    )
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in (data_dir / "EURUSD").iterdir()) == ["H1.parquet"]


def test_import_keeps_another_files_import_and_refreshes_its_own(data_dir: Path, write_text):
    first = write_text("first.csv", *TWO_BARS)
    import_file(first, "EURUSD", "H1", data_dir=data_dir)
    before = snapshot(data_dir)
    second = write_text("second.csv", *TWO_BARS)  # the same bars, but another file
    with pytest.raises(DatasetExistsError, match=f"already holds import {re.escape(str(first.resolve()))} \\(csv\\);"):
        import_file(second, "EURUSD", "H1", data_dir=data_dir)
    assert snapshot(data_dir) == before

    write_text("first.csv", *TWO_BARS, "2024-01-03 02:00:00,1.1,1.2,1.0,1.1")  # the file grew
    assert import_file(first, "EURUSD", "H1", data_dir=data_dir).rows == 3
    assert import_file(second, "EURUSD", "H1", data_dir=data_dir, force=True).rows == 2
    manifest = json.loads((data_dir / "manifest.json").read_text())["datasets"]["EURUSD/H1"]
    assert manifest["source"] == {"kind": "import", "path": str(second.resolve()), "format": "csv"}


def test_crash_during_the_write_leaves_the_old_file(data_dir: Path, monkeypatch):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    before = snapshot(data_dir)

    def failing_replace(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DataError, match="the disk is full"):
        write_dataset(hourly_bars(10), "EURUSD", "H1", data_dir)
    monkeypatch.undo()
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in (data_dir / "EURUSD").iterdir()) == ["H1.parquet"]


def test_write_dataset_validates(data_dir: Path):
    bars = hourly_bars()
    bars.loc[5, "high"] = 0.5
    with pytest.raises(DataError, match=r"frame row 5: high 0\.5 < max\(open, close\)"):
        write_dataset(bars, "EURUSD", "H1", data_dir)
    with pytest.raises(DataError, match="missing column"):
        write_dataset(bars.drop(columns="close"), "EURUSD", "H1", data_dir)
    with pytest.raises(DataError, match="no bars to write"):
        write_dataset(bars.iloc[:0], "EURUSD", "H1", data_dir)
    assert not data_dir.exists()


def test_corrupt_manifest_is_reported(data_dir: Path):
    write_dataset(hourly_bars(), "EURUSD", "H1", data_dir)
    (data_dir / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match=r"manifest\.json: the data manifest is not valid JSON"):
        list_datasets(data_dir)


def test_an_unknown_symbol_is_refused_with_how_to_add_it(data_dir: Path, write_text):
    lines = ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.2,1.0,1.1"]
    with pytest.raises(UnknownNameError) as info:
        import_file(write_text("x.csv", *lines), "EURUSX", "H1", data_dir=data_dir)
    message = str(info.value)
    assert message.startswith("unknown symbol 'EURUSX'; did you mean 'EURUSD'")
    assert message.endswith(
        "; to add it, describe it in a YAML file (SYMBOL: {pip_size: ..., price_precision: ..., contract_size: ..., "
        "base: ..., quote: ..., asset_class: ..., days_per_year: ...}) and set TRADESCAN_INSTRUMENTS to that file "
        "(merged over the bundled instruments)"
    )
    with pytest.raises(UnknownNameError, match="unknown symbol 'EURUSX'"):
        write_dataset(hourly_bars(), "EURUSX", "H1", data_dir)
    assert not data_dir.exists()


def test_a_symbol_added_through_tradescan_instruments_imports(data_dir: Path, write_text, tmp_path, monkeypatch):
    extra = tmp_path / "mine.yaml"
    extra.write_text("EURUSX: {pip_size: 0.0001, price_precision: 5, contract_size: 100000, base: EUR, quote: USX,"
                     " asset_class: fx, days_per_year: 252}\n")  # fmt: skip
    monkeypatch.setenv("TRADESCAN_INSTRUMENTS", str(extra))
    lines = ["time,open,high,low,close", "2024-01-03 00:00:00,1.1,1.2,1.0,1.1"]
    assert import_file(write_text("x.csv", *lines), "EURUSX", "H1", data_dir=data_dir).rows == 1


def test_a_bad_time_zone_is_refused_before_anything_is_written(data_dir: Path):
    from tradescan.data.sources import ImportSource
    from tradescan.data.store import store_valid_bars

    with pytest.raises(DataError, match=r"EURUSD H1: cannot record the dataset: tz='Mars/Base': must be an IANA"):
        store_valid_bars(hourly_bars(), "EURUSD", "H1", data_dir, source=ImportSource(path="/x", format="csv"),
                         tz="Mars/Base")  # fmt: skip
    assert not data_dir.exists()
