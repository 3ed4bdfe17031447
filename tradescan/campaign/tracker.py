"""The tracker: ``results/tracker.parquet`` and ``tracker.csv``, one row per campaign × symbol.

Seed 002's "know in 10 seconds where each asset stands"::

    campaign  asset  tier   screen  wfe   sharpe_oos  validate  guards  prod_ready  screen_run  validate_run

``screen`` / ``validate`` are PASS, FAIL, ERROR, PENDING (not decided yet) or ``-`` (will not run: the
symbol did not pass the phase before, or the campaign has no such phase). ``wfe``, ``sharpe_oos`` and
``guards`` ("passed/total") are the last phase's with a guard stage, for the finalist it judged.
``prod_ready`` is YES when the symbol passed the campaign's last phase. Rows of other campaigns are
kept; the two files are rewritten atomically under a lock after every phase.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tradescan.atomic import atomic_write_with, folder_lock
from tradescan.campaign.outcome import SymbolOutcome
from tradescan.campaign.state import CampaignState
from tradescan.paths import results_dir as resolve_results_dir
from tradescan.results.errors import ResultsFileError

__all__ = ["TRACKER_COLUMNS", "read_tracker", "tracker_rows", "write_tracker"]

TRACKER_COLUMNS = ("campaign", "asset", "tier", "screen", "wfe", "sharpe_oos", "validate", "guards",
                   "prod_ready", "screen_run", "validate_run")
TRACKER_PARQUET = "tracker.parquet"
TRACKER_CSV = "tracker.csv"
NOT_RUN = "-"
PENDING = "PENDING"
REWRITE = "run a campaign again to rewrite it"


def tracker_rows(state: CampaignState, phase_names: Sequence[str]) -> pd.DataFrame:
    """Return the tracker rows of one campaign (``phase_names``: its configured phases, in order)."""
    rows = [_row(state, symbol, tier, phase_names) for symbol, tier in state.tiers.items()]
    return pd.DataFrame(rows, columns=list(TRACKER_COLUMNS))


def _row(state: CampaignState, symbol: str, tier: str | None, phase_names: Sequence[str]) -> dict[str, object]:
    row: dict[str, object] = {"campaign": state.campaign_id, "asset": symbol, "tier": tier or NOT_RUN}
    shown: SymbolOutcome | None = None
    still_in = True
    last_verdict = None
    for phase in ("screen", "validate"):
        record = state.phases.get(phase)
        outcome = record.outcomes.get(symbol) if record is not None else None
        row[f"{phase}_run"] = record.run_id if record is not None and symbol in record.symbols else None
        if phase not in phase_names or not still_in:
            row[phase] = NOT_RUN
            continue
        row[phase] = outcome.verdict if outcome is not None else PENDING
        last_verdict = row[phase]
        still_in = outcome is None or outcome.verdict == "PASS"
        if outcome is not None and outcome.guards_total:
            shown = outcome
    row["wfe"] = shown.wfe if shown is not None else None
    row["sharpe_oos"] = shown.sharpe_oos if shown is not None else None
    row["guards"] = f"{shown.guards_passed}/{shown.guards_total}" if shown is not None else NOT_RUN
    row["prod_ready"] = "YES" if still_in and last_verdict == "PASS" else "NO"
    return row


def write_tracker(rows: pd.DataFrame, results_dir: str | os.PathLike[str] | None = None) -> Path:
    """Replace the rows of ``rows``' campaign in the tracker files; return the Parquet file's path."""
    folder = resolve_results_dir(results_dir)
    with folder_lock(folder, ".tracker.lock"):
        existing = read_tracker(folder)
        campaigns = set(rows["campaign"])
        kept = existing[~existing["campaign"].isin(campaigns)]
        table = pd.concat([kept, rows], ignore_index=True) if len(kept) else rows.reset_index(drop=True)
        table = table.astype({"wfe": "float64", "sharpe_oos": "float64"})
        atomic_write_with(folder / TRACKER_PARQUET, lambda path: table.to_parquet(path, index=False))
        atomic_write_with(folder / TRACKER_CSV, lambda path: table.to_csv(path, index=False))
    return folder / TRACKER_PARQUET


def read_tracker(results_dir: str | os.PathLike[str] | None = None, campaign: str | None = None) -> pd.DataFrame:
    """Return the tracker (every campaign, or only ``campaign``); empty with its columns when absent.

    Raises:
        ResultsFileError: the file is damaged or lacks a column.
    """
    path = resolve_results_dir(results_dir) / TRACKER_PARQUET
    if not path.exists():
        return pd.DataFrame(columns=list(TRACKER_COLUMNS))
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{path}: unreadable tracker ({str(exc)[:120]}); {REWRITE}") from None
    missing = [column for column in TRACKER_COLUMNS if column not in table.columns]
    if missing:
        raise ResultsFileError(f"{path}: lacks the columns {missing}; {REWRITE}")
    return table if campaign is None else table[table["campaign"] == campaign].reset_index(drop=True)
