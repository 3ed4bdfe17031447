"""The typed run manifest: round trip, refused fields, no lost key."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from results_helpers import STARTED, make_manifest

from tradescan.results import RunManifest
from tradescan.results.manifest import SymbolEntry, TrialCounts
from tradescan.results.store import manifest_bytes


def test_json_round_trip_keeps_every_field() -> None:
    manifest = make_manifest(verdicts={"EURUSD": {"dsr": 0.97}})
    again = RunManifest.model_validate(json.loads(manifest_bytes(manifest)))
    assert again == manifest
    assert again.workers == 2 and again.started == STARTED and again.symbols["GBPUSD"].reasons == ("no data",)


def test_json_layout_names() -> None:
    document = json.loads(manifest_bytes(make_manifest()))
    assert document["schema_version"] == 1 and document["workers"] == 2
    assert document["started"] == "2025-01-02T10:00:00Z"
    assert document["symbols"]["EURUSD"]["trials"] == {"total": 4, "resumed": 0, "ran": 4, "complete": 4,
                                                      "fail": 0, "pruned": 0}
    assert document["stage_seconds"] == {"startup": 0.0, "ray_init": 0.0, "preflight": 0.0, "stage1": 0.0,
                                         "stage2": 0.0, "guards": 0.0, "write": 0.0, "total": 0.0}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("workers", True, "workers"),
        ("status", "done", "status"),
        ("started", "yesterday", "started"),
        ("started", "2025-01-02T10:00:00", "timezone"),
        ("colour", "blue", "colour"),
    ],
)
def test_a_bad_field_is_refused(field: str, value: object, message: str) -> None:
    document = json.loads(manifest_bytes(make_manifest()))
    document[field] = value
    with pytest.raises(ValidationError, match=message):
        RunManifest.model_validate(document)


def test_counts_refuse_booleans_and_negatives() -> None:
    with pytest.raises(ValidationError, match="total"):
        TrialCounts(total=True)
    with pytest.raises(ValidationError, match="ran"):
        TrialCounts(ran=-1)


def test_models_are_frozen() -> None:
    entry = SymbolEntry(status="DONE")
    with pytest.raises(ValidationError, match="frozen"):
        entry.status = "FAILED"  # type: ignore[misc]
