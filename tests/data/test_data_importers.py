"""Every importer on small hand-written files, format detection, and the errors of unreadable files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan.data.importers import detect_format, read_bars
from tradescan.data.importers.text import open_text
from tradescan.errors import DataError


def frame_of(rows: list[tuple[str, float, float, float, float, float]]) -> pd.DataFrame:
    """Expected bars from (UTC time text, open, high, low, close, volume) tuples."""
    times = pd.to_datetime([row[0] for row in rows]).tz_localize("UTC").as_unit("ns")
    values = np.array([row[1:] for row in rows], dtype=np.float64)
    columns = {name: values[:, index] for index, name in enumerate(("open", "high", "low", "close", "volume"))}
    return pd.DataFrame({"time": pd.Series(times), **columns})


TWO_BARS = [
    ("2024-01-02 00:00", 1.1041, 1.1045, 1.1032, 1.1040, 120.0),
    ("2024-01-02 01:00", 1.1040, 1.1052, 1.1038, 1.1050, 95.0),
]


def read(path, fmt="auto"):
    parsed, name = read_bars(path, fmt)
    return parsed, name


# --- generic CSV -------------------------------------------------------------------------------------


def test_generic_csv_header_aliases_case_insensitive(write_text):
    path = write_text(
        "generic.csv",
        "Date Time,OPEN,High,low,Close,Tick Volume",
        "2024-01-02 00:00:00,1.1041,1.1045,1.1032,1.104,120",
        "2024-01-02 01:00:00,1.104,1.1052,1.1038,1.105,95",
    )
    parsed, name = read(path)
    assert name == "csv"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))
    assert parsed.line_numbers.tolist() == [2, 3]


@pytest.mark.parametrize("time_header", ["Date", "Time", "Timestamp", "Datetime", "Gmt time", "Open time", "open_time"])
def test_generic_csv_time_aliases(write_text, time_header):
    path = write_text(
        "aliases.csv",
        f"{time_header},open,high,low,close,volume",
        "2024-01-02T00:00:00,1.1041,1.1045,1.1032,1.104,120",
        "2024-01-02T01:00:00,1.104,1.1052,1.1038,1.105,95",
    )
    parsed, _ = read(path, "csv")
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_generic_csv_separate_date_and_time_columns_semicolons_no_volume(write_text):
    path = write_text(
        "split.csv",
        "date;time;open;high;low;close",
        "02.01.2024;00:00;1.1041;1.1045;1.1032;1.104",
        "02.01.2024;01:00;1.104;1.1052;1.1038;1.105",
    )
    parsed, _ = read(path)
    expected = frame_of([(*row[:5], 0.0) for row in TWO_BARS])
    pd.testing.assert_frame_equal(parsed.frame, expected)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1704153600", "1704157200"),  # epoch seconds
        ("1704153600000", "1704157200000"),  # epoch milliseconds
        ("1704153600000000", "1704157200000000"),  # epoch microseconds
    ],
)
def test_generic_csv_epoch_times(write_text, first, second):
    path = write_text(
        "epoch.csv",
        "timestamp,open,high,low,close,volume",
        f"{first},1.1041,1.1045,1.1032,1.104,120",
        f"{second},1.104,1.1052,1.1038,1.105,95",
    )
    parsed, _ = read(path)
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_generic_csv_offsets_are_converted_to_utc(write_text):
    path = write_text(
        "offset.csv",
        "time,open,high,low,close",
        "2024-01-02T02:00:00+02:00,1.1041,1.1045,1.1032,1.104",
        "2024-01-02T01:00:00Z,1.104,1.1052,1.1038,1.105",
    )
    parsed, _ = read(path)
    assert parsed.frame["time"].tolist() == [
        pd.Timestamp("2024-01-02 00:00", tz="UTC"),
        pd.Timestamp("2024-01-02 01:00", tz="UTC"),
    ]


def test_generic_csv_unnamed_index_column_is_time(write_text):
    path = write_text(
        "to_csv.csv",
        ",Open,High,Low,Close,Volume",
        "2024-01-02 00:00:00,1.1041,1.1045,1.1032,1.104,120",
        "2024-01-02 01:00:00,1.104,1.1052,1.1038,1.105,95",
    )
    parsed, _ = read(path)
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_generic_csv_missing_column_is_named(write_text):
    path = write_text("nolow.csv", "time,open,high,close", "2024-01-02 00:00:00,1,1,1")
    with pytest.raises(DataError, match=r"nolow\.csv: no column for low in header \['time', 'open', 'high', 'close'\]"):
        read(path)


def test_generic_csv_ambiguous_day_month_order_is_refused(write_text):
    path = write_text(
        "ambiguous.csv",
        "date,open,high,low,close",
        "01/02/2024,1,1,1,1",
        "02/02/2024,1,1,1,1",
    )
    with pytest.raises(DataError, match=r"ambiguous .*DD/MM/YYYY and MM/DD/YYYY"):
        read(path)


def test_generic_csv_unknown_time_text(write_text):
    path = write_text("words.csv", "time,open,high,low,close", "yesterday,1,1,1,1")
    with pytest.raises(DataError, match=r"cannot read the times in column 'time' \(first value 'yesterday'\)"):
        read(path)


# --- MetaTrader 4 ------------------------------------------------------------------------------------


def test_mt4_history_csv(write_text):
    path = write_text(
        "EURUSD60.csv",
        "2024.01.02,00:00,1.1041,1.1045,1.1032,1.1040,120",
        "2024.01.02,01:00,1.1040,1.1052,1.1038,1.1050,95",
    )
    parsed, name = read(path)
    assert name == "mt4"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))
    assert parsed.line_numbers.tolist() == [1, 2]  # no header: the first row is line 1


def test_mt4_example_line_from_the_issue(write_text):
    path = write_text("issue.csv", "2017.04.19,09:00,1.0712,1.0720,1.0705,1.0715,1234")
    parsed, name = read(path)
    assert name == "mt4"
    expected = frame_of([("2017-04-19 09:00", 1.0712, 1.0720, 1.0705, 1.0715, 1234.0)])
    pd.testing.assert_frame_equal(parsed.frame, expected)


# --- MetaTrader 5 ------------------------------------------------------------------------------------

MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"


def test_mt5_export_uses_tick_volume_when_real_volume_is_zero(write_text):
    path = write_text(
        "mt5.csv",
        MT5_HEADER,
        "2024.01.02\t00:00:00\t1.1041\t1.1045\t1.1032\t1.1040\t120\t0\t3",
        "2024.01.02\t01:00:00\t1.1040\t1.1052\t1.1038\t1.1050\t95\t0\t2",
    )
    parsed, name = read(path)
    assert name == "mt5"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_mt5_export_prefers_real_volume_when_present(write_text):
    path = write_text(
        "mt5_real.csv",
        MT5_HEADER,
        "2024.01.02\t00:00:00\t1.1041\t1.1045\t1.1032\t1.1040\t7\t120\t3",
        "2024.01.02\t01:00:00\t1.1040\t1.1052\t1.1038\t1.1050\t8\t95\t2",
    )
    parsed, _ = read(path)
    assert parsed.frame["volume"].tolist() == [120.0, 95.0]


def test_mt5_daily_export_without_time_column(write_text):
    path = write_text(
        "mt5_daily.csv",
        "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>",
        "2024.01.02\t1.1041\t1.1045\t1.1032\t1.1040\t120\t0\t3",
        "2024.01.03\t1.1040\t1.1052\t1.1038\t1.1050\t95\t0\t2",
    )
    parsed, name = read(path)
    assert name == "mt5"
    expected = frame_of([("2024-01-02", *TWO_BARS[0][1:]), ("2024-01-03", *TWO_BARS[1][1:])])
    pd.testing.assert_frame_equal(parsed.frame, expected)


def test_mt5_export_in_utf16_as_metatrader_writes_it(write_text):
    path = write_text(
        "mt5_utf16.csv",
        MT5_HEADER,
        "2024.01.02\t00:00:00\t1.1041\t1.1045\t1.1032\t1.1040\t120\t0\t3",
        "2024.01.02\t01:00:00\t1.1040\t1.1052\t1.1038\t1.1050\t95\t0\t2",
        encoding="utf-16",
    )
    parsed, name = read(path)
    assert name == "mt5"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


# --- Binance -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit_factor", [1_000, 1_000_000], ids=["milliseconds", "microseconds"])
def test_binance_klines_in_ms_and_us(write_text, unit_factor):
    first, second = 1704153600 * unit_factor, 1704157200 * unit_factor
    path = write_text(
        "BTCUSDT-1h-2024-01.csv",
        f"{first},1.1041,1.1045,1.1032,1.1040,120,{second - 1},0,5,0,0,0",
        f"{second},1.1040,1.1052,1.1038,1.1050,95,{second + 3600 * unit_factor - 1},0,5,0,0,0",
    )
    parsed, name = read(path)
    assert name == "binance"
    assert parsed.time_format == ("epoch milliseconds" if unit_factor == 1_000 else "epoch microseconds")
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_binance_klines_with_header(write_text):
    path = write_text(
        "futures.csv",
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
        "taker_buy_quote_volume,ignore",
        "1704153600000,1.1041,1.1045,1.1032,1.1040,120,1704157199999,0,5,0,0,0",
        "1704157200000,1.1040,1.1052,1.1038,1.1050,95,1704160799999,0,5,0,0,0",
    )
    parsed, name = read(path)
    assert name == "binance"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))
    assert parsed.line_numbers.tolist() == [2, 3]


# --- Dukascopy ---------------------------------------------------------------------------------------


def test_dukascopy_csv(write_text):
    path = write_text(
        "EURUSD_Candlestick_1_Hour_BID.csv",
        "Gmt time,Open,High,Low,Close,Volume",
        "02.01.2024 00:00:00.000,1.1041,1.1045,1.1032,1.1040,120",
        "02.01.2024 01:00:00.000,1.1040,1.1052,1.1038,1.1050,95",
    )
    parsed, name = read(path)
    assert name == "dukascopy"
    pd.testing.assert_frame_equal(parsed.frame, frame_of(TWO_BARS))


def test_dukascopy_milliseconds_are_kept(write_text):
    path = write_text(
        "ticks.csv",
        "Gmt time,Open,High,Low,Close,Volume",
        "02.01.2024 00:00:00.250,1.1041,1.1045,1.1032,1.1040,12.5",
    )
    parsed, _ = read(path)
    assert parsed.frame["time"].iloc[0] == pd.Timestamp("2024-01-02 00:00:00.250", tz="UTC")
    assert parsed.frame["volume"].iloc[0] == 12.5


# --- detection and errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("2017.04.19,09:00,1.0712,1.0720,1.0705,1.0715,1234", "mt4"),
        (MT5_HEADER, "mt5"),
        ("1704153600000,1,1,1,1,1,1704157199999,0,5,0,0,0", "binance"),
        ("Gmt time,Open,High,Low,Close,Volume", "dukascopy"),
        ("time,open,high,low,close", "csv"),
    ],
)
def test_detect_format(write_text, first_line, expected):
    assert detect_format(open_text(write_text("any.csv", first_line))) == expected


def test_undetectable_format_names_the_first_line(write_text):
    path = write_text("numbers.csv", "1,2,3", "4,5,6")
    with pytest.raises(DataError, match=re.escape("cannot tell the file format from its first line '1,2,3'")):
        read(path)


def test_unknown_format_name(write_text):
    path = write_text("x.csv", "time,open,high,low,close")
    with pytest.raises(
        DataError, match=r"unknown format 'xls'; choose one of: auto, csv, mt4, mt5, binance, dukascopy"
    ):
        read(path, "xls")


def test_missing_and_empty_files(tmp_path, write_text):
    with pytest.raises(DataError, match=r"nothing\.csv: file not found"):
        read(tmp_path / "nothing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        read(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n  \n\n")
    with pytest.raises(DataError, match=r"blank\.csv: holds only blank lines \(5 bytes\), no bars"):
        read(tmp_path / "blank.csv")
    with pytest.raises(DataError, match=r": is a folder; give the path of a data file"):
        read(tmp_path)


def test_a_200_mib_file_of_one_line_is_not_called_empty(tmp_path):
    """Measured: a 200 MiB one-line file was reported as "empty"."""
    path = tmp_path / "one_line.csv"
    with path.open("wb") as stream:
        stream.write(b"1.1," * (1 << 15))
        stream.truncate(200 << 20)  # sparse: 200 MiB on paper, no disk used
    with pytest.raises(DataError) as info:
        read(path)
    assert str(info.value) == (
        f"{path}: no line break in its first 64 KiB (200.0 MiB in all): not a CSV of bars, which has one bar per line"
    )


def test_a_binary_file_is_named_as_such(tmp_path):
    path = tmp_path / "bars.zip"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"bars\.zip: a binary file \(1 KiB, NUL bytes in it\), not a CSV of bars"):
        read(path)


def test_a_permission_error_says_so(write_text, monkeypatch):
    path = write_text("locked.csv", "time,open,high,low,close", "2024-01-02 00:00:00,1,1,1,1")
    real_open = Path.open

    def locked(self: Path, *args, **kwargs):
        if self.name == "locked.csv":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)
    with pytest.raises(DataError) as info:
        read(path)
    assert str(info.value) == f"{path}: cannot read: permission denied; check the file's permissions"


def test_wrong_field_count_is_a_parse_error(write_text):
    path = write_text(
        "ragged.csv",
        "2024.01.02,00:00,1.1041,1.1045,1.1032,1.1040,120",
        "2024.01.02,01:00,1.1040,1.1052,1.1038,1.1050,95,7,8",
    )
    with pytest.raises(DataError, match=r"ragged\.csv: cannot read as MT4 history CSV: .*Expected 7 fields in line 2"):
        read(path, "mt4")


def test_leading_and_inner_blank_lines_keep_line_numbers(write_text):
    path = write_text(
        "blank.csv", "", "time,open,high,low,close", "2024-01-02 00:00:00,1,1,1,1", "", "2024-01-02 01:00:00,1,1,1,1"
    )
    parsed, _ = read(path)
    assert parsed.line_numbers.tolist() == [3, 5]


def test_a_row_of_garbage_is_reported_not_skipped(tmp_path, data_dir):
    from tradescan.data import import_file

    path = tmp_path / "klines.csv"
    path.write_text("1704153600000,1.1041,1.1045,1.1032,1.1040,120,1704157199999,0,5,0,0,0\nx,x,x,x,x,x,x,x,x,x,x,x\n")
    with pytest.raises(DataError, match=r"klines\.csv line 2: time 'x' does not parse as epoch milliseconds"):
        import_file(path, "BTCUSDT", "H1", fmt="binance", data_dir=data_dir)
