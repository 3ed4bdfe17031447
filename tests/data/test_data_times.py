"""Time parsing: the fixed-width fast path agrees with strptime and is stricter; epochs; formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tradescan.data.importers.fixed_width import parse_fixed_width
from tradescan.data.importers.times import (
    NO_TIME,
    detect_time_format,
    epoch_to_ns,
    epoch_unit,
    parse_date_and_clock,
    parse_time_text,
)


def ns(*texts: str) -> list[int]:
    return [int(pd.Timestamp(text).as_unit("ns").value) for text in texts]


def test_fixed_width_agrees_with_pandas_on_random_times():
    rng = np.random.default_rng(0)
    seconds = rng.integers(-2_000_000_000, 4_000_000_000, 5000)
    times = pd.Series(pd.to_datetime(seconds, unit="s"))
    for time_format in ("%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y%m%d %H%M%S"):
        text = pa.array(times.dt.strftime(time_format))
        assert parse_fixed_width(text, time_format).tolist() == (seconds * 1_000_000_000).tolist()


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2024-02-29 23:59:59", True),
        ("2023-02-29 00:00:00", False),  # strptime would roll this over to March 1st
        ("2024-04-31 00:00:00", False),
        ("2024-13-01 00:00:00", False),
        ("2024-1a-01 00:00:00", False),
        ("2024-04-30 24:00:00", False),
        ("2024/04/30 10:00:00", False),
        ("0001-01-01 00:00:00", False),  # outside what int64 nanoseconds can hold
    ],
)
def test_fixed_width_refuses_impossible_times(text, valid):
    parsed = parse_time_text(pd.Series([text]), "%Y-%m-%d %H:%M:%S")
    assert (parsed[0] != NO_TIME) == valid


def test_variable_width_falls_back_to_strptime():
    parsed = parse_time_text(pd.Series(["2024-1-2 03:04:05", "2024-01-02 03:04:06"]), "%Y-%m-%d %H:%M:%S")
    assert parsed.tolist() == ns("2024-01-02 03:04:05", "2024-01-02 03:04:06")


def test_fractional_seconds_of_any_width():
    parsed = parse_time_text(pd.Series(["02.01.2024 00:00:00.5", "02.01.2024 00:00:00.125"]), "%d.%m.%Y %H:%M:%S.%f")
    assert parsed.tolist() == ns("2024-01-02 00:00:00.5", "2024-01-02 00:00:00.125")


def test_date_and_clock_columns():
    dates = pd.Series(["2024.01.02", "2024.01.02", "2024.02.30"])
    clocks = pd.Series(["00:00", "23:59", "01:00"])
    parsed = parse_date_and_clock(dates, clocks, "%Y.%m.%d", "%H:%M")
    assert parsed.tolist() == [*ns("2024-01-02 00:00", "2024-01-02 23:59"), NO_TIME]


def test_detect_time_format():
    assert detect_time_format(pd.Series(["2024.01.31 13:00", "2024.02.01 14:00"])) == "%Y.%m.%d %H:%M"
    assert detect_time_format(pd.Series(["31/01/2024 13:00:00"])) == "%d/%m/%Y %H:%M:%S"  # 31 cannot be a month
    assert detect_time_format(pd.Series(["2024-01-31T13:00:00+01:00"])) == "ISO8601"
    assert detect_time_format(pd.Series(["never"])) is None


@pytest.mark.parametrize(
    ("first", "unit"),
    [(1.7e9, "seconds"), (1.7e12, "milliseconds"), (1.7e15, "microseconds"), (1.7e18, "nanoseconds")],
)
def test_epoch_unit_by_magnitude(first, unit):
    assert epoch_unit(np.array([np.nan, first, 1.0]), source="x") == unit


def test_epoch_values_of_another_magnitude_are_refused():
    values = np.array([1_704_153_600_000.0, 1_704_157_200_000_000.0, np.nan])
    assert epoch_to_ns(values, "milliseconds").tolist() == [*ns("2024-01-02 00:00"), NO_TIME, NO_TIME]
