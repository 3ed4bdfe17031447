"""``run_campaign`` end to end on real Ray, Optuna and Parquet: phases, per-symbol isolation, the tracker
after each phase, re-runs that reuse finished phases, synthetic data only where there is none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from campaign_helpers import write_campaign

from tradescan.campaign import load_campaign, read_state, read_tracker, run_campaign
from tradescan.campaign.synth import synthesize_missing
from tradescan.results import load_run


@pytest.fixture(scope="module")
def finished(ray_cluster: Any, small_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One campaign run: EURUSD and GBPUSD with data, USDJPY without; the tracker seen at each phase's end."""
    folder = tmp_path_factory.mktemp("campaign")
    path = write_campaign(folder)
    results = folder / "results"
    notes: list[str] = []
    seen: dict[str, pd.DataFrame] = {}

    def echo(line: str) -> None:
        notes.append(line)
        if line.startswith("validate: sweeping"):
            seen["after screen"] = read_tracker(results)

    result = run_campaign(path, workers=2, data_dir=small_data_dir, results_dir=results, echo=echo)
    seen["after validate"] = read_tracker(results)
    return {"path": path, "results": results, "result": result, "notes": notes, "seen": seen}


def test_each_phase_is_its_own_run(finished: dict[str, Any]) -> None:
    state = finished["result"].state
    screen, validate = state.phases["screen"], state.phases["validate"]
    assert screen.status == validate.status == "complete"
    assert screen.run_id.startswith("T_CAMP_SCREEN-") and validate.run_id.startswith("T_CAMP_VALIDATE-")
    assert screen.symbols == ("EURUSD", "GBPUSD", "USDJPY")
    assert validate.symbols == ("EURUSD", "GBPUSD")  # only the screen's passes
    screen_run = load_run(screen.run_id, finished["results"])
    validate_run = load_run(validate.run_id, finished["results"])
    assert screen_run.manifest.directive["search"]["trials"] == 16
    assert validate_run.manifest.directive["search"]["trials"] == 24
    assert screen_run.trials.groupby("symbol").size().to_dict() == {"EURUSD": 16, "GBPUSD": 16}
    assert validate_run.trials.groupby("symbol").size().to_dict() == {"EURUSD": 24, "GBPUSD": 24}
    assert finished["result"].swept == ("screen", "validate")


def test_a_symbol_without_data_is_recorded_and_the_others_go_on(finished: dict[str, Any]) -> None:
    outcomes = finished["result"].state.phases["screen"].outcomes
    assert outcomes["EURUSD"].verdict == outcomes["GBPUSD"].verdict == "PASS"
    assert outcomes["USDJPY"].verdict == "ERROR"
    assert outcomes["USDJPY"].reasons[0].startswith("no data: no data for USDJPY H1 in ")
    on_disk = read_state(finished["result"].folder)
    assert on_disk == finished["result"].state


def test_tracker_after_the_screen_then_after_the_validation(finished: dict[str, Any]) -> None:
    screen_run = finished["result"].state.phases["screen"].run_id
    validate_run = finished["result"].state.phases["validate"].run_id
    after_screen = finished["seen"]["after screen"]
    assert after_screen[["asset", "tier", "screen", "validate", "guards", "prod_ready"]].values.tolist() == [
        ["EURUSD", "-", "PASS", "PENDING", "-", "NO"],
        ["GBPUSD", "-", "PASS", "PENDING", "-", "NO"],
        ["USDJPY", "-", "ERROR", "-", "-", "NO"],
    ]
    assert after_screen["screen_run"].tolist() == [screen_run] * 3
    after_validate = finished["seen"]["after validate"]
    assert after_validate[["asset", "screen", "validate", "prod_ready"]].values.tolist() == [
        ["EURUSD", "PASS", "PASS", "YES"], ["GBPUSD", "PASS", "PASS", "YES"], ["USDJPY", "ERROR", "-", "NO"],
    ]
    assert after_validate["validate_run"].tolist()[:2] == [validate_run] * 2
    assert after_validate["wfe"].isna().all()  # no guard stage in these phases


