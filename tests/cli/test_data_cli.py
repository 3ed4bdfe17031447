"""``tradescan data ...`` through ``tradescan.cli.main``: exit codes, output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradescan.cli import main
from tradescan.data import dataset_hash, load

HEADER = "time,open,high,low,close,volume"
ROWS = [
    "2024-01-02 00:00:00,1.1041,1.1045,1.1032,1.104,120",
    "2024-01-02 01:00:00,1.104,1.1052,1.1038,1.105,95",
    "2024-01-02 02:00:00,1.105,1.1012,1.1002,1.102,80",  # line 4: high below the body
    "2024-01-02 03:00:00,1.1055,1.1058,1.1041,1.1042,70",
]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "eurusd.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, text: str) -> None:
    assert err.startswith("tradescan: error: ")
    assert err.count("\n") == 1
    assert text in err
    assert "Traceback" not in err


def test_import_refuses_an_invalid_file_with_one_line(capsys, csv_file, data_dir):
    code, out, err = run(capsys, "data", "import", str(csv_file), "--symbol", "EURUSD", "--timeframe", "H1",
                         "--data-dir", str(data_dir))  # fmt: skip
    assert code == 2
    assert out == ""
    assert_one_line_error(
        err, "eurusd.csv line 4: high 1.1012 < max(open, close) 1.105 (rule: high >= max(open, close))"
    )
    assert not data_dir.exists()


def test_import_drop_invalid_prints_the_dropped_lines(capsys, csv_file, data_dir):
    code, out, err = run(capsys, "data", "import", str(csv_file), "--symbol", "EURUSD", "--timeframe", "H1",
                         "--drop-invalid", "--data-dir", str(data_dir))  # fmt: skip
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"imported {csv_file} (csv): EURUSD H1: 3 bars, 2024-01-02 00:00 .. 2024-01-02 03:00")
    assert lines[1:] == [
        "dropped 1 invalid line(s) of 4:",
        "  line 4: high 1.1012 < max(open, close) 1.105 (rule: high >= max(open, close))",
    ]
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 3


def test_import_json_report(capsys, csv_file, data_dir):
    code, out, _ = run(capsys, "data", "import", str(csv_file), "--symbol", "EURUSD", "--timeframe", "H1",
                       "--format", "csv", "--drop-invalid", "--json", "--data-dir", str(data_dir))  # fmt: skip
    report = json.loads(out)
    assert code == 0
    assert report["rows"] == 3
    assert report["format"] == "csv"
    assert report["sha256"] == dataset_hash("EURUSD", "H1", data_dir)
    assert report["dropped"] == [
        {"line": 4, "reason": "high 1.1012 < max(open, close) 1.105 (rule: high >= max(open, close))"}
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--symbol", "../x", "--timeframe", "H1"], "invalid symbol '../x'"),
        (["--symbol", "EURUSD", "--timeframe", "H2"], "unknown timeframe 'H2'"),
        (["--symbol", "EURUSD", "--timeframe", "H1", "--format", "xls"], "unknown format 'xls'"),
    ],
)
def test_import_bad_arguments(capsys, csv_file, data_dir, argv, message):
    code, _, err = run(capsys, "data", "import", str(csv_file), *argv, "--data-dir", str(data_dir))
    assert code == 2
    assert_one_line_error(err, message)


def test_import_missing_file(capsys, tmp_path, data_dir):
    code, _, err = run(capsys, "data", "import", str(tmp_path / "nope.csv"), "--symbol", "EURUSD", "--timeframe", "H1",
                       "--data-dir", str(data_dir))  # fmt: skip
    assert code == 2
    assert_one_line_error(err, "nope.csv: file not found")


def test_synth_list_show_resample(capsys, data_dir):
    code, out, err = run(capsys, "data", "synth", "--symbols", "EURUSD,BTCUSDT", "--timeframe", "H1", "--bars", "100",
                         "--seed", "7", "--data-dir", str(data_dir))  # fmt: skip
    assert (code, err) == (0, "")
    assert [line.split(":")[0] for line in out.splitlines()] == ["synthesised EURUSD H1", "synthesised BTCUSDT H1"]

    code, out, _ = run(capsys, "data", "resample", "--symbol", "BTCUSDT", "--from", "H1", "--to", "H4",
                       "--data-dir", str(data_dir))  # fmt: skip
    assert code == 0
    assert out.startswith("resampled 100 H1 bars into BTCUSDT H4: 25 bars, 2020-01-01 00:00 .. 2020-01-05 00:00")

    code, out, _ = run(capsys, "data", "list", "--data-dir", str(data_dir))
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["symbol", "timeframe", "rows", "start", "end", "sha256", "tz", "source"]
    assert [row.split()[:3] for row in rows] == [
        ["BTCUSDT", "H1", "100"],
        ["BTCUSDT", "H4", "25"],
        ["EURUSD", "H1", "100"],
    ]
    sources = [row[header.index("source") :].rstrip() for row in rows]
    assert sources == [
        "synthetic seed=7 bars=100 start=2020-01-01",
        "resample from H1",
        "synthetic seed=7 bars=100 start=2020-01-01",
    ]
    assert [row.split()[8] for row in rows] == ["UTC"] * 3

    code, out, _ = run(capsys, "data", "show", "BTCUSDT", "H4", "--head", "2", "--data-dir", str(data_dir))
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "BTCUSDT H4: 25 bars, 2020-01-01 00:00 .. 2020-01-05 00:00"
    assert lines[1] == f"sha256 {dataset_hash('BTCUSDT', 'H4', data_dir)}"
    assert lines[2] == "source resample from H1"
    assert lines[3].split() == ["time", "open", "high", "low", "close", "volume"]
    assert [line.split()[:2] for line in lines[4:]] == [["2020-01-01", "00:00"], ["2020-01-01", "04:00"]]


def test_list_and_show_json(capsys, data_dir):
    main(["data", "synth", "--symbols", "XAUUSD", "--timeframe", "D1", "--bars", "5", "--seed", "1",
          "--data-dir", str(data_dir)])  # fmt: skip
    capsys.readouterr()
    code, out, _ = run(capsys, "data", "list", "--json", "--data-dir", str(data_dir))
    listing = json.loads(out)
    assert code == 0
    assert listing == [
        {
            "symbol": "XAUUSD",
            "timeframe": "D1",
            "rows": 5,
            "start": "2020-01-01T00:00:00+00:00",
            "end": "2020-01-07T00:00:00+00:00",
            "sha256": dataset_hash("XAUUSD", "D1", data_dir),
            "tz": "UTC",
            "source": "synthetic seed=1 bars=5 start=2020-01-01",
        }
    ]
    code, out, _ = run(capsys, "data", "show", "XAUUSD", "D1", "--head", "1", "--json", "--data-dir", str(data_dir))
    shown = json.loads(out)
    bars = load("XAUUSD", "D1", data_dir=data_dir)
    assert shown["rows"] == 5
    assert shown["head"] == [
        {
            "time": "2020-01-01T00:00:00+00:00",
            **{name: float(bars[name].iloc[0]) for name in ("open", "high", "low", "close", "volume")},
        }
    ]


def test_data_dir_from_environment(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("TRADESCAN_DATA_DIR", str(data_dir))
    code, _, _ = run(
        capsys, "data", "synth", "--symbols", "EURUSD", "--timeframe", "M15", "--bars", "10", "--seed", "1"
    )
    assert code == 0
    assert (data_dir / "EURUSD" / "M15.parquet").is_file()


def test_list_of_an_empty_folder(capsys, data_dir):
    code, out, _ = run(capsys, "data", "list", "--data-dir", str(data_dir))
    assert code == 0
    assert out.startswith(f"no datasets in {data_dir}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["synth", "--symbols", "NOPE", "--timeframe", "H1", "--bars", "5", "--seed", "1"], "unknown symbol 'NOPE'"),
        (["synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "many", "--seed", "1"],
         "--bars must be a whole number, got 'many'"),
        (["synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "0", "--seed", "1"], "--bars must be >= 1"),
        (["synth", "--symbols", ",", "--timeframe", "H1", "--bars", "5", "--seed", "1"],
         "--symbols needs at least one"),
        (["show", "GBPUSD", "H1"], "no data for GBPUSD H1 in"),
        (["show", "EURUSD", "H1", "--head", "-1"], "--head must be >= 0"),
        (["resample", "--symbol", "EURUSD", "--from", "H1", "--to", "M5"], "cannot resample H1 to M5"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(capsys, data_dir, argv, message):
    main(["data", "synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "5", "--seed", "1",
          "--data-dir", str(data_dir)])  # fmt: skip
    capsys.readouterr()
    code, out, err = run(capsys, "data", *argv, "--data-dir", str(data_dir))
    assert code == 2
    assert out == ""
    assert_one_line_error(err, message)


@pytest.mark.parametrize("command", [[], ["import"], ["synth"], ["list"], ["show"], ["resample"]])
def test_help_everywhere(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", *command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: tradescan data" in capsys.readouterr().out


def _import(capsys, path: Path, data_dir: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "data", "import", str(path), "--symbol", "EURUSD", "--timeframe", "H1", *extra,
               "--data-dir", str(data_dir))  # fmt: skip


def _synth(capsys, data_dir: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "data", "synth", "--symbols", "EURUSD,GBPUSD", "--timeframe", "H1", "--bars", "50",
               "--seed", "7", *extra, "--data-dir", str(data_dir))  # fmt: skip


def test_synth_never_replaces_imported_data_unless_forced(capsys, csv_file, data_dir):
    """The README tour imported EURUSD and then synthesised EURUSD on top of it, silently."""
    assert _import(capsys, csv_file, data_dir, "--drop-invalid")[0] == 0
    imported = (data_dir / "EURUSD" / "H1.parquet").read_bytes(), (data_dir / "manifest.json").read_bytes()
    code, out, err = _synth(capsys, data_dir)
    assert (code, out) == (2, "")
    assert_one_line_error(
        err, f"EURUSD/H1.parquet already holds import {csv_file.resolve()} (csv); synthetic bars do not replace it "
        "unless asked; --force replaces it",
    )  # fmt: skip
    assert ((data_dir / "EURUSD" / "H1.parquet").read_bytes(), (data_dir / "manifest.json").read_bytes()) == imported
    assert not (data_dir / "GBPUSD").exists()  # refused before the first write

    code, out, err = _synth(capsys, data_dir, "--force")
    assert (code, err) == (0, "")
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 50


def test_synth_replaces_its_own_data(capsys, data_dir):
    assert _synth(capsys, data_dir)[0] == 0
    code, _, err = run(capsys, "data", "synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "80",
                       "--seed", "8", "--data-dir", str(data_dir))  # fmt: skip
    assert (code, err) == (0, "")
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 80


def test_synth_refuses_a_file_the_manifest_does_not_record(capsys, data_dir):
    assert _synth(capsys, data_dir)[0] == 0
    (data_dir / "manifest.json").unlink()  # the files stay; where they came from is no longer known
    code, _, err = _synth(capsys, data_dir)
    assert code == 2
    assert_one_line_error(err, "already holds bars that the manifest does not record; synthetic bars do not replace")


def test_resample_never_replaces_an_imported_target(capsys, csv_file, data_dir, tmp_path):
    h4 = tmp_path / "h4.csv"
    h4.write_text(f"{HEADER}\n2024-01-02 00:00:00,1.1,1.2,1.0,1.1,5\n2024-01-02 04:00:00,1.1,1.2,1.0,1.1,5\n")
    code, _, _ = run(capsys, "data", "import", str(h4), "--symbol", "EURUSD", "--timeframe", "H4",
                     "--data-dir", str(data_dir))  # fmt: skip
    assert code == 0
    _synth(capsys, data_dir)
    argv = ["data", "resample", "--symbol", "EURUSD", "--from", "H1", "--to", "H4", "--data-dir", str(data_dir)]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, "resample bars do not replace it unless asked; --force replaces it")
    assert len(load("EURUSD", "H4", data_dir=data_dir)) == 2
    assert run(capsys, *argv, "--force")[0] == 0
    assert len(load("EURUSD", "H4", data_dir=data_dir)) == 13


def _stored(data_dir: Path) -> tuple[bytes, bytes]:
    return (data_dir / "EURUSD" / "H1.parquet").read_bytes(), (data_dir / "manifest.json").read_bytes()


def test_import_never_replaces_synthetic_data_unless_forced(capsys, csv_file, data_dir):
    """The tester's case: 2 imported bars silently replaced 50 synthesised EURUSD H1 bars (exit 0)."""
    assert _synth(capsys, data_dir)[0] == 0
    synthesised = _stored(data_dir)
    code, out, err = _import(capsys, csv_file, data_dir, "--drop-invalid")
    assert (code, out) == (2, "")
    assert err == (
        f"tradescan: error: {data_dir / 'EURUSD' / 'H1.parquet'} already holds synthetic seed=7 bars=50 "
        f"start=2020-01-01; importing {csv_file.resolve()} does not replace it unless asked; --force replaces it\n"
    )
    assert _stored(data_dir) == synthesised

    code, out, err = _import(capsys, csv_file, data_dir, "--drop-invalid", "--force")
    assert (code, err) == (0, "")
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 3
    assert len(load("GBPUSD", "H1", data_dir=data_dir)) == 50  # only the named dataset


