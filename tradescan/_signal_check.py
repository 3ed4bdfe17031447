"""The compiled one-pass check behind ``Signals.validated``.

Kept apart from ``tradescan.strategy`` so that importing the strategy contract does not load numba;
``Signals.validated`` imports it on first use.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def signals_look_valid_nb(entry: np.ndarray, stop_distance: np.ndarray, target_distance: np.ndarray) -> bool:
    """Return whether every entry is -1, 0 or +1 and every distance is > 0 or NaN, in one pass.

    ``Signals.validated``'s fast path: it names the first problem only when this returns False.
    """
    problem = False
    for b in range(entry.shape[0]):  # no early exit, so the reduction vectorises
        problem |= (entry[b] < -1) | (entry[b] > 1) | (stop_distance[b] <= 0.0) | (target_distance[b] <= 0.0)
    return not problem
