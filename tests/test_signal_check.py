"""``Signals.validated``'s compiled check (``tradescan._signal_check``) agrees with its NumPy rules."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan._signal_check import signals_look_valid_nb
from tradescan.errors import TradeScanError
from tradescan.strategy import Signals

NAN = float("nan")


def test_compiled_check_accepts_valid_and_flags_each_broken_rule() -> None:
    entry = np.array([0, 1, -1, 0], dtype=np.int8)
    stop = np.array([NAN, 1.0, 2.0, 3.0])
    target = np.full(4, NAN)
    assert signals_look_valid_nb(entry, stop, target)
    assert not signals_look_valid_nb(np.array([0, 2, 0, 0], dtype=np.int8), stop, target)
    assert not signals_look_valid_nb(np.array([0, 0, -3, 0], dtype=np.int8), stop, target)
    assert not signals_look_valid_nb(entry, np.array([1.0, 0.0, 1.0, 1.0]), target)
    assert not signals_look_valid_nb(entry, stop, np.array([NAN, NAN, NAN, -1.0]))


def test_int8_entries_keep_the_first_problem_in_the_message() -> None:
    stop = np.array([1.0, -1.0, 1.0])  # a stop problem before the entry problem: the entry is named
    with pytest.raises(TradeScanError, match=r"Signals.entry must be -1, 0 or \+1, got 5 at bar 2"):
        Signals(np.array([0, 0, 5], dtype=np.int8), stop, np.full(3, NAN)).validated(3)
    with pytest.raises(TradeScanError, match=r"Signals.target_distance must be > 0 or NaN, got 0.0 at bar 1"):
        Signals(np.zeros(3, dtype=np.int8), np.ones(3), np.array([1.0, 0.0, 1.0])).validated(3)


def test_valid_int8_signals_are_returned_without_copies() -> None:
    entry = np.array([0, 1, -1], dtype=np.int8)
    stop = np.array([NAN, 1.0, 2.0])
    validated = Signals(entry, stop, np.full(3, NAN)).validated(3)
    assert validated.entry is entry and validated.stop_distance is stop
