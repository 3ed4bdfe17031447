"""Seeds for the guards' random streams, derived from the directive's ``guards.seed``.

Every random computation asks for its own stream by labels (``derive_seed(7, "permutation", 3)``), so
its numbers depend only on the seed and the labels — never on which worker runs it, or in what order.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["derive_seed"]


def _label_key(label: str | int) -> int:
    if isinstance(label, bool) or not isinstance(label, str | int):
        raise TypeError(f"seed labels are strings or integers, got {label!r}")
    if isinstance(label, int):
        if label < 0:
            raise ValueError(f"integer seed labels must be >= 0, got {label}")
        return label
    return int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "little")


def derive_seed(seed: int, *labels: str | int) -> int:
    """Return a 64-bit seed for the stream named by ``labels`` under the base ``seed``.

    Example: ``permute_bars(bars, derive_seed(settings.seed, "permutation", k))`` for permutation ``k``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    sequence = np.random.SeedSequence(seed, spawn_key=tuple(_label_key(label) for label in labels))
    return int(sequence.generate_state(1, np.uint64)[0])
