"""CLI: sweep, preflight, runs, top (all formats), freeze, dashboard and quickstart."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tradescan import data
from tradescan.cli import main


@pytest.fixture(scope="module")
def ray_running() -> Iterator[None]:
    """Reuse the session's Ray cluster if the sweep tests started one, else start a small one."""
    ray = pytest.importorskip("ray")
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    yield
    if started_here:
        ray.shutdown()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    data_dir = root / "data"
    data.write_dataset(data.synthesize("EURUSD", "H1", 3_000, seed=4), "EURUSD", "H1", data_dir=data_dir)
    directive = root / "cli.yaml"
    directive.write_text(yaml.safe_dump({
        "name": "CLI", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["EURUSD"], "timeframe": "H1",
        "search": {"sampler": "random", "trials": 12, "seed": 4}, "stage1": {"min_trades": 20},
        "stage2": {"top_k": 3}, "batch_size": 6}), encoding="utf-8")
    return {"root": root, "data": data_dir, "results": root / "results", "directive": directive}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _dirs(ws: dict[str, Path]) -> list[str]:
    return ["--data-dir", str(ws["data"]), "--results-dir", str(ws["results"])]


@pytest.fixture(scope="module")
def swept(ray_running: None, workspace: dict[str, Path]) -> dict[str, Any]:
    code = main(["sweep", str(workspace["directive"]), "--workers", "2", "--json", *_dirs(workspace)])
    assert code == 0
    run_id = json.loads((workspace["results"] / "catalog.json").read_text())["runs"]
    return {"run_id": next(iter(run_id))}


def test_preflight_json_shape_and_exit_codes(capsys: pytest.CaptureFixture[str], workspace: dict[str, Path],
                                             tmp_path: Path) -> None:
    directive, data_dir = str(workspace["directive"]), str(workspace["data"])
    code, out, _ = _run(capsys, "preflight", directive, "--json", "--data-dir", data_dir)
    report = json.loads(out)
    assert code == 0 and report["symbols"] == {"EURUSD": {"status": "ALLOW"}}
    assert report["run_id"].startswith("CLI-") and len(report["hash"]) == 64
    blocked = tmp_path / "blocked.yaml"
    blocked.write_text(workspace["directive"].read_text().replace("- EURUSD", "- EURUSD\n- AUDUSD"))
    code, out, _ = _run(capsys, "preflight", str(blocked), "--json", "--data-dir", str(workspace["data"]))
    assert code == 1 and json.loads(out)["symbols"]["AUDUSD"]["status"] == "BLOCK"


def test_invalid_directive_is_one_line_naming_every_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "quickstart.yaml"
    bad.write_text("name: X\nstrategy: S1_TREND_EMA_ATR_ADX\nsymbols: [EURUSD]\ntimeframe: H1\n"
                   "search: {trials: -5}\nstage2: {top_k: -1}\nfoo: 1\n")
    code, out, err = _run(capsys, "preflight", str(bad))
    assert code == 2 and out == ""
    assert err.startswith("tradescan: error: quickstart.yaml: ") and err.count("\n") == 1
    assert "search.trials: Input should be greater than 0 (got -5)" in err
    assert "stage2.top_k:" in err and "foo: unknown field" in err


def test_runs_lists_the_sweep(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, "runs", "--json", "--results-dir", str(workspace["results"]))
    runs = json.loads(out)
    assert code == 0 and runs[0]["run_id"] == swept["run_id"] and runs[0]["status"] == "complete"
    code, out, _ = _run(capsys, "runs", "--results-dir", str(workspace["results"]))
    assert swept["run_id"] in out


def test_top_formats(capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]) -> None:
    results = ["--results-dir", str(workspace["results"])]
    code, out, _ = _run(capsys, "top", swept["run_id"], "--format", "json", *results)
    entries = json.loads(out)
    assert code == 0 and [e["rank"] for e in entries] == [1, 2, 3]
    assert set(entries[0]) == {"symbol", "rank", "params", "metrics"}
    assert set(entries[0]["metrics"]) == {"A", "B", "C"} and "ema_fast" in entries[0]["params"]
    code, out, _ = _run(capsys, "top", swept["run_id"], "--k", "2", "--format", "csv", "--scenario", "C", *results)
    lines = out.strip().splitlines()
    assert lines[0].startswith("symbol,rank,trial,scenario") and len(lines) == 3 and ",C," in lines[1]
    code, out, _ = _run(capsys, "top", swept["run_id"], "--symbol", "EURUSD", "--k", "1", *results)
    assert code == 0 and "sharpe" in out.splitlines()[0] and len(out.strip().splitlines()) == 2
    code, out, err = _run(capsys, "top", swept["run_id"], "--symbol", "GBPUSD", *results)
    assert code == 2 and "no finalists for 'GBPUSD'" in err
    code, out, err = _run(capsys, "top", "NOPE-123", *results)
    assert code == 2 and "unknown run" in err


def test_top_yaml_reproduces_through_the_backtest_cli(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any], tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "top", swept["run_id"], "--k", "1", "--format", "yaml",
                        "--results-dir", str(workspace["results"]))
    assert code == 0
    best = yaml.safe_load(out)[0]
    assert {"strategy", "symbol", "timeframe", "broker", "start", "end", "capital", "max_hold_bars", "stops_from",
            "params", "metrics"} <= set(best)
    params_file = tmp_path / "best.yaml"
    params_file.write_text(out)
    code, out, _ = _run(capsys, "backtest", "--strategy", best["strategy"], "--symbol", best["symbol"],
                        "--timeframe", best["timeframe"], "--params-file", str(params_file), "--json",
                        "--data-dir", str(workspace["data"]))
    replay = json.loads(out)["metrics"]
    for scenario in ("A", "B", "C"):
        assert replay[scenario]["sharpe"] == pytest.approx(best["metrics"][scenario]["sharpe"], rel=1e-12)
        assert replay[scenario]["trades"] == best["metrics"][scenario]["trades"]


def test_freeze_then_rerun_is_refused(capsys: pytest.CaptureFixture[str], workspace: dict[str, Path],
                                      swept: dict[str, Any]) -> None:
    code, out, _ = _run(capsys, "freeze", swept["run_id"], "--results-dir", str(workspace["results"]))
    assert code == 0 and "frozen" in out
    code, _, err = _run(capsys, "sweep", str(workspace["directive"]), "--workers", "1", "--json", *_dirs(workspace))
    assert code == 2 and f"run {swept['run_id']} is frozen" in err


def test_dashboard_without_the_extra_names_the_install(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)
    code, _, err = _run(capsys, "dashboard")
    assert code == 2 and "pip install -e .[dashboard]" in err


def test_quickstart_synthesizes_missing_data_and_prints_the_top(
    capsys: pytest.CaptureFixture[str], ray_running: None, tmp_path: Path
) -> None:
    directive = tmp_path / "qs.yaml"
    directive.write_text(yaml.safe_dump({
        "name": "QS_TEST", "strategy": "S1_TREND_EMA_ATR_ADX", "symbols": ["GBPUSD"], "timeframe": "H4",
        "search": {"sampler": "random", "trials": 8}, "stage1": {"min_trades": 10}, "stage2": {"top_k": 2}}))
    code, out, _ = _run(capsys, "quickstart", "--workers", "2", "--directive", str(directive),
                        "--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"))
    assert code == 0
    assert "synthesized 30,000 H4 bars of GBPUSD" in out and "top 3 per symbol" in out and "GBPUSD" in out
    assert (tmp_path / "data").exists()