def test_each_phase_run_gets_its_report(finished: dict[str, Any]) -> None:
    for phase in ("screen", "validate"):
        record = finished["result"].state.phases[phase]
        expected = finished["results"] / "runs" / str(record.run_id) / "report.html"
        assert record.report == str(expected) and expected.stat().st_size > 0
        assert f"report of {record.run_id}: {expected}" in finished["notes"]


def test_rerun_reuses_every_finished_phase(finished: dict[str, Any], small_data_dir: Path) -> None:
    screen_id = finished["result"].state.phases["screen"].run_id
    started = load_run(screen_id, finished["results"]).manifest.started
    notes: list[str] = []
    again = run_campaign(finished["path"], workers=2, data_dir=small_data_dir,
                         results_dir=finished["results"], echo=notes.append)
    assert (again.swept, again.reused) == ((), ("screen", "validate"))
    assert notes == [f"screen: reusing run {screen_id} (finished earlier)",
                     f"validate: reusing run {again.state.phases['validate'].run_id} (finished earlier)"]
    assert load_run(screen_id, finished["results"]).manifest.started == started
    assert again.state.phases == finished["result"].state.phases


def test_synth_writes_only_missing_symbols(tmp_path: Path) -> None:
    from tradescan import data

    data_dir = tmp_path / "data"
    data.write_dataset(data.synthesize("EURUSD", "H1", 600, seed=1), "EURUSD", "H1", data_dir=data_dir)
    before = data.dataset_hash("EURUSD", "H1", data_dir=data_dir)
    path = write_campaign(tmp_path, universe=["EURUSD", "GBPUSD"], data={"source": "synth", "bars": 700, "seed": 9},
                          phases={"screen": {"trials": 8, "pass": {"sharpe": "> 0"}}})
    notes: list[str] = []
    written = synthesize_missing(load_campaign(path), data_dir, notes.append)
    assert written == ["GBPUSD"]
    assert notes == ["synthesised 700 H1 bars of GBPUSD (seed 9)"]
    assert data.dataset_hash("EURUSD", "H1", data_dir=data_dir) == before  # user data is never replaced
    assert len(data.load("GBPUSD", "H1", data_dir=data_dir)) == 700
    assert synthesize_missing(load_campaign(path), data_dir, notes.append) == []


def test_guard_phase_fills_wfe_sharpe_oos_and_counts(ray_cluster: Any, small_data_dir: Path, tmp_path: Path) -> None:
    path = write_campaign(tmp_path, universe=["EURUSD"], phases={
        "screen": {"trials": 16, "guards": "screen", "pass": {"guards": "critical"}}})
    result = run_campaign(path, workers=2, data_dir=small_data_dir, results_dir=tmp_path / "results", echo=print)
    run = load_run(result.state.phases["screen"].run_id, tmp_path / "results")
    outcome = result.state.phases["screen"].outcomes["EURUSD"]
    rows = run.guards[(run.guards["symbol"] == "EURUSD") & (run.guards["rank"] == outcome.rank)]
    assert (outcome.guards_passed, outcome.guards_total) == (int(rows["passed"].sum()), len(rows))
    assert outcome.guards_total == 3  # the screen preset: wfe, sharpe_oos, trades_oos
    critical_ok = bool(rows.loc[rows["critical"].astype(bool), "passed"].all())
    assert outcome.verdict == ("PASS" if critical_ok else "FAIL")
    tracker = read_tracker(tmp_path / "results")
    assert tracker.loc[0, "guards"] == f"{outcome.guards_passed}/{outcome.guards_total}"
    wfe = rows.loc[rows["guard"] == "wfe", "value"].iloc[0]
    assert tracker.loc[0, "wfe"] == pytest.approx(wfe) or (pd.isna(wfe) and pd.isna(tracker.loc[0, "wfe"]))
