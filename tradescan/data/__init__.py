"""Market data: importers, validation, the Parquet store, resampling and synthetic bars (DESIGN §2).

Typical use::

    from tradescan import data
    data.import_file("eurusd.csv", "EURUSD", "H1")          # detect the format, validate, store
    bars = data.load("EURUSD", "H1", start="2020-01-01")     # time (UTC), open, high, low, close, volume
    data.write_dataset(data.synthesize("BTCUSDT", "M15", 10_000, seed=7), "BTCUSDT", "M15")
    data.dataset_hash("EURUSD", "H1")                        # SHA-256 used in lineage
"""

from __future__ import annotations

from tradescan.data.importers import FORMAT_CHOICES, FORMATS
from tradescan.data.importing import ImportReport, import_file
from tradescan.data.resample import infer_timeframe, resample
from tradescan.data.schema import BAR_COLUMNS, PRICE_COLUMNS
from tradescan.data.store import (
    DatasetInfo,
    dataset_hash,
    dataset_path,
    list_datasets,
    load,
    write_dataset,
)
from tradescan.data.synth import synthesize
from tradescan.data.timeframes import TIMEFRAMES, timeframe_minutes, validate_timeframe
from tradescan.data.validation import DroppedRow, validate_bars

__all__ = [
    "BAR_COLUMNS",
    "FORMATS",
    "FORMAT_CHOICES",
    "PRICE_COLUMNS",
    "TIMEFRAMES",
    "DatasetInfo",
    "DroppedRow",
    "ImportReport",
    "dataset_hash",
    "dataset_path",
    "import_file",
    "infer_timeframe",
    "list_datasets",
    "load",
    "resample",
    "synthesize",
    "timeframe_minutes",
    "validate_bars",
    "validate_timeframe",
    "write_dataset",
]