def test_import_never_replaces_another_files_import_unless_forced(capsys, csv_file, data_dir, tmp_path):
    other = _write_lines(tmp_path / "other.csv", *ROWS[:2])
    assert _import(capsys, csv_file, data_dir, "--drop-invalid")[0] == 0
    imported = _stored(data_dir)
    code, out, err = _import(capsys, other, data_dir)
    assert (code, out) == (2, "")
    assert_one_line_error(
        err, f"EURUSD/H1.parquet already holds import {csv_file.resolve()} (csv); importing {other.resolve()} does "
        "not replace it unless asked; --force replaces it",
    )  # fmt: skip
    assert _stored(data_dir) == imported

    code, out, err = _import(capsys, other, data_dir, "--force")
    assert (code, err) == (0, "")
    assert out.startswith(f"imported {other} (csv): EURUSD H1: 2 bars, ")
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 2
    code, out, _ = run(capsys, "data", "list", "--json", "--data-dir", str(data_dir))
    assert [row["source"] for row in json.loads(out)] == [f"import {other.resolve()} (csv)"]


def test_import_never_replaces_resampled_bars_unless_forced(capsys, data_dir, tmp_path):
    assert _synth(capsys, data_dir)[0] == 0
    resample = ["data", "resample", "--symbol", "EURUSD", "--from", "H1", "--to", "H4", "--data-dir", str(data_dir)]
    assert run(capsys, *resample)[0] == 0
    h4 = data_dir / "EURUSD" / "H4.parquet"
    resampled = h4.read_bytes()
    other = _write_lines(tmp_path / "h4.csv", "2024-01-02 00:00:00,1.1,1.2,1.0,1.1,5",
                         "2024-01-02 04:00:00,1.1,1.2,1.0,1.1,5")  # fmt: skip
    argv = ["data", "import", str(other), "--symbol", "EURUSD", "--timeframe", "H4", "--data-dir", str(data_dir)]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, "EURUSD/H4.parquet already holds resample from H1; importing ")
    assert h4.read_bytes() == resampled
    assert run(capsys, *argv, "--force")[0] == 0
    assert len(load("EURUSD", "H4", data_dir=data_dir)) == 2


