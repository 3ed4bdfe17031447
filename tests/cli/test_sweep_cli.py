"""CLI: sweep, preflight, runs, top (all formats), freeze, dashboard and quickstart."""

from __future__ import annotations

import json
import re
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
        from tradescan.sweep.ray_runtime import start_local_runtime

        start_local_runtime(num_cpus=2)  # 127.0.0.1 only, never a `ray start` cluster
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


def _fits(text: str) -> bool:
    return all(len(line) <= 100 for line in text.splitlines())


def test_sweep_summary_table_names_the_objective(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    from tradescan.cli.sweep_cmd import format_sweep_summary
    from tradescan.results import load_run

    text = format_sweep_summary(load_run(swept["run_id"], workspace["results"]).manifest, "RUN_DIR")
    lines = text.splitlines()
    assert lines[0] == f"run {swept['run_id']}: complete  (RUN_DIR)"
    assert lines[1] == "stage 1 maximised sharpe on scenario B; fewer than 20 trades penalised"
    assert "best sharpe B" in lines[2] and lines[4].split()[:4] == ["EURUSD", "DONE", "12", "12/0/0"]
    assert _fits(text)


def test_runs_lists_the_sweep(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, "runs", "--json", "--results-dir", str(workspace["results"]))
    runs = json.loads(out)
    assert code == 0 and runs[0]["run_id"] == swept["run_id"] and runs[0]["status"] == "complete"
    assert runs[0]["symbols"] == ["EURUSD"] and runs[0]["strategy"] == "S1_TREND_EMA_ATR_ADX"
    code, out, _ = _run(capsys, "runs", "--results-dir", str(workspace["results"]))
    assert code == 0 and swept["run_id"] in out and _fits(out)
    assert out.splitlines()[0].split() == ["run", "id", "status", "strategy", "tf", "symbols", "started", "(UTC)",
                                           "frozen"]


def test_runs_table_never_breaks_a_run_id_and_lists_unreadable_runs_below() -> None:
    from tradescan.cli.sweep_cmd import format_runs_table
    from tradescan.results.catalog import CatalogEntry

    long_id = "A_RATHER_LONG_RESEARCH_NAME-3999b99ec2d3"
    runs = {long_id: CatalogEntry(status="complete", strategy="S1_TREND_EMA_ATR_ADX", timeframe="H1",
                                  symbols=("AUDUSD", "NZDUSD", "EURUSD"), path="runs/x"),
            "BROKEN-0123456789ab": CatalogEntry(status="unreadable", path="runs/y",
                                                         error="manifest.json: truncated JSON")}
    text = format_runs_table(runs)
    assert _fits(text)
    assert any(line.startswith(long_id + " ") for line in text.splitlines())  # whole, on one line
    assert "(unreadable)" in text and text.splitlines()[-1] == "  BROKEN-0123456789ab: manifest.json: truncated JSON"


def test_top_formats(capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]) -> None:
    results = ["--results-dir", str(workspace["results"])]
    code, out, _ = _run(capsys, "top", swept["run_id"], "--format", "json", *results)
    entries = json.loads(out)
    assert code == 0 and [e["rank"] for e in entries] == [1, 2, 3]
    assert set(entries[0]) == {"symbol", "rank", "params", "metrics"}
    assert set(entries[0]["metrics"]) == {"A", "B", "C"} and "ema_fast" in entries[0]["params"]
    assert type(entries[0]["metrics"]["B"]["trades"]) is int
    code, out, _ = _run(capsys, "top", swept["run_id"], "--k", "2", "--format", "csv", "--scenario", "C", *results)
    lines = out.strip().splitlines()
    assert lines[0].startswith("symbol,rank,trial,scenario") and len(lines) == 3 and ",C," in lines[1]
    code, out, err = _run(capsys, "top", swept["run_id"], "--symbol", "GBPUSD", *results)
    assert code == 2 and "no finalists for 'GBPUSD'" in err
    code, out, err = _run(capsys, "top", "NOPE-123", *results)
    assert code == 2 and "unknown run" in err
    code, out, err = _run(capsys, "top", swept["run_id"], "--scenario", "Z", *results)
    assert code == 2 and out == "" and f"--scenario 'Z': run {swept['run_id']}'s finalists ran under A, B, C" in err


