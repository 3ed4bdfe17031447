"""``run_campaign``: run a campaign's phases in order, each an ordinary sweep, resuming where it stopped.

Per phase: the phase directive (the base with the phase's symbols, trials and guard preset) is swept
with ``tradescan.sweep.run_sweep`` under its own run id; each symbol is judged by the phase's pass rule
(``judge_symbol``); the state file and the tracker are rewritten; the run's HTML report is written
when ``tradescan.report`` is installed. The next phase sweeps only the symbols that passed.

Resuming: the state names each phase's run. A phase recorded ``complete`` for the same symbols is not
swept again; a phase a killed process left ``running`` is swept again with the same directive, which
resumes its run (the trials already told are kept) instead of starting over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tradescan.atomic import atomic_write_bytes
from tradescan.campaign.load import Campaign, load_campaign
from tradescan.campaign.model import PhaseName, PhaseSettings
from tradescan.campaign.outcome import judge_symbol
from tradescan.campaign.state import CampaignState, PhaseRecord, campaign_dir, read_state, utc_now, write_state
from tradescan.campaign.synth import synthesize_missing
from tradescan.campaign.tracker import tracker_rows, write_tracker
from tradescan.errors import ConfigError, TradeScanError
from tradescan.lineage import canonical_json

__all__ = ["CampaignResult", "run_campaign"]



@dataclass(frozen=True)
class CampaignResult:
    """What ``run_campaign`` returns: the final state, the campaign folder and the phases it swept now."""

    state: CampaignState
    folder: Path
    swept: tuple[str, ...]
    reused: tuple[str, ...]


def run_campaign(
    campaign: str | os.PathLike[str] | Campaign,
    *,
    workers: int | None = None,
    address: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
    report: bool = True,
    progress: bool = False,
    echo: Callable[[str], None] = print,
) -> CampaignResult:
    """Run (or resume) a campaign: screen → validate, the state and the tracker after every phase.

    Args:
        campaign: a campaign YAML path or a loaded ``Campaign``.
        workers, address: as ``run_sweep`` (evaluator actors; a Ray cluster to join).
        data_dir, results_dir: the data and results folders (defaults as everywhere).
        report: write each phase run's HTML report (says so when ``tradescan.report`` is missing).
        progress: show the sweeps' progress bars.
        echo: where the one-line progress notes go.

    Raises:
        TradeScanError: the campaign file is invalid, a phase run cannot start (frozen, locked), or a
            results file is damaged. A symbol's own failure is recorded, never raised.
    """
    loaded = campaign if isinstance(campaign, Campaign) else load_campaign(campaign)
    _check_resolvable(loaded, data_dir)
    folder = campaign_dir(loaded.campaign_id, results_dir)
    state = read_state(folder) or _new_state(loaded)
    _write_spec(folder, loaded)
    write_state(folder, state)
    if loaded.spec.data.source == "synth":
        synthesize_missing(loaded, Path(data_dir) if data_dir is not None else None, echo)
    runner = _PhaseRunner(loaded, folder, workers, address, data_dir, results_dir, report, progress, echo)
    return runner.run_all(state)


def _check_resolvable(campaign: Campaign, data_dir: str | os.PathLike[str] | None) -> None:
    """Resolve the base directive's strategy, search space and broker now, before anything is written,
    so a misspelt strategy is one line naming the campaign file instead of a failure in a phase."""
    from tradescan.preflight import prepare

    phase, settings = campaign.spec.phases.items()[0]
    directive = campaign.phase_directive(phase, settings, campaign.symbols)
    try:
        prepare(directive, data_dir=data_dir)
    except ConfigError as exc:
        raise ConfigError(f"{campaign.label}: directive: {str(exc).removeprefix(directive.name + ': ')}") from None


def _new_state(campaign: Campaign) -> CampaignState:
    now = utc_now()
    tiers = {member.symbol: member.tier for member in campaign.members}
    return CampaignState(campaign_id=campaign.campaign_id, name=campaign.name, source=campaign.label,
                         started=now, updated=now, tiers=tiers)


def _write_spec(folder: Path, campaign: Campaign) -> None:
    spec = {"campaign": campaign.spec.model_dump(mode="json", by_alias=True),
            "members": [[m.symbol, m.tier] for m in campaign.members], "base": campaign.base.model_dump(mode="json")}
    atomic_write_bytes(folder / "campaign.json", (canonical_json(spec) + "\n").encode("utf-8"))


@dataclass(frozen=True)
class _PhaseRunner:
    campaign: Campaign
    folder: Path
    workers: int | None
    address: str | None
    data_dir: str | os.PathLike[str] | None
    results_dir: str | os.PathLike[str] | None
    report: bool
    progress: bool
    echo: Callable[[str], None]

    def run_all(self, state: CampaignState) -> CampaignResult:
        symbols, swept, reused = self.campaign.symbols, [], []
        phase_names = [name for name, _ in self.campaign.spec.phases.items()]
        for phase, settings in self.campaign.spec.phases.items():
            record = state.phases.get(phase)
            if record is not None and record.status in ("complete", "skipped") and record.symbols == symbols:
                self.echo(f"{phase}: reusing run {record.run_id or '(none)'} (finished earlier)")
                reused.append(phase)
            elif not symbols:
                self.echo(f"{phase}: skipped, no symbol passed the phase before")
                record = PhaseRecord(status="skipped")
            else:
                state, record = self._sweep(state, phase, settings, symbols)
                swept.append(phase)
            state = state.with_phase(phase, record)
            write_state(self.folder, state)
            write_tracker(tracker_rows(state, phase_names), self.results_dir)
            symbols = record.with_verdict("PASS")
        return CampaignResult(state, self.folder, tuple(swept), tuple(reused))

    def _sweep(self, state: CampaignState, phase: PhaseName, settings: PhaseSettings,
               symbols: tuple[str, ...]) -> tuple[CampaignState, PhaseRecord]:
        from tradescan.preflight import prepare
        from tradescan.results import load_run
        from tradescan.sweep import run_sweep

        directive = self.campaign.phase_directive(phase, settings, symbols)
        run_id = prepare(directive, data_dir=self.data_dir).run_id
        state = state.with_phase(phase, PhaseRecord(status="running", run_id=run_id, symbols=symbols))
        write_state(self.folder, state)  # a kill from here on leaves the phase's run named
        self.echo(f"{phase}: sweeping {len(symbols)} symbol(s), {settings.trials} trials, run {run_id}")
        run_sweep(directive, workers=self.workers, address=self.address, data_dir=self.data_dir,
                  results_dir=self.results_dir, progress=self.progress)
        run = load_run(run_id, self.results_dir)
        outcomes = {symbol: judge_symbol(symbol, run.manifest.symbols.get(symbol), run.stage2, run.guards,
                                         settings.pass_rule) for symbol in symbols}
        record = PhaseRecord(status="complete", run_id=run_id, symbols=symbols, outcomes=outcomes,
                             report=self._report(run_id))
        passed = sum(outcome.verdict == "PASS" for outcome in outcomes.values())
        self.echo(f"{phase}: {passed}/{len(symbols)} passed ({settings.pass_rule.describe()})")
        return state, record

    def _report(self, run_id: str) -> str | None:
        if not self.report:
            return None
        from tradescan.report import write_report

        try:
            path = write_report(run_id, results_dir=self.results_dir)
        except TradeScanError as exc:
            self.echo(f"report of {run_id}: not written ({str(exc)[:160]})")
            return None
        self.echo(f"report of {run_id}: {path}")
        return str(path)