def test_reimporting_the_same_file_refreshes_its_dataset(capsys, csv_file, data_dir, tmp_path, monkeypatch):
    """The README tour's import, run twice, keeps working; the file's identity is its absolute path."""
    assert _import(capsys, csv_file, data_dir, "--drop-invalid")[0] == 0
    code, _, err = _import(capsys, csv_file, data_dir, "--drop-invalid")
    assert (code, err) == (0, "")
    _write_lines(csv_file, *ROWS, "2024-01-02 04:00:00,1.1042,1.1050,1.1040,1.1045,60")  # the export grew
    monkeypatch.chdir(tmp_path)
    code, out, err = _import(capsys, Path(csv_file.name), data_dir, "--drop-invalid")  # relative, same file
    assert (code, err) == (0, "")
    assert out.startswith("imported eurusd.csv (csv): EURUSD H1: 4 bars, ")
    assert len(load("EURUSD", "H1", data_dir=data_dir)) == 4


def test_import_records_the_source_in_the_manifest(capsys, csv_file, data_dir):
    code, out, _ = _import(capsys, csv_file, data_dir, "--drop-invalid", "--json")
    assert code == 0
    assert json.loads(out)["source"] == {"kind": "import", "path": str(csv_file.resolve()), "format": "csv"}
    assert json.loads(out)["tz"] == "UTC"
    code, out, _ = run(capsys, "data", "list", "--json", "--data-dir", str(data_dir))
    assert [(row["tz"], row["source"]) for row in json.loads(out)] == [("UTC", f"import {csv_file.resolve()} (csv)")]