def test_top_table_names_its_metrics_and_shows_every_scenario(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, "top", swept["run_id"], "--symbol", "EURUSD", "--k", "2",
                        "--results-dir", str(workspace["results"]))
    lines = out.splitlines()
    assert code == 0 and _fits(out)
    assert lines[0] == f"finalists of run {swept['run_id']}, ranked by stage-1 sharpe B; other columns from stage 2"
    assert lines[1].split() == ["stage", "1", "sharpe", "trades", "PF", "max", "DD", "%", "net", "PnL"]
    # no note column when no finalist has a note (every finalist's trades are stored here)
    assert lines[2].split() == ["symbol", "#", "trial", "sharpe", "B", "A/B/C", "B", "B", "B", "B"]
    best = json.loads(main_json(capsys, "top", swept["run_id"], "--k", "1", "--format", "json",
                                "--results-dir", str(workspace["results"])))[0]
    sharpe = "/".join(f"{best['metrics'][s]['sharpe']:.2f}" if abs(best["metrics"][s]["sharpe"]) >= 1
                      else f"{best['metrics'][s]['sharpe']:.3f}" for s in "ABC")
    row = lines[4].split()
    assert row[:3] == ["EURUSD", "1", str(best_trial(best, workspace, swept))] and row[4] == sharpe
    assert row[5] == str(best["metrics"]["B"]["trades"])
    assert lines[7] == "parameters:" and lines[8].startswith("  EURUSD #1  ")


def main_json(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    return out


def best_trial(best: dict[str, Any], workspace: dict[str, Path], swept: dict[str, Any]) -> int:
    from tradescan.results import load_run, top_finalists

    return top_finalists(load_run(swept["run_id"], workspace["results"]), k=1)[0].trial


def test_top_yaml_has_one_plain_entry_per_symbol_and_rank(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    results = ["--results-dir", str(workspace["results"])]
    out = main_json(capsys, "top", swept["run_id"], "--format", "yaml", *results)
    assert "&id" not in out and "*id" not in out  # no PyYAML anchors or aliases
    assert re.search(r"trades: \d+\.0\b", out) is None and re.search(r"trades: \d+\n", out)
    entries = yaml.safe_load(out)
    assert [(e["symbol"], e["rank"]) for e in entries] == [("EURUSD", 1), ("EURUSD", 2), ("EURUSD", 3)]
    first = entries[0]
    assert list(first) == ["run_id", "strategy", "symbol", "timeframe", "rank", "trial", "start", "end",
                           "strategy_paths", "params", "settings", "metrics"]
    assert first["settings"] == {"broker": "default", "capital": {"initial": 10000, "currency": "USD",
                                 "risk_per_trade": 0.002, "compounding": True}, "max_hold_bars": 96,
                                 "stops_from": "fill", "scenarios": ["A", "B", "C"]}
    assert all(type(first["metrics"][s]["trades"]) is int for s in "ABC")
    only = yaml.safe_load(main_json(capsys, "top", swept["run_id"], "--symbol", "EURUSD", "--rank", "2",
                                    "--format", "yaml", *results))
    assert [(e["symbol"], e["rank"]) for e in only] == [("EURUSD", 2)] and only[0] == entries[1]


def test_top_yaml_reproduces_through_the_backtest_cli(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any], tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "top", swept["run_id"], "--symbol", "EURUSD", "--rank", "1", "--format", "yaml",
                        "--results-dir", str(workspace["results"]))
    assert code == 0
    best = yaml.safe_load(out)[0]
    params_file = tmp_path / "best.yaml"
    params_file.write_text(out)
    code, out, _ = _run(capsys, "backtest", "--strategy", best["strategy"], "--symbol", best["symbol"],
                        "--timeframe", best["timeframe"], "--params-file", str(params_file), "--json",
                        "--data-dir", str(workspace["data"]))
    replay = json.loads(out)["metrics"]
    for scenario in ("A", "B", "C"):
        assert replay[scenario]["sharpe"] == pytest.approx(best["metrics"][scenario]["sharpe"], rel=1e-12)
        assert replay[scenario]["trades"] == best["metrics"][scenario]["trades"]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _mid_sweep(workspace: dict[str, Path], run_id: str, tmp_path: Path) -> Any:
    """A copy of the swept results whose run looks as it does mid-sweep: its symbol PENDING, no stage 2 yet."""
    import shutil

    from tradescan.results import ResultsStore, load_run

    results = tmp_path / "results"
    shutil.copytree(workspace["results"], results)
    store = ResultsStore(results)
    manifest = store.read_manifest(run_id)
    symbols = {name: entry.model_copy(update={"status": "PENDING"}) for name, entry in manifest.symbols.items()}
    stage2 = load_run(run_id, results).stage2.iloc[0:0]
    store.commit(run_id, manifest.model_copy(update={"status": "running", "symbols": symbols}),
                 {"stage2/EURUSD.parquet": stage2})
    return store


def test_validate_while_a_sweep_holds_the_lock_is_refused_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any], tmp_path: Path
) -> None:
    import os

    run_id = swept["run_id"]
    store = _mid_sweep(workspace, run_id, tmp_path)
    with store.lock(run_id):
        before = _files(store.run_dir(run_id))
        code, out, err = _run(capsys, "validate", run_id, "--json", "--workers", "1",
                              "--data-dir", str(workspace["data"]), "--results-dir", str(store.root))
        after = _files(store.run_dir(run_id))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"tradescan: error: run {run_id} is being written by pid {os.getpid()} on host ")
    assert err.rstrip().endswith(f"(lock file {store.run_dir(run_id) / 'sweep.lock'})")
    assert after == before


