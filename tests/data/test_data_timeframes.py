"""Timeframe names and lengths."""

from __future__ import annotations

import pytest

from tradescan.data import TIMEFRAMES, timeframe_minutes, validate_timeframe
from tradescan.data.timeframes import timeframe_ns
from tradescan.errors import DataError


def test_known_timeframes():
    assert TIMEFRAMES == ("M1", "M5", "M15", "M30", "H1", "H4", "D1")
    assert [timeframe_minutes(name) for name in TIMEFRAMES] == [1, 5, 15, 30, 60, 240, 1440]
    assert timeframe_ns("H1") == 3_600_000_000_000


def test_lower_case_is_accepted_and_normalised():
    assert validate_timeframe("m15") == "M15"


@pytest.mark.parametrize("name", ["H2", "1h", "", "W1", "../H1"])
def test_unknown_timeframes(name):
    with pytest.raises(DataError, match=r"unknown timeframe .*; known timeframes: M1, M5, M15, M30, H1, H4, D1"):
        validate_timeframe(name)