def _write_lines(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _one_line_file(path: Path) -> Path:
    with path.open("wb") as stream:
        stream.write(b"1.1," * (1 << 15))
        stream.truncate(200 << 20)
    return path


@pytest.mark.parametrize(
    ("make", "symbol", "message"),
    [
        (lambda p: _write_lines(p, ROWS[0], "2024-01-02 01:00:00,1.104,inf,1.1038,1.105,95"), "EURUSD",
         "bad.csv line 3: high inf is not a finite number (rule: no inf in OHLC or volume)"),
        (lambda p: _write_lines(p, ROWS[0], "2024-01-02 01:00:00,1.104,1.1052,1.1038,1.105,-inf"), "EURUSD",
         "bad.csv line 3: volume -inf is not a finite number"),
        (lambda p: _write_lines(p, "1500-01-02 00:00:00,1.1,1.2,1.0,1.1,5", "1500-01-02 01:00:00,1.1,1.2,1.0,1.1,5"),
         "EURUSD", "bad.csv line 2: time '1500-01-02 00:00:00' is outside the years 1678-2261 the store can hold"),
        (_one_line_file, "EURUSD", "bad.csv: no line break in its first 64 KiB (200.0 MiB in all): not a CSV of bars"),
        (lambda p: _write_lines(p, ROWS[0], "2024-01-02 01:00:00," + "7" * (20 << 20) + "x,1.1,1.0,1.1,5"), "EURUSD",
         "... (20,971,521 characters) is not a number"),
        (lambda p: _write_lines(p, *ROWS[:2]), "EURUSX", "unknown symbol 'EURUSX'; did you mean 'EURUSD'"),
    ],
    ids=["inf-high", "inf-volume", "year-1500", "one-line-200MiB", "20MiB-cell", "unknown-symbol"],
)  # fmt: skip
def test_import_of_bad_input_is_one_short_line(capsys, tmp_path, data_dir, make, symbol, message):
    path = make(tmp_path / "bad.csv")
    code, out, err = run(capsys, "data", "import", str(path), "--symbol", symbol, "--timeframe", "H1",
                         "--data-dir", str(data_dir))  # fmt: skip
    assert (code, out) == (2, "")
    assert_one_line_error(err, message)
    assert len(err) < 1200
    assert not (data_dir / symbol).exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text[:40], "manifest.json: the data manifest is not valid JSON"),
        (lambda text: text.replace('"rows": 100', '"rows": -3'), "entry 'EURUSD/H1': rows=-3: Input should be"),
        (lambda text: text.replace('"seed": 7', '"seed": "seven"'), "source.synthetic.seed='seven': Input should be"),
    ],
    ids=["truncated", "rows", "seed"],
)
@pytest.mark.parametrize("command", [["list"], ["show", "EURUSD", "H1"], ["synth", "--symbols", "GBPUSD",
                                     "--timeframe", "H1", "--bars", "5", "--seed", "1"]])  # fmt: skip
