"""Random parameter sets drawn in bulk with NumPy, without an Optuna study on the driver.

Optuna's ``RandomSampler`` through ``Study.ask``/``tell`` costs ~0.6-0.8 ms of driver CPU per trial,
a quarter of a backtest, on the same cores as the actors. A random search needs no study: each
parameter is drawn for a whole block of trials at once from its distribution's support, as
``RandomSampler`` does (uniform over an int or float step grid, log-uniform for ``log``, uniform
over a categorical's choices).

Trial ``i`` lies in block ``i // BLOCK_TRIALS``, drawn from a generator seeded with (seed, symbol,
block). A trial's parameters therefore depend only on the seed, the symbol and its number: a resumed
sweep skips the stored trials exactly, and the number of workers never matters.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

BLOCK_TRIALS = 256


def block_generator(seed: int, symbol: str, block: int) -> np.random.Generator:
    """Return the generator of one block of trials (independent streams per seed, symbol and block)."""
    entropy = [seed % 2**64, zlib.crc32(symbol.encode("utf-8")), block]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def draw_values(distribution: BaseDistribution, rng: np.random.Generator, n_trials: int) -> list[Any]:
    """Return ``n_trials`` values of ``distribution`` as Python values (int, float or the choice itself)."""
    if isinstance(distribution, IntDistribution):
        return _draw_ints(distribution, rng, n_trials)
    if isinstance(distribution, FloatDistribution):
        return _draw_floats(distribution, rng, n_trials)
    if isinstance(distribution, CategoricalDistribution):
        choices = distribution.choices
        return [choices[index] for index in rng.integers(0, len(choices), n_trials).tolist()]
    raise TypeError(f"cannot draw from {type(distribution).__name__}; expected an Int, Float or Categorical one")


def _draw_ints(distribution: IntDistribution, rng: np.random.Generator, n_trials: int) -> list[Any]:
    low, high = distribution.low, distribution.high
    if distribution.log:
        # As Optuna: log-uniform over [low - 0.5, high + 0.5], rounded (log implies step 1).
        raw = np.exp(rng.uniform(math.log(low - 0.5), math.log(high + 0.5), n_trials))
        return np.clip(np.rint(raw), low, high).astype(np.int64).tolist()
    n_steps = (high - low) // distribution.step
    return (low + distribution.step * rng.integers(0, n_steps + 1, n_trials)).tolist()


def _draw_floats(distribution: FloatDistribution, rng: np.random.Generator, n_trials: int) -> list[Any]:
    low, high = distribution.low, distribution.high
    if distribution.step is not None:
        n_steps = round((high - low) / distribution.step)
        values = np.minimum(low + distribution.step * rng.integers(0, n_steps + 1, n_trials), high)
    elif distribution.log:
        values = np.minimum(np.exp(rng.uniform(math.log(low), math.log(high), n_trials)), high)
    else:
        values = rng.uniform(low, high, n_trials)
    return values.tolist()


def draw_block(
    distributions: Mapping[str, BaseDistribution], seed: int, symbol: str, block: int
) -> list[dict[str, Any]]:
    """Return the ``BLOCK_TRIALS`` parameter sets of one block, in trial order."""
    if not distributions:
        return [{} for _ in range(BLOCK_TRIALS)]
    rng = block_generator(seed, symbol, block)
    columns = {name: draw_values(dist, rng, BLOCK_TRIALS) for name, dist in distributions.items()}
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


class RandomDraws:
    """Trial ``number`` → its parameter set, drawing (and keeping) one block at a time."""

    def __init__(self, distributions: Mapping[str, BaseDistribution], seed: int, symbol: str) -> None:
        self.distributions = dict(distributions)
        self.seed = seed
        self.symbol = symbol
        self._block = -1
        self._points: list[dict[str, Any]] = []

    def params(self, number: int) -> dict[str, Any]:
        """Return the parameters of trial ``number``."""
        block, offset = divmod(number, BLOCK_TRIALS)
        if block != self._block:
            self._points = draw_block(self.distributions, self.seed, self.symbol, block)
            self._block = block
        return dict(self._points[offset])
