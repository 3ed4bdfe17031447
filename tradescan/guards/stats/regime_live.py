"""Regime labels as a live feed computes them, against the labels a backtest used (DESIGN §5, §7).

A backtest labels every bar with ``tradescan.regime.regime_codes`` over the whole series at once. A
live feed knows only the bars closed so far. Two ways to get the live view without the O(n²) loop
over growing prefixes:

* ``"stream"`` (default): ``tradescan.regime.RegimeStream``, the causal incremental form of the
  rule (O(1) per bar, ~0.25 s for 100k bars), for every bar;
* ``"checkpoints"``: at every ``checkpoint_every``-th bar (and the last), ``regime_codes`` is
  recomputed on the prefix that ends there and its last label taken — exactly what a feed that
  recomputes from its history does, independent of ``RegimeStream``; compares only those bars.

A label is the pair (volatility code, spike flag); a bar mismatches when either differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from tradescan.guards._errors import UndefinedStatistic
from tradescan.regime import RegimeSettings, regime_codes, regime_codes_streaming

__all__ = ["LiveRegimeMethod", "RegimeMismatch", "live_regime_codes", "regime_mismatch"]

LiveRegimeMethod = Literal["stream", "checkpoints"]


@dataclass(frozen=True)
class RegimeMismatch:
    """Attributes: ``share`` (mismatched / compared bars), ``n_compared``, ``n_mismatched``,
    ``first_mismatch`` (bar index or None) and the ``method`` used."""

    share: float
    n_compared: int
    n_mismatched: int
    first_mismatch: int | None
    method: LiveRegimeMethod


def live_regime_codes(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    settings: RegimeSettings | None = None,
    *,
    method: LiveRegimeMethod = "stream",
    checkpoint_every: int = 1000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(bar_index, vol_code, spike)`` of the bars labelled as a live feed would label them.

    With ``"stream"`` every bar is labelled; with ``"checkpoints"`` the bars ``k·checkpoint_every − 1``
    and the last bar.
    """
    high_values, low_values, close_values = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    n_bars = len(close_values)
    if method == "stream":
        codes, spikes = regime_codes_streaming(high_values, low_values, close_values, settings)
        return np.arange(n_bars), codes, spikes
    if method != "checkpoints":
        raise ValueError(f"method must be 'stream' or 'checkpoints', got {method!r}")
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every >= 1 must hold, got {checkpoint_every!r}")
    index = np.unique(np.append(np.arange(checkpoint_every - 1, n_bars, checkpoint_every), n_bars - 1))
    index = index[index >= 0]
    codes = np.empty(len(index), dtype=np.int8)
    spikes = np.empty(len(index), dtype=bool)
    for slot, bar in enumerate(index):
        end = int(bar) + 1
        prefix_codes, prefix_spikes = regime_codes(high_values[:end], low_values[:end], close_values[:end], settings)
        codes[slot], spikes[slot] = prefix_codes[-1], prefix_spikes[-1]
    return index, codes, spikes


def regime_mismatch(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    vol_code: ArrayLike,
    spike: ArrayLike,
    settings: RegimeSettings | None = None,
    *,
    method: LiveRegimeMethod = "stream",
    checkpoint_every: int = 1000,
) -> RegimeMismatch:
    """Return the share of bars whose live-feed label differs from the backtest's ``(vol_code, spike)``.

    Raises:
        ValueError: arrays of different lengths.
        UndefinedStatistic: no bars.
    """
    used_codes, used_spikes = np.asarray(vol_code, dtype=np.int8), np.asarray(spike, dtype=bool)
    lengths = {len(np.asarray(a)) for a in (high, low, close, used_codes, used_spikes)}
    if len(lengths) != 1:
        raise ValueError(f"high, low, close, vol_code and spike must have one length, got lengths {sorted(lengths)}")
    if not len(used_codes):
        raise UndefinedStatistic("no bars to compare regime labels on")
    index, codes, spikes = live_regime_codes(
        high, low, close, settings, method=method, checkpoint_every=checkpoint_every
    )
    differ = (codes != used_codes[index]) | (spikes != used_spikes[index])
    n_mismatched = int(differ.sum())
    first = int(index[np.argmax(differ)]) if n_mismatched else None
    return RegimeMismatch(n_mismatched / len(index), len(index), n_mismatched, first, method)
