"""The data folder's manifest: content hash, span, time zone and source of every stored dataset.

``manifest.json`` is what lineage reads (the SHA-256 of each Parquet file), so its entries are typed
(``ManifestEntry``) and checked on every read: a truncated file, a hand-edited field or an entry that
contradicts its key is a one-line ``DataError`` naming the file and the field, never a ``KeyError``
three layers up. Entries are keyed ``SYMBOL/TF`` in sorted order so that the file itself is stable.

Schema (version 2)::

    {"version": 2,
     "datasets": {"EURUSD/H1": {"symbol": "EURUSD", "timeframe": "H1", "file": "EURUSD/H1.parquet",
                                "sha256": "<64 hex>", "rows": 900,
                                "start": "2024-01-01T00:00:00+00:00", "end": "...",
                                "tz": "UTC",          # zone the source's times were written in
                                "source": {"kind": "import", "path": "/abs/eurusd.csv", "format": "mt4"}}}}

Version 1 manifests (``source`` a free text, no ``tz``) are read and rewritten as version 2 on the
next write. Writing is ``tradescan.data.commit``'s job: a dataset and its entry change together.
"""

from __future__ import annotations

import contextlib
import json
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradescan.atomic import folder_lock
from tradescan.data.quote import quote
from tradescan.data.sources import DatasetSource, FrameSource, ImportSource, ResampleSource, SyntheticSource
from tradescan.data.timeframes import TIMEFRAMES
from tradescan.errors import DataError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 2
DEFAULT_TZ = "UTC"
_LOCK_NAME = ".manifest.lock"
_KNOWN_FORMATS = ("csv", "mt4", "mt5", "binance", "dukascopy")
# What an older quickstart recorded as "quickstart synth": its seed was fixed at 42.
_LEGACY_QUICKSTART_SEED = 42