def test_top_while_a_sweep_holds_the_lock_says_it_is_running(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any], tmp_path: Path
) -> None:
    import os

    run_id = swept["run_id"]
    store = _mid_sweep(workspace, run_id, tmp_path)
    with store.lock(run_id):
        code, out, err = _run(capsys, "top", run_id, "--results-dir", str(store.root))
        assert (store.run_dir(run_id) / "sweep.lock").exists()  # top did not take (nor remove) the lock
    assert (code, out) == (0, "no finalists yet (the sweep is still running)\n")
    assert err.count("\n") == 1
    assert err.startswith(f"run {run_id} is still being written by pid {os.getpid()} on host ")
    assert err.rstrip().endswith("what it has stored so far is shown (EURUSD PENDING)")
    # the lock given up: the plain answer, no notice
    assert _run(capsys, "top", run_id, "--results-dir", str(store.root)) == (0, "no finalists (did stage 2 run?)\n", "")


def test_top_of_a_finished_run_while_locked_shows_its_finalists_and_the_notice(
    capsys: pytest.CaptureFixture[str], workspace: dict[str, Path], swept: dict[str, Any]
) -> None:
    from tradescan.results import ResultsStore

    store = ResultsStore(workspace["results"])
    run_id = swept["run_id"]
    _, plain, _ = _run(capsys, "top", run_id, "--results-dir", str(workspace["results"]))
    with store.lock(run_id):
        code, out, err = _run(capsys, "top", run_id, "--results-dir", str(workspace["results"]))
    assert (code, out) == (0, plain) and "#" in plain
    assert err.rstrip().endswith("what it has stored so far is shown (EURUSD DONE)")


def test_top_table_without_finalists_says_whether_the_sweep_runs() -> None:
    from tradescan.cli.sweep_cmd import format_top_table

    assert format_top_table([], None, "A", running=True) == "no finalists yet (the sweep is still running)"  # type: ignore[arg-type]
    assert format_top_table([], None, "A") == "no finalists (did stage 2 run?)"  # type: ignore[arg-type]


def test_freeze_then_rerun_is_refused(capsys: pytest.CaptureFixture[str], workspace: dict[str, Path],
                                      swept: dict[str, Any]) -> None:
    code, out, _ = _run(capsys, "freeze", swept["run_id"], "--results-dir", str(workspace["results"]))
    assert code == 0 and "frozen" in out
    code, _, err = _run(capsys, "sweep", str(workspace["directive"]), "--workers", "1", "--json", *_dirs(workspace))
    assert code == 2 and f"run {swept['run_id']} is frozen" in err


def test_dashboard_without_the_extra_names_the_install(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)
    code, _, err = _run(capsys, "dashboard", "--storage", str(tmp_path / "j.journal"))
    assert code == 2 and "pip install -e .[dashboard]" in err


@pytest.mark.parametrize(("port", "message"), [("70000", "a port is 1-65535, got 70000"),
                                               ("0", "a port is 1-65535, got 0"),
                                               ("http", "expected a port number 1-65535, got 'http'")])
def test_dashboard_port_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str], port: str, message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboard", "--port", port])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err == f"tradescan dashboard: error: argument --port: {message} (see --help)\n"


def test_dashboard_without_runs_says_what_to_do(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "dashboard", "--results-dir", str(tmp_path))
    assert code == 2 and err == (f"tradescan: error: no run with a study storage in {tmp_path.resolve()}; run a sweep "
                                 f"first or pass --storage\n")


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
    assert "synthesized 30,000 H4 bars of GBPUSD" in out and "top 3 per symbol:" in out and "GBPUSD" in out
    assert (tmp_path / "data").exists()
    run_id = next(p.name for p in (tmp_path / "results" / "runs").iterdir())
    assert out.splitlines()[-6:] == [
        "next:",
        f"  the best finalist, every scenario:   tradescan top {run_id} --symbol GBPUSD --rank 1",
        f"  reproduce it as one backtest:        tradescan top {run_id} --symbol GBPUSD --rank 1 --format yaml > "
        f"best.yaml",
        "                                       tradescan backtest --params-file best.yaml",
        f"  browse every trial:                  tradescan dashboard {run_id}",
        f"  validate (DSR, PBO, walk-forward):   tradescan validate {run_id}",
    ]
