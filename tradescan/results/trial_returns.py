"""``runs/<id>/trial_returns/<SYMBOL>.parquet``: stage 1's daily returns of every COMPLETE trial.

PBO (CSCV over every trial) and DSR (the variance of the trials' Sharpe ratios) need each trial's daily
return series, not only its metrics. One file per symbol, index column ``day`` (UTC date), one float32
column per trial number (``t0``, ``t1``, ...): 2,000 trials × 4,000 days × 4 B = 32 MB uncompressed per
symbol, written once per symbol after stage 1 (a resumed sweep adds its new trials' columns to the
file's). Columns, not rows, because every reader takes whole trials (a column each), and Parquet reads
a column at a time. The file is written atomically beside the committed tables (it is no commit table:
the guard stage reads it whole, and a missing trial is re-computed on the actors, never invented).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradescan.atomic import atomic_write_with
from tradescan.results.errors import ResultsFileError

__all__ = ["TRIAL_RETURNS_DIR", "read_trial_returns", "trial_returns_path", "write_trial_returns"]

TRIAL_RETURNS_DIR = "trial_returns"


def trial_returns_path(run_dir: Path, symbol: str) -> Path:
    """Return the file of ``symbol``'s trial returns in ``run_dir``."""
    return Path(run_dir) / TRIAL_RETURNS_DIR / f"{symbol}.parquet"


def _column(number: int) -> str:
    return f"t{number}"


def write_trial_returns(run_dir: Path, symbol: str, days: np.ndarray, returns: Mapping[int, np.ndarray]) -> Path:
    """Write (or extend) ``symbol``'s file with the trials in ``returns`` (trial number -> daily returns).

    Raises:
        ValueError: a vector's length differs from ``days``'.
    """
    path = trial_returns_path(run_dir, symbol)
    existing = read_trial_returns(run_dir, symbol) if path.exists() else None
    columns: dict[str, np.ndarray] = {}
    if existing is not None and len(existing) == len(days):
        columns.update({name: existing[name].to_numpy(np.float32) for name in existing.columns})
    for number in sorted(returns):
        vector = np.asarray(returns[number], dtype=np.float32)
        if len(vector) != len(days):
            raise ValueError(f"{symbol} trial {number}: {len(vector)} daily returns for {len(days)} days")
        columns[_column(number)] = vector
    ordered = sorted(columns, key=lambda name: int(name[1:]))
    table = pa.table({"day": pa.array(np.asarray(days, dtype="datetime64[D]")),
                      **{name: pa.array(columns[name]) for name in ordered}})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_with(path, lambda target: pq.write_table(table, target, compression="zstd"))
    return path


def read_trial_returns(run_dir: Path, symbol: str) -> pd.DataFrame:
    """Return ``symbol``'s trial returns (index ``day``, float32 columns ``t<number>``); empty when none.

    Raises:
        ResultsFileError: the file is damaged or unreadable.
    """
    path = trial_returns_path(run_dir, symbol)
    if not path.exists():
        return pd.DataFrame(index=pd.Index([], name="day", dtype="datetime64[s]"))
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise ResultsFileError(f"{path}: the trial returns of {symbol} cannot be read ({exc})") from None
    return frame.set_index("day")


def returns_by_trial(frame: pd.DataFrame) -> dict[int, np.ndarray]:
    """Return ``{trial number: daily returns}`` from a ``read_trial_returns`` frame."""
    return {int(name[1:]): frame[name].to_numpy(np.float32) for name in frame.columns if name.startswith("t")}
