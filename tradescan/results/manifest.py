"""The run manifest as a typed, frozen model (DESIGN §8, §11): ``runs/<run_id>/manifest.json``.

A sweep builds a new ``RunManifest`` each time it records progress (``model_copy(update=...)`` or a
fresh model from its typed parts), so no key can be lost between steps and a hand-edited field that
breaks the schema is named when the run is read. Unknown fields are refused; numbers refuse booleans.

Layout (JSON)::

    schema_version, run_id, hash, status, source, search_space, storage, storage_kind, workers,
    directive      the resolved directive (canonical JSON data)
    lineage        run_id, hash, data_hashes, strategy_hash, search_space_hash
    objective      stage 1's objective name, scenario and minimum trades
    versions       python and the packages that decide the numbers
    started, first_started, finished, frozen      ISO times (UTC)
    symbols        per symbol: status, reasons, error, bars, trials, stage1, stage2
    stage_seconds  startup, ray_init, preflight, stage1, stage2, total
    stored_trades  which finalists' trades are stored: {"top": 10} (ranks 1-10 per symbol) or {"top": null} (all)
    commit, tables the last commit's token and, per table file, the commit that wrote it and its rows
    verdicts       reserved for the guard stage (per symbol), empty until it runs
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

SCHEMA_VERSION = 1

RunStatus = Literal["running", "complete", "partial", "failed", "interrupted"]
SymbolStatus = Literal["PENDING", "DONE", "FAILED", "BLOCK"]
StorageKind = Literal["journal", "rdb"]


def _refuse_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {value}")
    return value


Count = Annotated[int, Field(strict=True, ge=0)]
Seconds = Annotated[float, BeforeValidator(_refuse_bool), Field(ge=0, allow_inf_nan=False)]
Score = Annotated[float, BeforeValidator(_refuse_bool), Field(allow_inf_nan=False)]
UtcTime = Annotated[AwareDatetime, Field(description="time with its UTC offset, ISO 8601")]


class Record(BaseModel):
    """Base of the manifest's parts: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TrialCounts(Record):
    """How many trials a symbol has, where they came from and how they ended."""

    total: Count = 0
    resumed: Count = 0
    ran: Count = 0
    complete: Count = 0
    fail: Count = 0
    pruned: Count = 0


class Stage1Summary(Record):
    """Stage 1 of one symbol: its time and best trial (value = objective minus the min-trades penalty)."""

    seconds: Seconds = 0.0
    best_value: Score | None = None
    best_trial: Count | None = None
    best_params: dict[str, Any] | None = None
    grid_points_removed: Count = 0


class Stage2Summary(Record):
    """Stage 2 of one symbol: how many finalists were re-run, how long it took, which failed, and the
    ranks whose trades are stored (``None``: every finalist that ran, as runs before the policy)."""

    finalists: Count = 0
    seconds: Seconds = 0.0
    failed_ranks: tuple[Count, ...] = ()
    trades_ranks: tuple[Count, ...] | None = None


class StoredTrades(Record):
    """Which finalists' trades a run stores in ``trades/<SYMBOL>.parquet`` (``tradescan.results.stored_trades``).

    ``top``: the trades of ranks 1..top of each symbol under every stage-2 scenario; ``None``: every
    finalist's (``--all-trades``, and every run written before the policy).
    """

    top: Count | None = None


class SymbolEntry(Record):
    """What the manifest says about one symbol (status, and why when it is not DONE)."""

    status: SymbolStatus = "PENDING"
    reasons: tuple[str, ...] = ()
    error: str | None = None
    bars: Count | None = None
    trials: TrialCounts | None = None
    stage1: Stage1Summary | None = None
    stage2: Stage2Summary | None = None


class StageSeconds(Record):
    """Wall-clock seconds per stage, summed over symbols."""

    startup: Seconds = 0.0
    ray_init: Seconds = 0.0
    preflight: Seconds = 0.0
    stage1: Seconds = 0.0
    stage2: Seconds = 0.0
    guards: Seconds = 0.0
    write: Seconds = 0.0  # committing the symbols' table files
    total: Seconds = 0.0


class LineageRecord(Record):
    """The inputs' hashes the run id was derived from (``tradescan.lineage.Lineage``)."""

    run_id: str
    hash: str
    data_hashes: dict[str, str | None]
    strategy_hash: str
    search_space_hash: str
    backtest: dict[str, Any] = {}  # the resolved BacktestConfig (broker profile in full)
    instruments: dict[str, dict[str, Any] | None] = {}  # the instrument facts of every symbol (None: unknown)
    budget: dict[str, Any] = {}  # budget-only fields, left out of the hash (search.trials, stage2.top_k)


class ObjectiveRecord(Record):
    """What stage 1 maximised: the objective on one scenario, penalised below ``min_trades``."""

    name: str
    scenario: str
    min_trades: Count = 0


class TableRecord(Record):
    """One table file of the run: the commit that wrote it and its number of rows."""

    commit: str
    rows: Count


class RunManifest(Record):
    """The manifest of one run (see the module docstring for the JSON layout)."""

    schema_version: Literal[1] = 1
    run_id: str
    hash: str
    status: RunStatus = "running"
    source: str
    directive: dict[str, Any]
    lineage: LineageRecord
    objective: ObjectiveRecord
    search_space: str | None = None
    strategy_dirs: tuple[str, ...] = ()
    storage: str
    storage_kind: StorageKind
    study_names: dict[str, str] = {}
    versions: dict[str, str] = {}
    workers: Count | None = None
    started: UtcTime
    first_started: UtcTime
    finished: UtcTime | None = None
    frozen: UtcTime | None = None
    symbols: dict[str, SymbolEntry] = {}
    stage_seconds: StageSeconds = StageSeconds()
    stored_trades: StoredTrades = StoredTrades()
    commit: str | None = None
    tables: dict[str, TableRecord] = {}
    verdicts: dict[str, Any] = {}
    # the guard stage: {preset, seed, settings, symbols: {S: {dsr, pbo, wfe, n_trials, n_eff_trials,
    # finalists: [{rank, prod_ready, failed}]}}} (W2 layout)
    guards: dict[str, Any] = {}

    def symbol_statuses(self) -> dict[str, str]:
        """Return ``{symbol: status}`` in the directive's order."""
        return {symbol: entry.status for symbol, entry in self.symbols.items()}


def utc_now() -> dt.datetime:
    """Return the current UTC time to the second (what the manifest records)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
