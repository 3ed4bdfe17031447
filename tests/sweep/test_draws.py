"""Random draws without Optuna: the distributions' support, and trial i's parameters fixed by its number."""

from __future__ import annotations

import math

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tradescan.sweep.draws import BLOCK_TRIALS, RandomDraws, draw_block, draw_values

N_DRAWS = 4_000


@pytest.mark.parametrize(
    "distribution",
    [
        IntDistribution(5, 40),
        IntDistribution(50, 200, step=5),
        IntDistribution(1, 1000, log=True),
        FloatDistribution(15.0, 35.0),
        FloatDistribution(5.0, 8.0, step=0.5),
        FloatDistribution(0.1, 1.0, step=0.3),
        FloatDistribution(1e-4, 1.0, log=True),
        FloatDistribution(2.0, 2.0),
        CategoricalDistribution([True, False]),
        CategoricalDistribution([None, 1.5, "a"]),
    ],
)
def test_every_draw_lies_in_the_distribution_with_optunas_type(distribution: object) -> None:
    values = draw_values(distribution, np.random.default_rng(0), N_DRAWS)  # type: ignore[arg-type]
    assert len(values) == N_DRAWS
    for value in values:
        assert distribution._contains(distribution.to_internal_repr(value))  # type: ignore[attr-defined]
    if isinstance(distribution, IntDistribution):
        assert all(type(v) is int for v in values)
        if not distribution.log:  # both ends reachable (log-uniform rarely hits the top)
            assert min(values) == distribution.low and max(values) == distribution.high
    elif isinstance(distribution, FloatDistribution):
        assert all(type(v) is float and math.isfinite(v) for v in values)
    else:
        assert {repr(v) for v in values} == {repr(c) for c in distribution.choices}  # type: ignore[attr-defined]


def test_steps_are_uniform() -> None:
    values = draw_values(IntDistribution(50, 200, step=5), np.random.default_rng(1), 31 * 400)
    counts = np.bincount((np.array(values) - 50) // 5)
    assert len(counts) == 31 and counts.min() > 300 and counts.max() < 500


def test_a_trials_parameters_depend_only_on_seed_symbol_and_number() -> None:
    distributions = {"fast": IntDistribution(5, 40), "k": FloatDistribution(1.0, 4.0),
                     "tp": CategoricalDistribution([True, False])}
    straight = RandomDraws(distributions, 7, "EURUSD")
    sequence = [straight.params(i) for i in range(2 * BLOCK_TRIALS + 10)]
    resumed = RandomDraws(distributions, 7, "EURUSD")  # a resume starting in the middle of block 1
    assert [resumed.params(i) for i in range(BLOCK_TRIALS + 3, 2 * BLOCK_TRIALS + 10)] == sequence[BLOCK_TRIALS + 3:]
    assert sequence[:BLOCK_TRIALS] == draw_block(distributions, 7, "EURUSD", 0)
    assert len({tuple(p.values()) for p in sequence}) > 0.9 * len(sequence)
    assert draw_block(distributions, 7, "GBPUSD", 0) != draw_block(distributions, 7, "EURUSD", 0)
    assert draw_block(distributions, 8, "EURUSD", 0) != draw_block(distributions, 7, "EURUSD", 0)
