"""Bar permutation for the Monte-Carlo permutation test, and its p-value (DESIGN §7).

A permuted series keeps every bar's *shape* and the distribution of the gaps between bars, and
destroys their order (so any edge that lives in the order). In log prices, each bar is the triplet
(log high − log open, log low − log open, log close − log open) plus the gap log open − previous log
close. Bars after ``start_index`` get their triplets permuted together by one permutation and their
gaps by another, independent one; bars up to and including ``start_index`` are kept as they are (a
strategy's warm-up sees real data). The series is then rebuilt from the kept bar's close. Sums of
gaps and of close−open moves are unchanged by a permutation, so the permuted series ends at the real
last close: the last close is set to it exactly, absorbing the ~1e-13 rounding of the running sum.

Other columns: ``time`` (or the index) stays in place; every other column (``volume``, a per-bar
spread, ...) describes the bar and travels with its shape. High and low are clamped to cover open
and close, so rounding in ``exp`` can never produce an invalid bar.

A list of frames (several symbols of one run) is permuted *alike*: the same two permutations for
every frame, which must have the same length and the same times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import pandas as pd

from tradescan.guards._errors import UndefinedStatistic

__all__ = ["permutation_pvalue", "permute_bars"]

_PRICE_COLUMNS = ("open", "high", "low", "close")


@overload
def permute_bars(bars: pd.DataFrame, seed: int | np.random.SeedSequence, start_index: int = 0) -> pd.DataFrame: ...


@overload
def permute_bars(
    bars: Sequence[pd.DataFrame], seed: int | np.random.SeedSequence, start_index: int = 0
) -> list[pd.DataFrame]: ...


def permute_bars(
    bars: pd.DataFrame | Sequence[pd.DataFrame], seed: int | np.random.SeedSequence, start_index: int = 0
) -> pd.DataFrame | list[pd.DataFrame]:
    """Return ``bars`` with the order of bar shapes and of gaps permuted (a new frame, or list of frames).

    Args:
        bars: a DataFrame with ``open, high, low, close`` (and optionally ``time``, ``volume``, ...),
            or a list of such frames of equal length and equal times, permuted alike.
        seed: seeds a ``numpy.random.Generator``; the same seed gives the same permutation.
        start_index: bars ``0..start_index`` (inclusive) are kept unchanged.

    Raises:
        ValueError: a missing price column, a price that is not finite and positive, frames of different
            lengths or times, or ``start_index`` outside the series.
    """
    frames = [bars] if isinstance(bars, pd.DataFrame) else list(bars)
    if not frames:
        raise ValueError("permute_bars: no frames given")
    n_bars = _check_alike(frames)
    if not 0 <= start_index < n_bars:
        raise ValueError(f"permute_bars: start_index must be in 0..{n_bars - 1}, got {start_index}")
    rng = np.random.default_rng(seed)
    moved = n_bars - start_index - 1
    shape_order, gap_order = rng.permutation(moved), rng.permutation(moved)
    permuted = [_permute_frame(frame, start_index, shape_order, gap_order) for frame in frames]
    return permuted[0] if isinstance(bars, pd.DataFrame) else permuted


def permutation_pvalue(real: float, permuted: Sequence[float] | np.ndarray) -> float:
    """Return ``(1 + #{permuted ≥ real}) / (N + 1)``: the permutation test's p-value.

    Raises:
        UndefinedStatistic: no permuted score, or a score (real or permuted) that is NaN.
    """
    scores = np.asarray(permuted, dtype=np.float64).ravel()
    if len(scores) == 0:
        raise UndefinedStatistic("no permuted score: the permutation test needs at least one permuted series")
    if np.isnan(real):
        raise UndefinedStatistic("the real score is NaN")
    missing = int(np.isnan(scores).sum())
    if missing:
        raise UndefinedStatistic(f"{missing} of {len(scores)} permuted scores are NaN")
    return float((1 + np.count_nonzero(scores >= real)) / (len(scores) + 1))


def _check_alike(frames: list[pd.DataFrame]) -> int:
    for position, frame in enumerate(frames):
        _check_prices(frame, position)
    n_bars = len(frames[0])
    for position, frame in enumerate(frames[1:], start=1):
        if len(frame) != n_bars:
            raise ValueError(
                f"permute_bars: frames permuted alike need the same length; frame 0 has {n_bars} bars, "
                f"frame {position} has {len(frame)}"
            )
        _check_same_times(frames[0], frame, position)
    if n_bars == 0:
        raise UndefinedStatistic("permute_bars: no bars to permute")
    return n_bars


def _check_prices(frame: pd.DataFrame, position: int) -> None:
    missing = [c for c in _PRICE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"permute_bars: frame {position} lacks columns {missing} (has {list(frame.columns)[:10]})")
    for column in _PRICE_COLUMNS:
        values = frame[column].to_numpy(np.float64)
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = float(values[row])
            where = f"permute_bars: frame {position}, row {row}"
            raise ValueError(f"{where}: {column}={value!r}; prices must be finite and > 0")


def _times(frame: pd.DataFrame) -> np.ndarray:
    return frame["time"].to_numpy() if "time" in frame.columns else frame.index.to_numpy()


def _check_same_times(first: pd.DataFrame, other: pd.DataFrame, position: int) -> None:
    first_times, other_times = _times(first), _times(other)
    differ = first_times != other_times
    if np.any(differ):
        row = int(np.flatnonzero(differ)[0])
        raise ValueError(
            f"permute_bars: frames permuted alike need the same times; frame {position}, row {row}: "
            f"{other_times[row]} != {first_times[row]} (align the symbols first)"
        )


def _permute_frame(
    frame: pd.DataFrame, start_index: int, shape_order: np.ndarray, gap_order: np.ndarray
) -> pd.DataFrame:
    log_open, log_high, log_low, log_close = (np.log(frame[c].to_numpy(np.float64)) for c in _PRICE_COLUMNS)
    kept = start_index + 1
    up, down, move = ((series - log_open)[kept:][shape_order] for series in (log_high, log_low, log_close))
    gaps = (log_open[1:] - log_close[:-1])[start_index:][gap_order]
    new_log_close = log_close[start_index] + np.cumsum(gaps + move)
    new_log_open = np.concatenate(([log_close[start_index]], new_log_close[:-1])) + gaps
    opens, closes = np.exp(new_log_open), np.exp(new_log_close)
    if len(closes):
        closes[-1] = float(frame["close"].iloc[-1])  # the sums are invariant: absorb the rounding
    highs = np.maximum(np.exp(new_log_open + up), np.maximum(opens, closes))
    lows = np.minimum(np.exp(new_log_open + down), np.minimum(opens, closes))
    result = frame.copy()
    for column, values in zip(_PRICE_COLUMNS, (opens, highs, lows, closes), strict=True):
        result[column] = np.concatenate((frame[column].to_numpy(np.float64)[:kept], values))
    for column in (c for c in frame.columns if c not in (*_PRICE_COLUMNS, "time")):
        original = frame[column].to_numpy()
        result[column] = np.concatenate((original[:kept], original[kept:][shape_order]))
    return result
