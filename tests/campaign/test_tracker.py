"""The tracker: rows from a campaign state, the two files, other campaigns kept, the printed width."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from tradescan.campaign import CampaignState, PhaseRecord, SymbolOutcome, read_tracker, tracker_rows, write_tracker
from tradescan.cli import main
from tradescan.cli.campaign_cmd import format_tracker

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PASS_SCREEN = SymbolOutcome(verdict="PASS", rank=1, wfe=0.61, sharpe_oos=1.2, guards_passed=3, guards_total=3)
FAIL_SCREEN = SymbolOutcome(verdict="FAIL", reasons=("wfe 0.3 not > 0.5",), rank=1, wfe=0.3, sharpe_oos=0.4,
                            guards_passed=2, guards_total=3)
ERROR = SymbolOutcome(verdict="ERROR", reasons=("no data",))
PASS_VALIDATE = SymbolOutcome(verdict="PASS", rank=2, wfe=0.82, sharpe_oos=1.5, guards_passed=9, guards_total=11)


def _state(campaign_id: str = "C-0123456789ab", *, validated: bool) -> CampaignState:
    screen = PhaseRecord(status="complete", run_id="C_SCREEN-aaa", symbols=("EURUSD", "GBPUSD", "USDJPY"),
                         outcomes={"EURUSD": PASS_SCREEN, "GBPUSD": FAIL_SCREEN, "USDJPY": ERROR})
    phases = {"screen": screen}
    if validated:
        phases["validate"] = PhaseRecord(status="complete", run_id="C_VALIDATE-bbb", symbols=("EURUSD",),
                                         outcomes={"EURUSD": PASS_VALIDATE})
    return CampaignState(campaign_id=campaign_id, name="C", source="c.yaml", started=NOW, updated=NOW,
                         tiers={"EURUSD": "tier1", "GBPUSD": "tier1", "USDJPY": None}, phases=phases)


def test_rows_after_the_screen() -> None:
    rows = tracker_rows(_state(validated=False), ["screen", "validate"])
    rows = rows.astype(object).where(rows.notna(), None)  # NaN (no guard value) compared as None
    assert rows.to_dict(orient="records") == [
        {"campaign": "C-0123456789ab", "asset": "EURUSD", "tier": "tier1", "screen": "PASS", "wfe": 0.61,
         "sharpe_oos": 1.2, "validate": "PENDING", "guards": "3/3", "prod_ready": "NO",
         "screen_run": "C_SCREEN-aaa", "validate_run": None},
        {"campaign": "C-0123456789ab", "asset": "GBPUSD", "tier": "tier1", "screen": "FAIL", "wfe": 0.3,
         "sharpe_oos": 0.4, "validate": "-", "guards": "2/3", "prod_ready": "NO",
         "screen_run": "C_SCREEN-aaa", "validate_run": None},
        {"campaign": "C-0123456789ab", "asset": "USDJPY", "tier": "-", "screen": "ERROR", "wfe": None,
         "sharpe_oos": None, "validate": "-", "guards": "-", "prod_ready": "NO",
         "screen_run": "C_SCREEN-aaa", "validate_run": None},
    ]


def test_rows_after_the_validation_show_its_guards() -> None:
    rows = tracker_rows(_state(validated=True), ["screen", "validate"]).set_index("asset")
    assert rows.loc["EURUSD", ["screen", "validate", "wfe", "sharpe_oos", "guards", "prod_ready", "validate_run"]
                    ].tolist() == ["PASS", "PASS", 0.82, 1.5, "9/11", "YES", "C_VALIDATE-bbb"]
    assert rows.loc["GBPUSD", ["validate", "prod_ready"]].tolist() == ["-", "NO"]


def test_a_screen_only_campaign_is_prod_ready_on_the_screen() -> None:
    rows = tracker_rows(_state(validated=False), ["screen"]).set_index("asset")
    assert rows["prod_ready"].tolist() == ["YES", "NO", "NO"]
    assert rows["validate"].tolist() == ["-", "-", "-"]


def test_files_keep_other_campaigns_and_agree(tmp_path: Path) -> None:
    write_tracker(tracker_rows(_state("A-000000000000", validated=False), ["screen", "validate"]), tmp_path)
    write_tracker(tracker_rows(_state("B-111111111111", validated=False), ["screen", "validate"]), tmp_path)
    write_tracker(tracker_rows(_state("A-000000000000", validated=True), ["screen", "validate"]), tmp_path)
    table = read_tracker(tmp_path)
    assert table["campaign"].tolist() == ["B-111111111111"] * 3 + ["A-000000000000"] * 3
    assert table.loc[table["campaign"] == "A-000000000000", "validate"].tolist() == ["PASS", "-", "-"]
    csv = pd.read_csv(tmp_path / "tracker.csv", keep_default_na=False, na_values=[""])
    assert csv["asset"].tolist() == table["asset"].tolist()
    assert csv["guards"].tolist() == table["guards"].tolist()
    assert csv["wfe"].fillna(-1).tolist() == table["wfe"].fillna(-1).tolist()
    assert read_tracker(tmp_path, "B-111111111111")["asset"].tolist() == ["EURUSD", "GBPUSD", "USDJPY"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tracker.lock", "tracker.csv", "tracker.parquet"]


def test_damaged_tracker_is_named(tmp_path: Path) -> None:
    (tmp_path / "tracker.parquet").write_bytes(b"not parquet")
    from tradescan.results.errors import ResultsFileError

    with pytest.raises(ResultsFileError, match=r"tracker\.parquet: unreadable tracker"):
        read_tracker(tmp_path)


def test_printed_tracker_fits_100_columns(tmp_path: Path) -> None:
    long_id = "A_RATHER_LONG_CAMPAIGN_NAME_FOR_FX_AND_METALS-0123456789ab"
    rows = tracker_rows(_state(long_id, validated=True), ["screen", "validate"])
    rows.loc[0, "tier"] = "tier_with_a_long_name"
    text = format_tracker(rows)
    console = Console(file=io.StringIO(), width=100, color_system=None, record=True)
    console.print(text)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0] == f"campaign {long_id}"
    assert lines[1].split() == ["asset", "tier", "screen", "wfe", "sharpe_oos", "validate", "guards", "prod_ready"]
    assert lines[3].split() == ["EURUSD", "tier_with_a_long_name", "PASS", "0.82", "1.50", "PASS", "9/11", "YES"]
    assert lines[5].split() == ["USDJPY", "-", "ERROR", "-", "-", "-", "-", "NO"]


def test_tracker_command_table_json_and_unknown_campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = str(tmp_path)
    assert main(["tracker", "--results-dir", results]) == 0
    assert capsys.readouterr().out.startswith("no campaign yet")
    write_tracker(tracker_rows(_state(validated=True), ["screen", "validate"]), tmp_path)
    assert main(["tracker", "--results-dir", results]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100 and "EURUSD" in out
    assert main(["tracker", "--results-dir", results, "--campaign", "C-0123456789ab", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["asset"] for r in records] == ["EURUSD", "GBPUSD", "USDJPY"]
    assert records[2]["wfe"] is None and records[0]["guards"] == "9/11"
    assert main(["tracker", "--results-dir", results, "--campaign", "NOPE"]) == 2
    assert capsys.readouterr().err == (
        "tradescan: error: --campaign: no campaign 'NOPE' in the tracker (known: C-0123456789ab)\n")
