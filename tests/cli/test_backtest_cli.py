"""``tradescan backtest``: parameters from flags and files, table / JSON output, --out, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import tradescan
from tradescan import data
from tradescan.cli import main
from tradescan.cli.backtest_cmd import collect_params, params_from_document, parse_max_hold, parse_param
from tradescan.errors import TradeScanError

S1 = "S1_TREND_EMA_ATR_ADX"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    data.write_dataset(data.synthesize("EURUSD", "H1", 3000, seed=3), "EURUSD", "H1", data_dir=folder)
    return folder


def cli(data_dir: Path, *extra: str) -> int:
    return main(["backtest", "--strategy", S1, "--symbol", "EURUSD", "--timeframe", "H1",
                 "--data-dir", str(data_dir), *extra])


def test_prints_a_metrics_table(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(data_dir, "--param", "ema_fast=10", "--param", "adx_th=15") == 0
    out = capsys.readouterr().out
    assert "S1_TREND_EMA_ATR_ADX  EURUSD H1" in out
    assert "ema_fast=10" in out and "adx_th=15.0" in out
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "A", "B", "C"]
    assert any(line.startswith("sharpe") for line in out.splitlines())


def test_json_output_is_json_safe(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(data_dir, "--json", "--scenarios", "B", "--max-hold-bars", "none") == 0
    payload = json.loads(capsys.readouterr().out)
    assert list(payload["metrics"]) == ["B"]
    assert payload["params"]["ema_fast"] == 20
    assert payload["settings"]["max_hold_bars"] is None
    assert isinstance(payload["metrics"]["B"]["trades"], float)


def test_out_writes_trades_equity_and_metrics(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert cli(data_dir, "--out", str(out), "--stops-from", "signal_close", "--start", "2020-02-01") == 0
    trades = pd.read_parquet(out / "trades.parquet")
    equity = pd.read_parquet(out / "equity.parquet")
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(trades) == sum(metrics["metrics"][name]["trades"] for name in "ABC")
    assert list(equity.columns) == ["A", "B", "C"]
    assert equity.index[0] >= pd.Timestamp("2020-02-01", tz="UTC")
    assert metrics["settings"]["stops_from"] == "signal_close"


def test_params_file_in_top_yaml_shape(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "top.yaml"
    path.write_text("- symbol: EURUSD\n  rank: 1\n  params: {ema_fast: 12, ema_slow: 60}\n  metrics: {}\n")
    assert cli(data_dir, "--params-file", str(path), "--param", "ema_slow=70", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["params"]["ema_fast"], payload["params"]["ema_slow"]) == (12, 70)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--param", "ema_fats=5"), "did you mean 'ema_fast'"),
        (("--param", "ema_fast"), "--param must look like name=value"),
        (("--scenarios", "A,Z"), "unknown cost scenario"),
        (("--broker", "nope"), "unknown broker profile"),
        (("--max-hold-bars", "0"), "--max-hold-bars must be >= 1"),
        (("--params-file", "/nonexistent/p.yaml"), "file not found"),
    ],
)
def test_bad_input_is_one_line_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    assert cli(data_dir, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_dataset_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(tmp_path) == 2
    assert "EURUSD" in capsys.readouterr().err


def test_param_values_are_yaml_scalars() -> None:
    assert parse_param("k=20") == ("k", 20)
    assert parse_param("k=2.5") == ("k", 2.5)
    assert parse_param("use_tp=false") == ("use_tp", False)
    assert parse_param("name=abc") == ("name", "abc")
    with pytest.raises(TradeScanError, match="single value"):
        parse_param("k=[1, 2]")


def test_params_documents() -> None:
    assert params_from_document({"a": 1}, "f") == {"a": 1}
    assert params_from_document({"params": {"a": 1}, "metrics": {}}, "f") == {"a": 1}
    assert params_from_document([{"params": {"a": 1}}], "f") == {"a": 1}
    with pytest.raises(TradeScanError, match=r"^f: holds 2 entries \(no symbol rank #1, #2\); pick one with"):
        params_from_document([{"params": {}}, {"params": {}}], "f")
    with pytest.raises(TradeScanError, match="expected a mapping"):
        params_from_document("text", "f")


def test_json_params_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"params": {"k_sl": 3.0}}')
    assert collect_params(str(path), ["adx_th=20"]) == {"k_sl": 3.0, "adx_th": 20}


def test_max_hold_parsing() -> None:
    assert parse_max_hold("none") is None
    assert parse_max_hold("48") == 48
    with pytest.raises(TradeScanError, match="whole number"):
        parse_max_hold("abc")


def test_params_file_from_top_carries_the_run_settings(tmp_path, capsys) -> None:
    """An entry as `tradescan top --format yaml` prints it needs no other flag, and flags override it."""
    data_dir = tmp_path / "data"
    data.write_dataset(data.synthesize("USDJPY", "H1", 3000, seed=3), "USDJPY", "H1", data_dir=data_dir)
    entry = {
        "run_id": "X-1", "symbol": "USDJPY", "rank": 1, "strategy": "S1_TREND_EMA_ATR_ADX", "timeframe": "H1",
        "broker": "zero", "start": "2020-01-15", "end": None,
        "capital": {"initial": 5000, "currency": "USD", "risk_per_trade": 0.01, "compounding": False},
        "max_hold_bars": 24, "stops_from": "signal_close", "scenarios": ["B"], "strategy_paths": [],
        "params": {"ema_fast": 10, "ema_slow": 40}, "metrics": {"B": {"sharpe": 0.0}},
    }
    params_file = tmp_path / "best.yaml"
    params_file.write_text(yaml.safe_dump([entry]))
    assert main(["backtest", "--params-file", str(params_file), "--data-dir", str(data_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    frame = data.load("USDJPY", "H1", start="2020-01-15", data_dir=data_dir)
    expected = tradescan.backtest(
        frame, "S1_TREND_EMA_ATR_ADX", {"ema_fast": 10, "ema_slow": 40}, symbol="USDJPY", scenarios=("B",),
        broker="zero", capital=entry["capital"], max_hold_bars=24, stops_from="signal_close",
    )
    assert list(summary["metrics"]) == ["B"]
    assert summary["metrics"]["B"]["net_pnl"] == pytest.approx(expected.metrics["B"]["net_pnl"], rel=1e-12)
    assert summary["metrics"]["B"]["trades"] == expected.metrics["B"]["trades"] > 0
    assert summary["settings"]["broker"] == "zero" and summary["settings"]["max_hold_bars"] == 24
    assert pd.Timestamp(summary["start"]) >= pd.Timestamp("2020-01-15", tz="UTC")

    assert main(["backtest", "--params-file", str(params_file), "--data-dir", str(data_dir), "--json",
                 "--scenarios", "A,C", "--max-hold-bars", "none"]) == 0
    overridden = json.loads(capsys.readouterr().out)
    assert list(overridden["metrics"]) == ["A", "C"] and overridden["settings"]["max_hold_bars"] is None


def test_missing_strategy_symbol_timeframe_is_a_one_line_error(capsys) -> None:
    assert main(["backtest", "--symbol", "EURUSD"]) == 2
    assert capsys.readouterr().err.strip() == (
        "tradescan: error: backtest needs --strategy, --timeframe (on the command line or in --params-file)"
    )


def _entry(symbol: str, rank: int, ema_fast: int, **settings: object) -> dict[str, object]:
    return {"run_id": "X-1", "symbol": symbol, "rank": rank, "strategy": S1, "timeframe": "H1",
            "params": {"ema_fast": ema_fast}, "metrics": {}, **settings}


FINALISTS = [_entry("EURUSD", 1, 11), _entry("EURUSD", 2, 12, scenario="B"), _entry("GBPUSD", 1, 13)]


def test_symbol_and_rank_pick_one_entry_of_several() -> None:
    assert params_from_document(FINALISTS, "best.yaml", "EURUSD", 2) == {"ema_fast": 12}
    assert params_from_document(FINALISTS, "best.yaml", "GBPUSD") == {"ema_fast": 13}  # its only rank
    assert params_from_document(FINALISTS, "best.yaml", None, 2) == {"ema_fast": 12}  # the only rank 2
    assert params_from_document(FINALISTS[:1], "best.yaml") == {"ema_fast": 11}  # one entry: no flags


def test_an_ambiguous_or_unmatched_params_file_lists_what_it_holds() -> None:
    held = "EURUSD rank 1, 2; GBPUSD rank 1"
    with pytest.raises(TradeScanError) as caught:
        params_from_document(FINALISTS, "best.yaml")
    assert str(caught.value) == f"best.yaml: holds 3 entries ({held}); pick one with --symbol S --rank N"
    with pytest.raises(TradeScanError) as caught:
        params_from_document(FINALISTS, "best.yaml", "EURUSD")
    assert str(caught.value) == f"best.yaml: holds 3 entries ({held}); pick one with --symbol S --rank N"
    with pytest.raises(TradeScanError) as caught:
        params_from_document(FINALISTS, "best.yaml", "USDJPY", 1)
    assert str(caught.value) == f"best.yaml: no entry for --symbol USDJPY --rank 1; it holds {held}"
    with pytest.raises(TradeScanError, match=r"^best\.yaml: holds only rank 1, not --rank 3$"):
        params_from_document(FINALISTS[:1], "best.yaml", None, 3)


def test_the_backtest_cli_picks_the_entry_and_says_when_it_cannot(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "best.yaml"
    path.write_text(yaml.safe_dump(FINALISTS, sort_keys=False))
    base = ["backtest", "--params-file", str(path), "--data-dir", str(data_dir), "--json"]
    assert main([*base, "--symbol", "EURUSD", "--rank", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["symbol"], payload["params"]["ema_fast"]) == ("EURUSD", 12)
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err == (f"tradescan: error: {path}: holds 3 entries (EURUSD rank 1, 2; GBPUSD rank 1); "
                   "pick one with --symbol S --rank N\n")


def test_an_entry_with_the_full_broker_profile_reproduces_its_costs(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recorded profile (what a run used) wins over the broker file as it is today."""
    frame = data.load("EURUSD", "H1", data_dir=data_dir)
    profile = tradescan.engine.load_broker("default").model_dump()
    profile["spread_pips"] = {"EURUSD": 2.5}
    profile["slippage"]["spike_tr_atr"] = "inf"  # as a JSON manifest carries infinity
    entry = _entry("EURUSD", 1, 15, broker=profile, scenarios=["A", "C"], max_hold_bars=None,
                   regime={"window": 100}, capital={"initial": 2500})
    path = tmp_path / "best.yaml"
    path.write_text(yaml.safe_dump([entry]))
    assert main(["backtest", "--params-file", str(path), "--data-dir", str(data_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    expected = tradescan.backtest(frame, S1, {"ema_fast": 15}, symbol="EURUSD", broker=profile, scenarios=("A", "C"),
                                  max_hold_bars=None, regime={"window": 100}, capital={"initial": 2500})
    assert list(summary["metrics"]) == ["A", "C"] and summary["settings"]["max_hold_bars"] is None
    assert summary["metrics"]["C"]["net_pnl"] == expected.metrics["C"]["net_pnl"]
    default_costs = tradescan.backtest(frame, S1, {"ema_fast": 15}, symbol="EURUSD", scenarios=("C",),
                                       max_hold_bars=None, regime={"window": 100}, capital={"initial": 2500})
    assert summary["metrics"]["C"]["net_pnl"] != default_costs.metrics["C"]["net_pnl"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_hold_bars": True}, "--params-file {path}: max_hold_bars=True: expected an integer, got true"),
        ({"max_hold_bar": 5}, "{path}: entry 1: unknown setting 'max_hold_bar'; did you mean 'max_hold_bars'?"),
        ({"scenarios": ["A", "A"]}, "--params-file {path}: scenarios=['A', 'A']: scenarios must not repeat a name"),
        ({"broker": {"spread_pips": {"EURUSD": -1}}}, "--params-file {path}: broker.spread_pips.EURUSD=-1: Input"),
    ],
)
def test_bad_settings_in_a_params_file_name_the_file_and_the_field(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: dict[str, object], message: str
) -> None:
    path = tmp_path / "best.yaml"
    path.write_text(yaml.safe_dump([_entry("EURUSD", 1, 15, **settings)]))
    assert main(["backtest", "--params-file", str(path), "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradescan: error: " + message.format(path=path)) and err.count("\n") == 1
