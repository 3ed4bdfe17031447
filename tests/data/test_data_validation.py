"""Each validation rule, its message and line number; the count of other bad lines; drop_invalid."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tradescan.data import DroppedRow, import_file, load, validate_bars, write_dataset
from tradescan.errors import DataError

HEADER = "time,open,high,low,close,volume"
GOOD = [
    "2024-01-02 00:00:00,1.1041,1.1045,1.1032,1.104,120",
    "2024-01-02 01:00:00,1.104,1.1052,1.1038,1.105,95",
    "2024-01-02 02:00:00,1.105,1.106,1.1049,1.1055,80",
    "2024-01-02 03:00:00,1.1055,1.1058,1.1041,1.1042,70",
]


def with_line(bad: str, at: int) -> list[str]:
    """The good rows with ``bad`` replacing data row ``at`` (0-based); header is line 1, so row k is line k+2."""
    rows = list(GOOD)
    rows[at] = bad
    return [HEADER, *rows]


def import_lines(write_text, data_dir, lines, name="eurusd.csv", **options):
    return import_file(write_text(name, *lines), "EURUSD", "H1", data_dir=data_dir, **options)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "2024-01-02 02:00:00,1.105,1.1012,1.1002,1.102,80",
            "line 4: high 1.1012 < max(open, close) 1.105 (rule: high >= max(open, close))",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,1.1052,1.1055,80",
            "line 4: low 1.1052 > min(open, close) 1.105 (rule: low <= min(open, close))",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,-1.0,1.1055,80",
            "line 4: low -1 <= 0 (rule: prices > 0)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,,1.1055,80",
            "line 4: low is missing (rule: no NaN in OHLC)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,1.1049,abc,80",
            "line 4: close 'abc' is not a number (rule: prices and volume must be numbers)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,1.1049,1.1055,-5",
            "line 4: volume -5 < 0 (rule: volume >= 0)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,1.1049,1.1055,",
            "line 4: volume is missing (rule: volume >= 0)",
        ),
        (
            "2024-02-30 02:00:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time '2024-02-30 02:00:00' does not parse as YYYY-MM-DD HH:MM:SS (rule: times must parse)",
        ),
        (
            "2024-01-02 02:00:00,1.105,inf,1.1049,1.1055,80",
            "line 4: high inf is not a finite number (rule: no inf in OHLC or volume)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,-inf,1.1055,80",
            "line 4: low -inf is not a finite number (rule: no inf in OHLC or volume)",
        ),
        (
            "2024-01-02 02:00:00,1.105,1.106,1.1049,1.1055,Infinity",
            "line 4: volume inf is not a finite number (rule: no inf in OHLC or volume)",
        ),
        (
            "1500-01-02 02:00:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time '1500-01-02 02:00:00' is outside the years 1678-2261 the store can hold "
            "(rule: times within years 1678-2261)",
        ),
        (
            "2262-01-01 00:00:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time '2262-01-01 00:00:00' is outside the years 1678-2261 the store can hold "
            "(rule: times within years 1678-2261)",
        ),
        (
            "2024-01-02 01:00:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time 2024-01-02 01:00:00 duplicates line 3 (rule: no duplicate times)",
        ),
        (
            "2024-01-02 00:30:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time 2024-01-02 00:30:00 is before line 3 (2024-01-02 01:00:00) (rule: times strictly increasing)",
        ),
        (
            "2024-01-02 01:30:00,1.105,1.106,1.1049,1.1055,80",
            "line 4: time 2024-01-02 01:30:00 is only 30 min after line 3 (2024-01-02 01:00:00) but bars of this "
            "timeframe are 60 min long (is the timeframe right?) (rule: bars at least one timeframe apart)",
        ),
    ],
    ids=[
        "high",
        "low",
        "positive",
        "nan",
        "number",
        "volume",
        "volume-missing",
        "time",
        "inf-high",
        "inf-low",
        "inf-volume",
        "year-1500",
        "year-2262",
        "duplicate",
        "order",
        "spacing",
    ],
)
def test_rule_message_names_file_line_and_rule(write_text, data_dir, bad_row, message):
    with pytest.raises(DataError, match=re.escape(f"eurusd.csv {message}; use --drop-invalid")):
        import_lines(write_text, data_dir, with_line(bad_row, 2))
    assert not data_dir.exists()  # nothing written


def test_message_from_the_issue(write_text, data_dir):
    lines = [HEADER, *GOOD[:2], "2024-01-02 02:00:00,1.1020,1.1012,1.1002,1.1010,80"]
    with pytest.raises(DataError, match=re.escape("line 4: high 1.1012 < max(open, close) 1.102 (rule: high")):
        import_lines(write_text, data_dir, lines)


def test_first_bad_line_and_count_of_others(write_text, data_dir):
    lines = [
        HEADER,
        GOOD[0],
        "2024-01-02 01:00:00,1.104,1.1,1.1038,1.105,95",  # line 3: high
        "2024-01-02 02:00:00,x,1.106,1.1049,1.1055,80",  # line 4: number
        GOOD[3],
        "",  # line 6: blank, ignored
        "2024-01-02 04:00:00,1.1042,1.105,1.104,1.1045,",  # line 7: volume missing
        "2024-01-02 05:00:00,1.1045,1.105,1.104,-1.1045,1",  # line 8: close <= 0
        "2024-01-02 06:00:00,1.1045,1.105,1.104,1.1046,1",
    ]
    with pytest.raises(DataError) as caught:
        import_lines(write_text, data_dir, lines)
    assert str(caught.value).endswith(
        "eurusd.csv line 3: high 1.1 < max(open, close) 1.105 (rule: high >= max(open, close)); "
        "and 3 other bad lines (line 4, 7, 8); use --drop-invalid (drop_invalid=True) to drop bad lines"
    )


def test_headerless_file_first_row_is_line_one(write_text, data_dir):
    path = write_text(
        "EURUSD60.csv",
        "2024.01.02,00:00,1.1041,1.1045,1.1032,1.1040,120",
        "2024.01.02,01:00,1.1040,1.1035,1.1038,1.1050,95",
    )
    with pytest.raises(DataError, match=re.escape("EURUSD60.csv line 2: high 1.1035 < max(open, close) 1.105")):
        import_file(path, "EURUSD", "H1", data_dir=data_dir)


def test_unparseable_mt4_time_quotes_the_text(write_text, data_dir):
    path = write_text(
        "EURUSD60.csv",
        "2024.01.02,00:00,1.1041,1.1045,1.1032,1.1040,120",
        "2024.13.02,01:00,1.1040,1.1052,1.1038,1.1050,95",
    )
    with pytest.raises(
        DataError, match=re.escape("line 2: time '2024.13.02 01:00' does not parse as YYYY.MM.DD HH:MM")
    ):
        import_file(path, "EURUSD", "H1", data_dir=data_dir)


def test_binance_time_of_another_unit_is_refused(write_text, data_dir):
    path = write_text(
        "klines.csv",
        "1704153600000,1.1041,1.1045,1.1032,1.1040,120,1704157199999,0,5,0,0,0",
        "1704157200000000,1.1040,1.1052,1.1038,1.1050,95,1704160799999999,0,5,0,0,0",
    )
    with pytest.raises(
        DataError, match=re.escape("line 2: time '1704157200000000' does not parse as epoch milliseconds")
    ):
        import_file(path, "BTCUSDT", "H1", data_dir=data_dir)


def test_drop_invalid_reports_exactly_the_dropped_lines(write_text, data_dir):
    lines = [
        HEADER,
        GOOD[0],
        "2024-01-02 01:00:00,1.104,1.1,1.1038,1.105,95",
        GOOD[1],
        "2024-01-02 00:00:00,1.104,1.1052,1.1038,1.105,95",
        GOOD[2],
        GOOD[3],
    ]
    report = import_lines(write_text, data_dir, lines, drop_invalid=True)
    assert report.dropped == (
        DroppedRow(3, "high 1.1 < max(open, close) 1.105 (rule: high >= max(open, close))"),
        DroppedRow(
            5, "time 2024-01-02 00:00:00 is before line 4 (2024-01-02 01:00:00) (rule: times strictly increasing)"
        ),
    )
    assert report.dropped_lines == (3, 5)
    assert report.rows_read == 6
    assert report.rows == 4
    stored = load("EURUSD", "H1", data_dir=data_dir)
    assert stored["time"].dt.strftime("%H:%M").tolist() == ["00:00", "01:00", "02:00", "03:00"]
    assert stored["close"].tolist() == [1.104, 1.105, 1.1055, 1.1042]


def test_drop_invalid_keeps_a_good_row_after_a_bad_row_with_the_same_time(write_text, data_dir):
    lines = [HEADER, GOOD[0], "2024-01-02 01:00:00,1.104,1.1,1.1038,1.105,95", GOOD[1], GOOD[2]]
    report = import_lines(write_text, data_dir, lines, drop_invalid=True)
    assert report.dropped_lines == (3,)
    assert report.rows == 3


def test_drop_invalid_with_nothing_left(write_text, data_dir):
    lines = [HEADER, "2024-01-02 00:00:00,1.1041,1.1,1.1032,1.104,120"]
    with pytest.raises(DataError, match=r"every row breaks a rule; first: .*line 2: high 1\.1 <"):
        import_lines(write_text, data_dir, lines, drop_invalid=True)


def test_no_bars(write_text, data_dir):
    with pytest.raises(DataError, match=r"eurusd\.csv: no bars found"):
        import_lines(write_text, data_dir, [HEADER])


def test_timeframe_coarser_than_declared_is_refused(write_text, data_dir):
    with pytest.raises(DataError, match=r"at least 60 min apart, but M15 bars are 15 min long; is --timeframe right\?"):
        import_file(write_text("h1.csv", HEADER, *GOOD), "EURUSD", "M15", data_dir=data_dir)


def test_validate_bars_on_a_frame_names_the_row():
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-02 00:00", "2024-01-02 01:00"]).tz_localize("UTC").as_unit("ns"),
            "open": [1.0, 1.0],
            "high": [1.1, 0.9],
            "low": [0.9, 0.9],
            "close": [1.0, 1.0],
            "volume": [0.0, 0.0],
        }
    )
    with pytest.raises(DataError, match=re.escape("frame row 1: high 0.9 < max(open, close) 1 (rule: high")):
        validate_bars(frame)


def test_one_inf_high_is_refused_not_traded_on(write_text, data_dir):
    """Measured: one ``inf`` high was accepted and turned 165 trades into 89."""
    lines = with_line("2024-01-02 01:00:00,1.104,inf,1.1038,1.105,95", 1)
    with pytest.raises(DataError, match=r"eurusd\.csv line 3: high inf is not a finite number"):
        import_lines(write_text, data_dir, lines)
    report = import_lines(write_text, data_dir, lines, drop_invalid=True)
    assert report.dropped == (DroppedRow(3, "high inf is not a finite number (rule: no inf in OHLC or volume)"),)
    assert load("EURUSD", "H1", data_dir=data_dir)["high"].tolist() == [1.1045, 1.106, 1.1058]


@pytest.mark.parametrize(
    ("times", "shown"),
    [
        (["1500-1-2 00:00:00", "1500-1-2 01:00:00"], "'1500-1-2 00:00:00'"),  # variable width: strptime
        (["2300-01-02T00:00:00Z", "2300-01-02T01:00:00Z"], "'2300-01-02T00:00:00Z'"),  # ISO 8601 with offset
        (["1500-01-02 00:00:00.5", "1500-01-02 01:00:00.25"], "'1500-01-02 00:00:00.5'"),  # fractions
        (["90000000000", "90000003600"], "'90000000000'"),  # epoch seconds of year 4822
    ],
    ids=["strptime", "iso8601", "fraction", "epoch"],
)
def test_times_out_of_range_are_refused_never_wrapped(write_text, data_dir, times, shown):
    """Measured: year 1500 was stored as 2084, year 2300 as 1715."""
    lines = ["time,open,high,low,close", *(f"{time},1.1,1.2,1.0,1.1" for time in times)]
    expected = f"eurusd.csv line 2: time {shown} is outside the years 1678-2261 the store can hold"
    with pytest.raises(DataError, match=re.escape(expected)):
        import_lines(write_text, data_dir, lines)
    assert not data_dir.exists()


def test_mt4_dates_out_of_range_are_refused(write_text, data_dir):
    path = write_text("old.csv", "1500.01.02,00:00,1.1,1.2,1.0,1.1,5", "2024.01.02,01:00,1.1,1.2,1.0,1.1,5")
    with pytest.raises(DataError, match=re.escape("old.csv line 1: time '1500.01.02 00:00' is outside the years")):
        import_file(path, "EURUSD", "H1", data_dir=data_dir)


def test_frames_out_of_range_are_refused_by_row():
    frame = pd.DataFrame(
        {"time": pd.to_datetime(["2024-01-01", "1500-01-02"]).as_unit("us"), "open": 1.0, "high": 1.0, "low": 1.0,
         "close": 1.0}
    )  # fmt: skip
    with pytest.raises(DataError, match=r"frame row 1: time 1500-01-02 00:00:00\+00:00 is outside the years 1678-2261"):
        write_dataset(frame, "EURUSD", "D1", data_dir=None)


def test_frames_with_inf_are_refused():
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=2, freq="D"), "open": 1.0, "high": [1.0, np.inf],
                          "low": 1.0, "close": 1.0, "volume": 0.0})  # fmt: skip
    with pytest.raises(DataError, match=r"frame row 1: high inf is not a finite number"):
        validate_bars(frame)


def test_a_huge_cell_is_quoted_short(write_text, data_dir):
    """Measured: a 20 MiB cell was echoed into a 20-million-character error."""
    lines = with_line("2024-01-02 01:00:00," + "9x" * (10 << 20) + ",1.1052,1.1038,1.105,95", 1)
    with pytest.raises(DataError) as info:
        import_lines(write_text, data_dir, lines)
    message = str(info.value).removeprefix(str(write_text("eurusd.csv").parent) + "/")
    assert len(message) < 250
    assert message.startswith("eurusd.csv line 3: open '9x9x9x9x")
    assert "... (20,971,520 characters) is not a number" in message
