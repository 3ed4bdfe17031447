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


# ---- the optional arrays of issue 9 -----------------------------------------------------------------


def _plan(*rows: tuple[float, ...]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def test_compiled_check_covers_exits_trails_and_target_progression() -> None:
    entry = np.zeros(3, dtype=np.int8)
    distances = np.full(3, NAN)
    good_plan = _plan((1.0, 2.0), (NAN, 2.0), (1.0, NAN))
    exits = np.array([0, 1, -1], dtype=np.int8)
    assert signals_look_valid_nb(entry, distances, distances, exits, np.ones(3), good_plan)
    assert not signals_look_valid_nb(entry, distances, distances, np.array([0, 2, 0], dtype=np.int8))
    assert not signals_look_valid_nb(entry, distances, distances, None, np.array([1.0, 0.0, NAN]))
    assert not signals_look_valid_nb(entry, distances, distances, None, None, _plan((1.0, 1.0), (1, 2), (1, 2)))
    skipping = _plan((2.0, NAN, 1.5), (1, 2, 3), (1, 2, 3))  # TP3 below TP1 across an unused TP2
    assert not signals_look_valid_nb(entry, distances, distances, None, None, skipping)


def _signals(**fields: object) -> Signals:
    base: dict[str, object] = {"entry": np.zeros(3, dtype=np.int8), "stop_distance": np.full(3, NAN)}
    return Signals(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"exit": np.array([0, 3, 0], dtype=np.int8)}, r"Signals.exit must be -1, 0 or \+1, got 3 at bar 1"),
        ({"exit": np.array([0, 0])}, r"Signals.exit must have shape \(3,\), got \(2,\)"),
        (
            {"trail_distance": np.array([1.0, 1.0, -2.0])},
            r"Signals.trail_distance must be > 0 or NaN, got -2.0 at bar 2",
        ),
        (
            {"targets": _plan((1.0, 2.0), (1.0, 3.0), (2.5, 2.0)), "target_fractions": (0.5, 0.5)},
            r"targets must increase from one target to the next \(TP1 < TP2 < ...\), got TP1=2.5 >= TP2=2.0 at bar 2",
        ),
        (
            {"targets": _plan((1.0, NAN, 0.5), (1, 2, 3), (1, 2, 3)), "target_fractions": (0.3, 0.3, 0.3)},
            r"got TP1=1.0 >= TP3=0.5 at bar 0",
        ),
        (
            {"targets": _plan((1.0,), (0.0,), (1.0,)), "target_fractions": (1.0,)},
            r"targets must be > 0 or NaN, got TP1=0.0 at bar 1",
        ),
        ({"targets": np.ones(3), "target_fractions": (1.0,)}, r"targets must have shape \(3, k\) with 1 <= k <= 4"),
        ({"targets": np.ones((3, 5)), "target_fractions": (0.2,) * 5}, r"with 1 <= k <= 4 .*got \(3, 5\)"),
        ({"targets": np.ones((3, 2))}, r"target_fractions must give one fraction per target column \(k=2\), got None"),
        ({"targets": np.ones((3, 2)), "target_fractions": (0.5,)}, r"one fraction per target column \(k=2\)"),
        (
            {"targets": _plan((1.0, 2.0), (1, 2), (1, 2)), "target_fractions": (0.7, 0.5)},
            r"target_fractions must sum to at most 1, got 1.2",
        ),
        (
            {"targets": np.ones((3, 1)), "target_fractions": (0.0,)},
            r"target_fractions must each be in \(0, 1\], got TP1=0.0",
        ),
        ({"target_fractions": (1.0,)}, r"target_fractions needs Signals.targets"),
        (
            {"targets": np.ones((3, 1)), "target_fractions": (1.0,), "target_distance": np.array([NAN, 2.0, NAN])},
            r"target_distance and targets exclude each other.*2.0 at bar 1",
        ),
        ({"break_even": 1}, r"break_even must be True or False, got 1"),
    ],
)
def test_each_broken_rule_is_named_with_its_bar(fields: dict[str, object], message: str) -> None:
    with pytest.raises(TradeScanError, match=message):
        _signals(**fields).validated(3, strategy_name="S")


def test_valid_plan_keeps_its_arrays_and_fractions() -> None:
    plan = _plan((1.0, 2.0, 3.0), (NAN, 2.0, NAN), (1.0, 1.5, 2.0))
    exits = np.array([0, -1, 1], dtype=np.int8)
    validated = _signals(
        targets=plan, target_fractions=[0.4, 0.3, 0.3], exit=exits, trail_distance=np.array([NAN, 1.0, 2.0]),
        break_even=True,
    ).validated(3)
    assert validated.targets is not None and np.shares_memory(validated.targets, plan)
    assert validated.exit is exits
    assert validated.target_fractions == (0.4, 0.3, 0.3)
    assert validated.break_even is True and validated.n_targets == 3
    assert validated.target_distance is not None and np.isnan(validated.target_distance).all()  # None: no target


def test_float_exit_arrays_are_accepted_like_float_entries() -> None:
    validated = _signals(exit=np.array([NAN, 1.0, -1.0])).validated(3)
    assert validated.exit is not None and validated.exit.dtype == np.int8
    assert validated.exit.tolist() == [0, 1, -1]
