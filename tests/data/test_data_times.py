"""Time parsing: the fixed-width fast path agrees with strptime and is stricter; epochs; formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tradescan.data.importers.fixed_width import parse_fixed_width
from tradescan.data.schema import OUT_OF_RANGE_NS
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
    ],
)
def test_fixed_width_refuses_impossible_times(text, valid):
    parsed = parse_time_text(pd.Series([text]), "%Y-%m-%d %H:%M:%S")
    assert (parsed[0] != NO_TIME) == valid


@pytest.mark.parametrize(
    "time_format", ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "ISO8601"], ids=["fixed", "fraction", "iso"]
)
def test_the_range_edges_on_every_path(time_format):
    """Years 1678-2261 are kept; one second outside is OUT_OF_RANGE, never a wrapped time."""
    suffix = ".5" if time_format.endswith("%f") else ""
    texts = ["1677-12-31 23:59:59", "1678-01-01 00:00:00", "2261-12-31 23:59:59", "2262-01-01 00:00:00",
             "0001-01-01 00:00:00", "9999-12-31 00:00:00"]  # fmt: skip
    for width_breaker in ("", "x"):  # "x" makes the widths differ: the strptime path instead of fixed width
        column = pd.Series([text + suffix for text in texts] + ([width_breaker] if width_breaker else []))
        parsed = parse_time_text(column, time_format)[: len(texts)]
        half = 500_000_000 if suffix else 0
        inside = [n + half for n in ns("1678-01-01 00:00:00", "2261-12-31 23:59:59")]
        assert parsed.tolist() == [OUT_OF_RANGE_NS, inside[0], inside[1], OUT_OF_RANGE_NS, OUT_OF_RANGE_NS,
                                   OUT_OF_RANGE_NS]  # fmt: skip


def test_epoch_beyond_the_range_is_out_of_range():
    seconds = np.array([1.7e9, 9.0e10, 9.9e10])  # 2023, 4822, 5107: all of the magnitude of seconds
    assert epoch_to_ns(seconds, "seconds").tolist() == [1_700_000_000 * 10**9, OUT_OF_RANGE_NS, OUT_OF_RANGE_NS]
    assert epoch_to_ns(np.array([-5.0, np.nan, np.inf]), "seconds").tolist() == [NO_TIME] * 3


def test_date_and_clock_keep_out_of_range_dates():
    parsed = parse_date_and_clock(pd.Series(["1500.01.02", "2024.01.02"]), pd.Series(["10:00", "10:00"]),
                                  "%Y.%m.%d", "%H:%M")  # fmt: skip
    assert parsed.tolist() == [OUT_OF_RANGE_NS, *ns("2024-01-02 10:00")]


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
