"""Market data: importers, validation, the Parquet store, resampling and synthetic bars (DESIGN §2).

Typical use::

    from tradescan import data
    data.import_file("eurusd.csv", "EURUSD", "H1")          # detect the format, validate, store
    bars = data.load("EURUSD", "H1", start="2020-01-01")     # time (UTC), open, high, low, close, volume
    data.write_dataset(data.synthesize("BTCUSDT", "M15", 10_000, seed=7), "BTCUSDT", "M15")
    data.dataset_hash("EURUSD", "H1")                        # SHA-256 used in lineage
    data.list_datasets()                                     # rows, span, hash, tz and source of each

A dataset and its manifest entry are written as one commit (``tradescan.data.commit``); the manifest
records where each dataset came from (``tradescan.data.sources``), and ``may_replace`` lets a writer
refuse to replace data of another kind (``data synth`` never overwrites imported bars unasked;
``import_file`` replaces only an import of the same file unless ``force=True``).
"""

from __future__ import annotations

from tradescan.data.importers import FORMAT_CHOICES, FORMATS
from tradescan.data.importing import ImportReport, import_file
from tradescan.data.resample import infer_timeframe, resample
from tradescan.data.schema import BAR_COLUMNS, PRICE_COLUMNS
from tradescan.data.sources import DatasetSource, FrameSource, ImportSource, ResampleSource, SyntheticSource
from tradescan.data.store import (
    DatasetExistsError,
    DatasetInfo,
    check_may_replace,
    dataset_hash,
    dataset_path,
    known_symbol,
    list_datasets,
    load,
    write_dataset,
)
from tradescan.data.synth import synthesize, synthetic_source
from tradescan.data.timeframes import TIMEFRAMES, timeframe_minutes, validate_timeframe
from tradescan.data.validation import DroppedRow, validate_bars

__all__ = [
    "BAR_COLUMNS",
    "FORMATS",
    "FORMAT_CHOICES",
    "PRICE_COLUMNS",
    "TIMEFRAMES",
    "DatasetExistsError",
    "DatasetInfo",
    "DatasetSource",
    "DroppedRow",
    "FrameSource",
    "ImportReport",
    "ImportSource",
    "ResampleSource",
    "SyntheticSource",
    "check_may_replace",
    "dataset_hash",
    "dataset_path",
    "import_file",
    "infer_timeframe",
    "known_symbol",
    "list_datasets",
    "load",
    "resample",
    "synthesize",
    "synthetic_source",
    "timeframe_minutes",
    "validate_bars",
    "validate_timeframe",
    "write_dataset",
]
