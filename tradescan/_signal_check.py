"""The compiled one-pass check behind ``Signals.validated``.

Kept apart from ``tradescan.strategy`` so that importing the strategy contract does not load numba;
``Signals.validated`` imports it on first use. The optional arrays (``exit``, ``trail_distance``,
``targets``) may be ``None``: numba compiles a version of the pass without them, so a strategy that
uses none of them pays nothing for their checks.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def signals_look_valid_nb(
    entry: np.ndarray,
    stop_distance: np.ndarray,
    target_distance: np.ndarray,
    exit_signal: np.ndarray | None = None,
    trail_distance: np.ndarray | None = None,
    targets: np.ndarray | None = None,
) -> bool:
    """Return whether every signal array keeps its rules, in one pass over the bars.

    Rules: ``entry`` and ``exit_signal`` are -1, 0 or +1; every distance is > 0 or NaN; the non-NaN
    distances of a bar's ``targets`` row increase from one column to the next (TP1 < TP2 < ...).
    ``Signals.validated``'s fast path: it names the first problem only when this returns False.
    """
    problem = False
    for b in range(entry.shape[0]):  # no early exit, so the reduction vectorises
        problem |= (entry[b] < -1) | (entry[b] > 1) | (stop_distance[b] <= 0.0) | (target_distance[b] <= 0.0)
    if exit_signal is not None:
        for b in range(exit_signal.shape[0]):
            problem |= (exit_signal[b] < -1) | (exit_signal[b] > 1)
    if trail_distance is not None:
        for b in range(trail_distance.shape[0]):
            problem |= trail_distance[b] <= 0.0
    if targets is not None:
        for b in range(targets.shape[0]):
            previous = -np.inf
            for column in range(targets.shape[1]):
                distance = targets[b, column]
                # NaN compares false: an unused target neither fails nor moves ``previous``
                problem |= (distance <= 0.0) | (distance <= previous)
                previous = distance if distance == distance else previous
    return not problem


@njit(cache=True)
def any_nonzero_nb(values: np.ndarray) -> bool:
    """Return whether any value is not 0 (stops at the first one)."""
    for value in values:  # noqa: SIM110  # any() over a generator does not compile in numba
        if value != 0:
            return True
    return False


@njit(cache=True)
def any_number_nb(values: np.ndarray) -> bool:
    """Return whether any value is not NaN (stops at the first one)."""
    for value in values:  # noqa: SIM110
        if value == value:
            return True
    return False
