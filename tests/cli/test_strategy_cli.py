"""``tradescan strategies``, ``check-strategy`` and ``new-strategy`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradescan.cli import main

_LEAKY_MODULE = '''
from __future__ import annotations

import numpy as np

from tradescan import Bars, Signals, Strategy


class PeeksAhead(Strategy):
    name = "CLI_PEEKS_AHEAD"

    def warmup(self, params) -> int:
        return 20

    def signals(self, bars: Bars, params) -> Signals:
        next_close = np.append(bars.close[1:], bars.close[-1])
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[20:] = 1
        return Signals(entry, np.abs(next_close - bars.close) + 1e-4, np.full(len(bars), np.nan))
'''


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = pytest.importorskip("tradescan.data")
    rng = np.random.default_rng(12)
    n_bars = 1500
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.002, n_bars)))
    open_ = np.concatenate(([1.1], close[:-1]))
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2022-01-03", periods=n_bars, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.0008,
            "low": np.minimum(open_, close) * 0.9992,
            "close": close,
            "volume": np.full(n_bars, 50.0),
        }
    )
    folder = tmp_path / "data"
    data.write_dataset(frame, "EURUSD", "H1", data_dir=folder)
    return folder


def test_check_strategy_passes_for_a_causal_strategy(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-strategy", "S1_TREND_EMA_ATR_ADX", "--symbol", "EURUSD", "--timeframe", "H1",
                 "--data-dir", str(data_dir)])
    assert code == 0
    assert "S1_TREND_EMA_ATR_ADX: causal" in capsys.readouterr().out


def test_check_strategy_reports_the_first_violation(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_dir = tmp_path / "user_strategies"
    user_dir.mkdir()
    (user_dir / "peeks.py").write_text(_LEAKY_MODULE, encoding="utf-8")
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(user_dir))
    args = ["check-strategy", "CLI_PEEKS_AHEAD", "--symbol", "EURUSD", "--timeframe", "H1", "--data-dir", str(data_dir)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "CLI_PEEKS_AHEAD: LOOK-AHEAD" in out and "stop_distance at bar 20 (2022-01-03 20:00:00)" in out
    assert main([*args, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["strategy"] == "CLI_PEEKS_AHEAD"
    assert report["first_violation"]["bar"] == 20 and report["first_violation"]["array"] == "stop_distance"
    assert report["checked_points"][0] == 20 and len(report["checked_points"]) == 50


def test_check_strategy_bad_input_is_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-strategy", "S1_TREND", "--symbol", "EURUSD", "--timeframe", "H1",
                 "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert "unknown strategy 'S1_TREND'; did you mean 'S1_TREND_EMA_ATR_ADX'" in err and err.count("\n") == 1
    assert main(["check-strategy", "S1_TREND_EMA_ATR_ADX", "--symbol", "GBPUSD", "--timeframe", "H1",
                 "--data-dir", str(data_dir)]) == 2
    assert "GBPUSD" in capsys.readouterr().err


def test_strategies_lists_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies", "--json"]) == 0
    listing = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    s1_params = {param["name"]: param for param in listing["S1_TREND_EMA_ATR_ADX"]["params"]}
    assert s1_params["ema_fast"]["default"] == 20 and s1_params["ema_fast"]["bounds"] == {"ge": 2, "le": 500}
    assert s1_params["use_tp"]["type"] == "bool"
    assert main(["strategies"]) == 0
    assert "S3_BREAKOUT_ATR_REGIME_EMA200" in capsys.readouterr().out


def test_new_strategy_is_idempotent_and_checkable(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "project" / "strategies"
    assert main(["new-strategy", "CLI_FRESH", "--dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"created {target / 'cli_fresh.py'}" in out
    assert f"created {tmp_path / 'project' / 'search_spaces' / 'cli_fresh.yaml'}" in out
    assert main(["new-strategy", "CLI_FRESH", "--dir", str(target)]) == 0
    assert out.count("created") == 2 and "exists, left unchanged" in capsys.readouterr().out
    monkeypatch.setenv("TRADESCAN_STRATEGY_PATH", str(target))
    assert main(["check-strategy", "CLI_FRESH", "--symbol", "EURUSD", "--timeframe", "H1",
                 "--data-dir", str(data_dir)]) == 0
    assert "CLI_FRESH: causal" in capsys.readouterr().out


def test_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("strategies", "check-strategy", "new-strategy"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
    assert "look-ahead" in capsys.readouterr().out