class ManifestEntry(BaseModel):
    """One stored dataset as the manifest records it.

    Attributes:
        file: the Parquet file, relative to the data folder (always ``SYMBOL/TF.parquet``).
        sha256: SHA-256 of the file's bytes; lineage uses it and readers check it.
        start: first bar time, ISO 8601 with offset (UTC).
        end: last bar time, likewise.
        tz: the IANA zone the source's times were written in; stored bars are always UTC.
        source: where the bars came from (``tradescan.data.sources``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    symbol: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    timeframe: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rows: int = Field(ge=1)
    start: str
    end: str
    tz: str = DEFAULT_TZ
    source: DatasetSource

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        if value not in TIMEFRAMES:
            raise ValueError(f"must be one of {', '.join(TIMEFRAMES)}")
        return value

    @field_validator("start", "end")
    @classmethod
    def _aware_time(cls, value: str) -> str:
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ValueError("must be an ISO 8601 time such as 2024-01-31T13:00:00+00:00") from None
        if stamp.tzinfo is None:
            raise ValueError("must carry its UTC offset (+00:00)")
        return value

    @field_validator("tz")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name such as UTC or Europe/Athens") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ManifestEntry:
        expected_file = f"{self.symbol}/{self.timeframe}.parquet"
        if self.file != expected_file:
            raise ValueError(
                f"file must be {expected_file!r} for {self.symbol} {self.timeframe}, got {quote(self.file)}"
            )
        if self.start_time > self.end_time:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self

    @property
    def start_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.start).tz_convert("UTC")

    @property
    def end_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.end).tz_convert("UTC")


def dataset_key(symbol: str, timeframe: str) -> str:
    """Return the manifest key of a dataset (``EURUSD/H1``)."""
    return f"{symbol}/{timeframe}"


@contextlib.contextmanager
def manifest_lock(folder: Path) -> Iterator[None]:
    """Hold the lock to keep while reading, checking and writing the manifest (creates the folder).

    Raises:
        DataError: the folder cannot be made or the lock file cannot be opened (nothing is written).
    """
    with contextlib.ExitStack() as stack:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stack.enter_context(folder_lock(folder, _LOCK_NAME))
        except OSError as exc:
            reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
            raise DataError(f"cannot write in the data folder {folder}: {reason}; nothing was written") from None
        yield


def read_manifest(folder: Path) -> dict[str, ManifestEntry]:
    """Return the manifest's entries by key ({} when the folder has no manifest yet).

    Raises:
        DataError: the manifest cannot be read, is not JSON, or an entry breaks the schema; the
            message names the file, the entry and the field.
    """
    path = folder / MANIFEST_NAME
    document = _load_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("datasets"), dict):
        raise DataError(f"{path}: not a Trade_Scan data manifest (no 'datasets' mapping); {_RESTORE_HINT}")
    version = document.get("version")
    if version not in (1, MANIFEST_VERSION) or isinstance(version, bool):
        raise DataError(
            f"{path}: manifest version {quote(version)} is not one this Trade_Scan reads (1 or {MANIFEST_VERSION})"
        )
    return {str(key): _entry(path, key, raw, legacy=version == 1) for key, raw in document["datasets"].items()}


_RESTORE_HINT = (
    "restore it from a backup, or move it aside to have the datasets described afresh from their files "
    "(their recorded sources are lost then)"
)


def _load_json(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return {"version": MANIFEST_VERSION, "datasets": {}}
    except PermissionError:
        raise DataError(
            f"{path}: cannot read the data manifest (permission denied); check the file's permissions"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the data manifest: {exc.strerror or exc}") from None
    try:
        return json.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: the data manifest is not UTF-8 text; {_RESTORE_HINT}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise DataError(
            f"{path}: the data manifest is not valid JSON ({exc.msg} at {where}); {_RESTORE_HINT}"
        ) from None


def _entry(path: Path, key: object, raw: object, *, legacy: bool) -> ManifestEntry:
    label = f"{path}: entry {quote(key)}"
    if not isinstance(raw, dict):
        raise DataError(f"{label}: must be a mapping of fields, got {quote(raw)}")
    try:
        entry = ManifestEntry.model_validate(_upgrade_v1(raw) if legacy else raw)
    except ValidationError as exc:
        raise DataError(f"{label}: {describe_errors(exc)}; fix the field or re-import the dataset") from None
    if key != dataset_key(entry.symbol, entry.timeframe):
        expected = dataset_key(entry.symbol, entry.timeframe)
        raise DataError(f"{label}: the key must be {expected!r} for symbol {entry.symbol} timeframe {entry.timeframe}")
    return entry


def describe_errors(exc: ValidationError) -> str:
    """Return each field error as ``field=value: rule``, values cut short."""
    problems = []
    for error in exc.errors():
        rule = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            problems.append(rule)
            continue
        field = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
        problems.append(f"{field}={quote(error.get('input'))}: {rule}")
    return "; ".join(problems)


def _upgrade_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Return a version-1 entry in version-2 form: ``tz`` added, the free-text ``source`` typed."""
    upgraded = {key: value for key, value in raw.items() if key != "source"}
    upgraded.setdefault("tz", DEFAULT_TZ)
    source = raw.get("source", "frame")
    upgraded["source"] = _v1_source(source, raw.get("rows")) if isinstance(source, str) else source
    return upgraded


def _v1_source(text: str, rows: object) -> dict[str, Any]:
    bars = rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 1 else 1
    if text == "quickstart synth":
        return SyntheticSource(seed=_LEGACY_QUICKSTART_SEED, bars=bars).model_dump()
    if match := re.fullmatch(r"synth\(seed=(\d+)\)", text):
        return SyntheticSource(seed=int(match[1]), bars=bars).model_dump()
    if match := re.fullmatch(rf"(.+) \(({'|'.join(_KNOWN_FORMATS)})\)", text):
        return ImportSource(path=match[1], format=match[2]).model_dump()
    if match := re.fullmatch(r"resample\(\S+ (\w+)\)", text):
        return ResampleSource(from_timeframe=match[1]).model_dump()
    return FrameSource(label=text).model_dump()


def manifest_bytes(entries: Mapping[str, ManifestEntry]) -> bytes:
    """Serialise entries as the manifest file (version 2, keys sorted, same entries -> same bytes)."""
    datasets = {key: entries[key].model_dump(mode="json") for key in sorted(entries)}
    document = {"version": MANIFEST_VERSION, "datasets": datasets}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