def test_a_broken_manifest_is_one_line_naming_it(capsys, data_dir, edit, message, command):
    main(["data", "synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "100", "--seed", "7",
          "--data-dir", str(data_dir)])  # fmt: skip
    manifest = data_dir / "manifest.json"
    manifest.write_text(edit(manifest.read_text()))
    capsys.readouterr()
    code, out, err = run(capsys, "data", *command, "--data-dir", str(data_dir))
    assert (code, out) == (2, "")
    assert_one_line_error(err, f"{manifest}: ")
    assert message in err
    assert not (data_dir / "GBPUSD").exists()


def test_disk_full_during_import_is_one_line(capsys, csv_file, data_dir, monkeypatch):
    import errno
    import os

    def full(handle: int, payload: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    code, out, err = _import(capsys, csv_file, data_dir, "--drop-invalid")
    assert (code, out) == (2, "")
    assert_one_line_error(err, "H1.parquet: the disk is full (no space left on device); the previous dataset and "
                               "manifest are unchanged")  # fmt: skip


def test_a_tampered_dataset_is_named_by_show(capsys, data_dir):
    from tradescan.data import synthesize
    from tradescan.data.store import parquet_bytes

    main(["data", "synth", "--symbols", "EURUSD", "--timeframe", "H1", "--bars", "100", "--seed", "7",
          "--data-dir", str(data_dir)])  # fmt: skip
    (data_dir / "EURUSD" / "H1.parquet").write_bytes(parquet_bytes(synthesize("EURUSD", "H1", 99, seed=7)))
    capsys.readouterr()
    code, _, err = run(capsys, "data", "show", "EURUSD", "H1", "--data-dir", str(data_dir))
    assert code == 2
    assert_one_line_error(err, "EURUSD/H1.parquet changed since it was written (manifest sha256")
