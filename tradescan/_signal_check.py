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
    n_targets = 0 if targets is None else targets.shape[1]
    for b in range(entry.shape[0]):  # no early exit, so the reduction vectorises
        problem |= (entry[b] < -1) | (entry[b] > 1) | (stop_distance[b] <= 0.0) | (target_distance[b] <= 0.0)
        # a bare "is not None" test per array: numba compiles the check away when it is None
        if exit_signal is not None:
            problem |= (exit_signal[b] < -1) | (exit_signal[b] > 1)
        if trail_distance is not None:
            problem |= trail_distance[b] <= 0.0
    if targets is not None:
        # every pair of columns, one pass each: a comparison with NaN is false, so unused targets
        # pass and the used ones must increase strictly (no running "last used" value to carry)
        for column in range(n_targets):
            for b in range(targets.shape[0]):
                problem |= targets[b, column] <= 0.0
            for earlier in range(column):
                for b in range(targets.shape[0]):
                    problem |= targets[b, column] <= targets[b, earlier]
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
