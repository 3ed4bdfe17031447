"""The data manifest: its version-2 schema, reading version-1 files, and naming every broken field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradescan.data import list_datasets, synthesize, write_dataset
from tradescan.data.manifest import ManifestEntry, manifest_bytes, read_manifest
from tradescan.data.sources import FrameSource, ImportSource, ResampleSource, SyntheticSource
from tradescan.errors import DataError

SHA = "ab" * 32


def v1_entry(source: str, rows: int = 30_000) -> dict[str, object]:
    return {"symbol": "EURUSD", "timeframe": "H1", "file": "EURUSD/H1.parquet", "sha256": SHA, "rows": rows,
            "start": "2020-01-01T00:00:00+00:00", "end": "2024-01-01T00:00:00+00:00", "source": source}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quickstart synth", SyntheticSource(seed=42, bars=30_000)),
        ("synth(seed=7)", SyntheticSource(seed=7, bars=30_000)),
        ("EURUSD60.csv (mt4)", ImportSource(path="EURUSD60.csv", format="mt4")),
        ("resample(EURUSD M15)", ResampleSource(from_timeframe="M15")),
        ("frame", FrameSource(label="frame")),
        ("my notebook", FrameSource(label="my notebook")),
    ],
)
def test_version_1_sources_are_typed(tmp_path: Path, text: str, expected: object):
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1, "datasets": {"EURUSD/H1": v1_entry(text)}}))
    entry = read_manifest(tmp_path)["EURUSD/H1"]
    assert (entry.source, entry.tz, entry.rows) == (expected, "UTC", 30_000)


def test_a_version_1_folder_is_rewritten_as_version_2_on_the_next_write(data_dir: Path):
    write_dataset(synthesize("EURUSD", "H1", 20, seed=1), "EURUSD", "H1", data_dir)
    manifest = data_dir / "manifest.json"
    entry = json.loads(manifest.read_text())["datasets"]["EURUSD/H1"]
    legacy = {**{k: v for k, v in entry.items() if k != "tz"}, "source": "synth(seed=1)"}
    manifest.write_text(json.dumps({"version": 1, "datasets": {"EURUSD/H1": legacy}}))
    assert list_datasets(data_dir)["source"].tolist() == ["synthetic seed=1 bars=20"]
    write_dataset(synthesize("GBPUSD", "H1", 20, seed=1), "GBPUSD", "H1", data_dir)
    document = json.loads(manifest.read_text())
    assert document["version"] == 2
    assert document["datasets"]["EURUSD/H1"]["source"] == {"kind": "synthetic", "seed": 1, "bars": 20, "start": None}


def test_the_serialised_manifest_is_stable():
    entry = ManifestEntry.model_validate({**v1_entry(""), "tz": "Europe/Athens",
                                          "source": {"kind": "import", "path": "/x/e.csv", "format": "mt5"}})  # fmt: skip
    payload = manifest_bytes({"EURUSD/H1": entry})
    assert payload == manifest_bytes({"EURUSD/H1": entry})
    assert json.loads(payload) == {
        "version": 2,
        "datasets": {
            "EURUSD/H1": {
                "symbol": "EURUSD", "timeframe": "H1", "file": "EURUSD/H1.parquet", "sha256": SHA, "rows": 30_000,
                "start": "2020-01-01T00:00:00+00:00", "end": "2024-01-01T00:00:00+00:00", "tz": "Europe/Athens",
                "source": {"kind": "import", "path": "/x/e.csv", "format": "mt5"},
            }
        },
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rows", 0, "rows=0: Input should be greater than or equal to 1"),
        ("rows", 2.5, "rows=2.5: Input should be a valid integer"),
        ("timeframe", "H2", "timeframe='H2': must be one of M1, M5"),
        ("start", "yesterday", "start='yesterday': must be an ISO 8601 time"),
        ("end", "2019-01-01T00:00:00+00:00", "start 2020-01-01T00:00:00+00:00 is after end 2019-01-01"),
        ("start", "2020-01-01T00:00:00", "start='2020-01-01T00:00:00': must carry its UTC offset"),
        ("extra", 1, "extra=1: Extra inputs are not permitted"),
        ("source", {"kind": "synthetic", "seed": -1, "bars": 3}, "source.synthetic.seed=-1: Input should be greater"),
        ("symbol", "x" * 5000, "symbol='xxxxxxxx"),
    ],
)
def test_hand_edited_fields_are_named(tmp_path: Path, field: str, value: object, message: str):
    entry = {**v1_entry(""), "tz": "UTC", "source": {"kind": "frame", "label": "frame"}, field: value}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 2, "datasets": {"EURUSD/H1": entry}}))
    with pytest.raises(DataError) as info:
        read_manifest(tmp_path)
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'manifest.json'}: entry 'EURUSD/H1': ")
    assert message in text and len(text) < 400
    assert text.endswith("; fix the field or re-import the dataset")


def test_an_entry_that_is_not_a_mapping(tmp_path: Path):
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 2, "datasets": {"EURUSD/H1": [1]}}))
    with pytest.raises(DataError, match=r"entry 'EURUSD/H1': must be a mapping of fields, got \[1\]"):
        read_manifest(tmp_path)


def test_an_unreadable_manifest_is_not_called_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Measured: a permission error said "delete it and re-import the data"."""
    (tmp_path / "manifest.json").write_text("{}")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(DataError) as info:
        read_manifest(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'manifest.json'}: cannot read the data manifest (permission denied); check the file's permissions"
    )
