"""``tradescan validate`` and ``top --prod-ready`` on a sweep of a pure random walk (real Ray, journal)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sweep"))
from sweep_support import write_directive

from tradescan import data
from tradescan.cli import main
from tradescan.sweep import run_sweep

N_BARS = 6_000


def random_walk(n_bars: int, seed: int) -> pd.DataFrame:
    """Hourly BTCUSDT bars of a driftless log random walk: no rule has an edge on it."""
    rng = np.random.default_rng(seed)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, n_bars)))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    reach = np.abs(rng.normal(0.0, 0.002, n_bars)) * close
    return pd.DataFrame({
        "time": pd.date_range("2021-01-01", periods=n_bars, freq="h", tz="UTC"),
        "open": open_.round(2), "high": (np.maximum(open_, close) + reach).round(2),
        "low": (np.minimum(open_, close) - reach).round(2), "close": close.round(2), "volume": np.ones(n_bars),
    })


@pytest.fixture(scope="module")
def walk_run(tmp_path_factory: pytest.TempPathFactory, ray_cluster: Any) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("walk")
    data.write_dataset(random_walk(N_BARS, 1), "BTCUSDT", "H1", data_dir=folder / "data")
    directive = write_directive(folder, symbols=["BTCUSDT"], search={"sampler": "random", "trials": 16, "seed": 3},
                                stage1={"min_trades": 10})
    swept = run_sweep(directive, workers=2, data_dir=folder / "data", results_dir=folder / "r")
    return {"run": swept, "data": folder / "data", "results": folder / "r"}


def _cli(walk_run: dict[str, Any], *args: str) -> list[str]:
    return [*args, "--results-dir", str(walk_run["results"])]


def test_validate_json_has_designs_shape_and_nothing_is_prod_ready(
    walk_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = walk_run["run"].run_id
    argv = _cli(walk_run, "validate", run_id, "--preset", "validate", "--workers", "2", "--json",
                "--data-dir", str(walk_run["data"]))
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"run_id", "preset", "symbols"}
    assert document["run_id"] == run_id and document["preset"] == "validate"
    entry = document["symbols"]["BTCUSDT"]
    assert set(entry) == {"dsr", "pbo", "wfe", "finalists"}
    assert [f["rank"] for f in entry["finalists"]] == [1, 2]
    for finalist in entry["finalists"]:
        assert set(finalist) == {"rank", "params", "prod_ready", "failed", "guards"}
        assert finalist["prod_ready"] is False and finalist["failed"]
        for guard in finalist["guards"].values():
            assert set(guard) == {"value", "threshold", "passed", "critical"}
    assert main(_cli(walk_run, "top", run_id, "--prod-ready", "--format", "json")) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(_cli(walk_run, "top", run_id, "--prod-ready")) == 0
    assert capsys.readouterr().out == (f"no prod-ready finalists: none of the 2 shown without --prod-ready passed "
                                       f"every critical guard (their verdicts: tradescan top {run_id})\n")
    assert main(_cli(walk_run, "top", run_id, "--format", "csv")) == 0
    table = capsys.readouterr().out
    assert "verdict" in table.splitlines()[0] and "failed: " in table
    assert main(_cli(walk_run, "top", run_id)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 100 for line in lines)
    failed = entry["finalists"][0]["failed"]
    assert lines[4].split()[-2:] == ["fail", str(len(failed))]  # the short verdict, in the table
    below = lines.index("verdicts:")
    assert lines[below + 1].startswith(f"  BTCUSDT #1  failed: {failed[0]}")  # the names, below it


def test_validate_an_unknown_symbol_is_one_line(walk_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    run_id = walk_run["run"].run_id
    code = main(_cli(walk_run, "validate", run_id, "--symbol", "ETHUSDT", "--data-dir", str(walk_run["data"])))
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "--symbol ETHUSDT" in err and "BTCUSDT" in err
