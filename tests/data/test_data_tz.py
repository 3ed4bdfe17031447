"""``data import --tz``: MT4/MT5 server time to UTC, and the two DST hours (rule in importers/times.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan.cli import main
from tradescan.data import import_file, list_datasets, load
from tradescan.data.importers.times import NO_TIME, local_to_utc, resolve_zone
from tradescan.errors import DataError, UnknownNameError

# An MT4 H1 export of a 24/7 symbol in EET/EEST server time across both DST changes of 2023 in Europe:
# on 26 March the clocks jump from 03:00 to 04:00 (no bar stamped 03:00); on 29 October they go back
# from 04:00 to 03:00, so two consecutive bars are stamped 03:00 (the first EEST, the second EET).
MT4_SERVER_TIME = [
    "2023.03.26,00:00,28000.0,28010.0,27990.0,28005.0,10",  # EET, UTC+2
    "2023.03.26,01:00,28005.0,28020.0,28000.0,28015.0,11",
    "2023.03.26,02:00,28015.0,28030.0,28010.0,28025.0,12",
    "2023.03.26,04:00,28025.0,28040.0,28020.0,28035.0,13",  # EEST, UTC+3: the next hour
    "2023.03.26,05:00,28035.0,28050.0,28030.0,28045.0,14",
    "2023.10.29,01:00,34000.0,34010.0,33990.0,34005.0,20",  # EEST
    "2023.10.29,02:00,34005.0,34020.0,34000.0,34015.0,21",
    "2023.10.29,03:00,34015.0,34030.0,34010.0,34025.0,22",  # first 03:00: EEST
    "2023.10.29,03:00,34025.0,34040.0,34020.0,34035.0,23",  # second 03:00: EET
    "2023.10.29,04:00,34035.0,34050.0,34030.0,34045.0,24",  # EET, UTC+2
]
EXPECTED_UTC = [
    "2023-03-25 22:00",
    "2023-03-25 23:00",
    "2023-03-26 00:00",
    "2023-03-26 01:00",
    "2023-03-26 02:00",
    "2023-10-28 22:00",
    "2023-10-28 23:00",
    "2023-10-29 00:00",
    "2023-10-29 01:00",
    "2023-10-29 02:00",
]


def _utc(*times: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(text, tz="UTC") for text in times]


def _mt4(tmp_path: Path, *lines: str, name: str = "BTCUSD60.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("zone", ["EET", "Europe/Athens"])
def test_mt4_server_time_across_both_dst_changes_imports_to_utc(tmp_path: Path, zone: str) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME)
    report = import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz=zone)
    bars = load("BTCUSDT", "H1", data_dir=tmp_path / "data")
    assert bars["time"].tolist() == _utc(*EXPECTED_UTC)
    assert bars["open"].tolist() == [float(line.split(",")[2]) for line in MT4_SERVER_TIME]  # rows kept in order
    assert report.tz == zone and report.format == "mt4" and report.rows == 10


def test_the_manifest_records_the_source_zone(tmp_path: Path) -> None:
    import_file(_mt4(tmp_path, *MT4_SERVER_TIME), "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET")
    datasets = list_datasets(tmp_path / "data")
    if "tz" not in datasets.columns:
        pytest.skip("this branch's manifest has no tz field yet (the data store rewrite adds it)")
    assert datasets["tz"].tolist() == ["EET"]


def test_minute_bars_through_the_repeated_hour_are_placed_by_order(tmp_path: Path) -> None:
    clock = [f"2023.10.29,02:{minute:02d}" for minute in (58, 59)]
    clock += [f"2023.10.29,03:{minute:02d}" for minute in range(60)] * 2  # summer pass, then standard pass
    clock += [f"2023.10.29,04:{minute:02d}" for minute in (0, 1)]
    lines = [f"{stamp},1.1,1.2,1.0,1.1,1" for stamp in clock]
    import_file(_mt4(tmp_path, *lines), "EURUSD", "M1", data_dir=tmp_path / "data", tz="Europe/Athens")
    times = load("EURUSD", "M1", data_dir=tmp_path / "data")["time"]
    expected = pd.date_range("2023-10-28 23:58", "2023-10-29 02:01", freq="min", tz="UTC")
    assert times.tolist() == expected.tolist()  # 124 consecutive UTC minutes


def test_a_time_in_the_skipped_hour_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME[:2], "2023.03.26,03:00,1.1,1.2,1.0,1.1,1", *MT4_SERVER_TIME[3:5])
    with pytest.raises(DataError, match=r"BTCUSD60\.csv line 3: 2023-03-26 03:00:00 does not exist in Europe/Athens"):
        import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="Europe/Athens")
    assert not (tmp_path / "data").exists()  # nothing written


def test_a_lone_bar_in_the_repeated_hour_needs_a_dst_choice(tmp_path: Path) -> None:
    lines = [MT4_SERVER_TIME[6], MT4_SERVER_TIME[7], MT4_SERVER_TIME[9]]  # 02:00, 03:00 (which?), 04:00
    path = _mt4(tmp_path, *lines)
    message = (
        r"BTCUSD60\.csv line 2: 2023-10-29 03:00:00 occurs twice in EET .* pass --dst earlier \(UTC\+03:00\) "
        r"or --dst later \(UTC\+02:00\)"
    )
    with pytest.raises(DataError, match=message):
        import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET")
    import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET", dst="earlier")
    earlier = load("BTCUSDT", "H1", data_dir=tmp_path / "data")["time"].tolist()
    assert earlier == _utc("2023-10-28 23:00", "2023-10-29 00:00", "2023-10-29 02:00")
    import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET", dst="later")
    later = load("BTCUSDT", "H1", data_dir=tmp_path / "data")["time"].tolist()
    assert later == _utc("2023-10-28 23:00", "2023-10-29 01:00", "2023-10-29 02:00")


def test_forcing_one_reading_on_a_doubled_hour_is_a_duplicate_shown_in_utc(tmp_path: Path) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME[5:])
    with pytest.raises(DataError, match=r"line 4: .*2023-10-29 00:00:00.*\(times shown in UTC, converted from EET\)"):
        import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET", dst="earlier")


def test_a_fixed_offset_zone_has_no_dst_hours(tmp_path: Path) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME[:5])  # the 03:00 gap is just a missing bar at UTC+2
    import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="Etc/GMT-2")  # POSIX sign: UTC+2
    times = load("BTCUSDT", "H1", data_dir=tmp_path / "data")["time"].tolist()
    assert times == _utc("2023-03-25 22:00", "2023-03-25 23:00", "2023-03-26 00:00", "2023-03-26 02:00",
                         "2023-03-26 03:00")  # fmt: skip


def test_local_to_utc_keeps_unparsed_times_and_counts_lines_from_the_file() -> None:
    clock = pd.to_datetime(["2023-10-29 03:00", "2023-10-29 03:00", "2023-10-29 04:00"]).as_unit("ns").asi8
    local = np.array([clock[0], NO_TIME, clock[1], clock[2]], dtype=np.int64)
    utc = local_to_utc(local, resolve_zone("Europe/Athens"), source="f.csv", line_numbers=np.array([2, 3, 4, 5]))
    expected = pd.to_datetime(["2023-10-29 00:00", "2023-10-29 01:00", "2023-10-29 02:00"]).as_unit("ns").asi8
    assert utc.tolist() == [expected[0], NO_TIME, expected[1], expected[2]]
    with pytest.raises(DataError, match=r"f\.csv line 2: 2023-10-29 03:00:00 occurs twice"):
        local_to_utc(local[:2], resolve_zone("Europe/Athens"), source="f.csv", line_numbers=np.array([2, 3]))


@pytest.mark.parametrize(
    ("name", "suggestion"), [("Europe/Athen", "'Europe/Athens'"), ("europe/athens", "'Europe/Athens'")]
)
def test_an_unknown_zone_suggests_the_closest_names(name: str, suggestion: str) -> None:
    with pytest.raises(UnknownNameError, match=f"unknown time zone '{name}'; did you mean {suggestion}"):
        resolve_zone(name)


def test_epoch_times_are_not_shifted_by_tz(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    path.write_text("1698537600000,34000.0,34010.0,33990.0,34005.0,1,1698541199999,1,1,1,1,0\n")
    with pytest.raises(DataError, match=r"the times are read as epoch milliseconds, which is UTC already; --tz EET"):
        import_file(path, "BTCUSDT", "H1", data_dir=tmp_path / "data", tz="EET")
    offsets = tmp_path / "offsets.csv"
    offsets.write_text("time,open,high,low,close\n2023-10-29T03:00:00+03:00,1.1,1.2,1.0,1.1\n")
    with pytest.raises(DataError, match=r"read as an ISO 8601 time, which is UTC already"):
        import_file(offsets, "EURUSD", "H1", data_dir=tmp_path / "data", tz="EET")


def test_cli_import_with_tz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME)
    argv = ["data", "import", str(path), "--symbol", "BTCUSDT", "--timeframe", "H1", "--data-dir", str(tmp_path / "d")]
    assert main([*argv, "--tz", "Europe/Athens", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["tz"], report["start"], report["end"]) == (
        "Europe/Athens",
        "2023-03-25T22:00:00+00:00",
        "2023-10-29T02:00:00+00:00",
    )
    assert main([*argv, "--tz", "EET"]) == 0
    assert "(mt4, EET -> UTC)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        (["--tz", "Europe/Athen"], "unknown time zone 'Europe/Athen'; did you mean 'Europe/Athens'"),
        (["--tz", "EET", "--dst", "summer"], "unknown --dst rule 'summer'; choose one of: infer, earlier, later"),
    ],
)
def test_cli_bad_tz_flags_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], text: str
) -> None:
    path = _mt4(tmp_path, *MT4_SERVER_TIME)
    assert main(["data", "import", str(path), "--symbol", "BTCUSDT", "--timeframe", "H1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradescan: error: ") and err.count("\n") == 1 and text in err
