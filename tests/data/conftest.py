"""Fixtures for the data-layer tests: a data folder, real EURUSD bars, and writers for every format."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BarWriter = Callable[[pd.DataFrame, Path], Path]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data folder inside the test's temporary directory."""
    return tmp_path / "data"


@pytest.fixture(scope="session")
def real_eurusd() -> pd.DataFrame:
    """Real EURUSD H1 bars shipped with backtesting.py, as a standard bar frame."""
    import backtesting

    path = pathlib.Path(backtesting.__file__).parent / "test" / "EURUSD.csv"
    raw = pd.read_csv(path, index_col=0)  # header: ,Open,High,Low,Close,Volume
    times = pd.to_datetime(raw.index, format="%Y-%m-%d %H:%M:%S").tz_localize("UTC").as_unit("ns")
    return pd.DataFrame(
        {
            "time": pd.Series(times),
            **{name: raw[name.capitalize()].to_numpy(np.float64) for name in ("open", "high", "low", "close")},
            "volume": raw["Volume"].to_numpy(np.float64),
        }
    )


def naive(bars: pd.DataFrame) -> pd.Series:
    return bars["time"].dt.tz_localize(None)


def price_text(bars: pd.DataFrame) -> dict[str, pd.Series]:
    # repr() of a float is its shortest round-trip text, as a data vendor would write it.
    return {name: bars[name].map(repr) for name in ("open", "high", "low", "close")}


def volume_text(bars: pd.DataFrame) -> pd.Series:
    return bars["volume"].astype(np.int64).astype(str)


def write_generic_csv(bars: pd.DataFrame, path: Path) -> Path:
    frame = pd.DataFrame(
        {"Time": naive(bars).dt.strftime("%Y-%m-%d %H:%M:%S"), **price_text(bars), "Volume": volume_text(bars)}
    )
    frame.to_csv(path, index=False)
    return path


def write_mt4(bars: pd.DataFrame, path: Path) -> Path:
    times = naive(bars)
    frame = pd.DataFrame(
        {
            "date": times.dt.strftime("%Y.%m.%d"),
            "clock": times.dt.strftime("%H:%M"),
            **price_text(bars),
            "volume": volume_text(bars),
        }
    )
    frame.to_csv(path, index=False, header=False)
    return path


def write_mt5(bars: pd.DataFrame, path: Path) -> Path:
    times = naive(bars)
    frame = pd.DataFrame(
        {
            "<DATE>": times.dt.strftime("%Y.%m.%d"),
            "<TIME>": times.dt.strftime("%H:%M:%S"),
            **{f"<{name.upper()}>": text for name, text in price_text(bars).items()},
            "<TICKVOL>": volume_text(bars),
            "<VOL>": "0",
            "<SPREAD>": "2",
        }
    )
    frame.to_csv(path, index=False, sep="\t")
    return path


def write_binance(bars: pd.DataFrame, path: Path, *, unit_ns: int = 1_000_000) -> Path:
    open_time = bars["time"].astype("int64") // unit_ns
    frame = pd.DataFrame(
        {
            "open_time": open_time,
            **price_text(bars),
            "volume": volume_text(bars),
            "close_time": open_time + 3_600_000_000_000 // unit_ns - 1,
            "quote_volume": "0.0",
            "trades": 10,
            "taker_base": "0.0",
            "taker_quote": "0.0",
            "ignore": 0,
        }
    )
    frame.to_csv(path, index=False, header=False)
    return path


def write_binance_microseconds(bars: pd.DataFrame, path: Path) -> Path:
    return write_binance(bars, path, unit_ns=1_000)


def write_dukascopy(bars: pd.DataFrame, path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "Gmt time": naive(bars).dt.strftime("%d.%m.%Y %H:%M:%S.000"),
            **{name.capitalize(): text for name, text in price_text(bars).items()},
            "Volume": volume_text(bars),
        }
    )
    frame.to_csv(path, index=False)
    return path


WRITERS: dict[str, BarWriter] = {
    "csv": write_generic_csv,
    "mt4": write_mt4,
    "mt5": write_mt5,
    "binance": write_binance,
    "dukascopy": write_dukascopy,
}


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """Write text (lines joined with newlines) to a file in tmp_path and return its path."""

    def write(name: str, *lines: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding=encoding)
        return path

    return write


@pytest.fixture(scope="session")
def format_writers() -> dict[str, BarWriter]:
    """Writers that put a bar frame into each supported file format (name -> writer(bars, path))."""
    return {**WRITERS, "binance_us": write_binance_microseconds}
