"""The report's content: which sections, tables and figures a run gets, in page order (pure).

``build_page(inputs)`` returns the page text from ``ReportInputs``; nothing here reads files or the
clock, so a run's report is the same bytes every time (its times come from the manifest).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tradescan.metrics import breakdown
from tradescan.report import landscape, validation
from tradescan.report.finalist import equity_drawdown_figure, r_distribution_figure
from tradescan.report.frames import (
    complete_trials,
    finalist_rows,
    monthly_returns,
    scenario_columns,
    varying_params,
)
from tradescan.report.html import Page, escape, links, returns_colour
from tradescan.report.inputs import ReportInputs
from tradescan.results.stored_trades import not_stored_text, trades_stored

STAGE2_METRICS = ("trades", "sharpe", "sortino", "profit_factor", "net_pnl", "total_return", "max_drawdown_pct",
                  "win_rate", "expectancy_r", "cvar95_pips")
BREAKDOWN_BY = (("regime", "regime"), ("side", "side"), ("exit_reason", "exit reason"))
BREAKDOWN_METRICS = ("trades", "win_rate", "expectancy_r", "profit_factor", "net_pnl", "net_pips")
GUARD_COLUMNS = ("guard", "value", "threshold", "passed", "critical", "detail")
FOLD_COLUMNS = ("fold", "train_start", "train_end", "test_start", "test_end", "is_return", "oos_return",
                "oos_sharpe", "oos_trades")


def build_page(inputs: ReportInputs) -> str:
    """Return the report page of one run."""
    page = Page(f"Trade_Scan report {inputs.run_id}")
    _header(page, inputs)
    for symbol in inputs.symbols:
        _symbol_section(page, inputs, symbol)
    return page.render()


def _header(page: Page, inputs: ReportInputs) -> None:
    manifest, directive = inputs.manifest, inputs.manifest.directive
    page.heading(1, f"Run {inputs.run_id}")
    finished = manifest.finished.isoformat() if manifest.finished else "not finished"
    page.paragraph(
        f"strategy {directive.get('strategy')} · timeframe {directive.get('timeframe')} · status {manifest.status} · "
        f"started {manifest.started.isoformat()} · finished {finished} · stage 1 maximised {manifest.objective.name} "
        f"on scenario {manifest.objective.scenario} (fewer than {manifest.objective.min_trades} trades penalised)",
        "note")
    statuses = pd.DataFrame([
        {"symbol": s, "status": e.status, "trials": e.trials.total if e.trials else None,
         "best stage-1 value": e.stage1.best_value if e.stage1 else None,
         "note": e.error or "; ".join(e.reasons)} for s, e in manifest.symbols.items()])
    if not statuses.empty:
        page.table(statuses)
    page.raw(links([(f"sym-{s}", s) for s in inputs.symbols]))


def _symbol_section(page: Page, inputs: ReportInputs, symbol: str) -> None:
    page.heading(2, symbol, anchor=f"sym-{symbol}")
    entry = inputs.manifest.symbols.get(symbol)
    if entry is not None and entry.status != "DONE":
        page.paragraph(f"{symbol}: {entry.status} — {entry.error or '; '.join(entry.reasons) or 'no detail'}", "bad")
    _landscape(page, inputs, symbol)
    stage2 = inputs.stage2[inputs.stage2["symbol"] == symbol] if not inputs.stage2.empty else inputs.stage2
    if stage2.empty:
        page.paragraph("No stage-2 finalists.", "note")
        return
    page.heading(3, "Stage 2: finalists under every scenario")
    page.table(stage2_table(stage2))
    _symbol_validation(page, inputs, symbol)
    for rank in sorted({int(r) for r in stage2["rank"]}):
        _finalist_section(page, inputs, symbol, rank, stage2[stage2["rank"] == rank])


def _landscape(page: Page, inputs: ReportInputs, symbol: str) -> None:
    trials = complete_trials(inputs.trials, symbol) if not inputs.trials.empty else inputs.trials
    page.heading(3, "Stage 1: the landscape")
    if trials.empty:
        page.paragraph("No complete stage-1 trials.", "note")
        return
    objective = f"{inputs.manifest.objective.name} {inputs.manifest.objective.scenario}"
    page.figure(landscape.history_figure(trials, objective))
    names = varying_params(trials)
    importances = landscape.param_importances(trials, names)
    if importances:
        page.figure(landscape.importance_figure(importances))
    else:
        page.paragraph(f"Importances need at least {landscape.MIN_TRIALS_FOR_IMPORTANCE} complete trials, two "
                       f"varying parameters and more than one value ({len(trials)} trials, {len(names)} varying "
                       f"parameters, {trials['value'].nunique()} distinct values).", "note")
    params = landscape.heatmap_params(importances, names)
    if len(params) >= 2:
        page.figure(landscape.heatmaps_figure(trials, params, objective))


def stage2_table(stage2: pd.DataFrame) -> pd.DataFrame:
    """Return one row per finalist × scenario: rank, trial, stage-1 value, scenario and key metrics."""
    columns = ["rank", "trial", "stage1_value", "scenario", *(m for m in STAGE2_METRICS if m in stage2.columns)]
    table = stage2.sort_values(["rank", "scenario"], kind="stable")[[*columns, "error"]]
    table = table.rename(columns={"stage1_value": "stage 1 value"})
    if table["error"].isna().all():
        table = table.drop(columns="error")
    return table.reset_index(drop=True)


def _symbol_validation(page: Page, inputs: ReportInputs, symbol: str) -> None:
    logits = validation.series_values(inputs.guard_series, symbol, 0, validation.PBO_LOGIT)
    summary = inputs.guards_summary.get("symbols", {}).get(symbol, {})
    if summary:
        page.paragraph(guard_summary_text(summary), "note")
    if len(logits):
        page.figure(validation.histogram_figure(
            logits, title="PBO: logits of the in-sample best trial's out-of-sample rank (≤ 0 = overfit)",
            x_title="logit λ", marker=0.0, marker_label="λ = 0"))


def guard_summary_text(summary: Mapping[str, Any]) -> str:
    """One sentence of a symbol's guard-stage summary (the manifest's ``guards.symbols[S]``), e.g.
    ``Guard stage: DSR 0.0003, PBO 0.445, WFE -12.1 over 100 trials (effective 40.8); 9.5 s.``"""

    def number(value: Any) -> str:
        return "n/a" if value is None else f"{float(value):.3g}"

    text = (f"Guard stage: DSR {number(summary.get('dsr'))}, PBO {number(summary.get('pbo'))}, "
            f"WFE {number(summary.get('wfe'))} over {summary.get('n_trials', 'n/a')} trials "
            f"(effective {number(summary.get('n_eff_trials'))})")
    total = (summary.get("seconds") or {}).get("total")
    text += f"; {float(total):.1f} s." if total is not None else "."
    missing = summary.get("not_reported") or {}
    if missing:
        text += " Not reported: " + "; ".join(f"{what} ({why})" for what, why in missing.items()) + "."
    return text


def _finalist_section(page: Page, inputs: ReportInputs, symbol: str, rank: int, stage2: pd.DataFrame) -> None:
    first = stage2.iloc[0]
    page.heading(3, f"{symbol} finalist #{rank} (trial {int(first['trial'])})", anchor=f"sym-{symbol}-{rank}")
    params = json.loads(first["params_json"]) if isinstance(first["params_json"], str) else {}
    page.paragraph("parameters: " + ", ".join(f"{k}={_param(v)}" for k, v in params.items()), "note")
    _guards(page, inputs, symbol, rank)
    equity = finalist_rows(inputs.equity, symbol, rank)
    trades = finalist_rows(inputs.trades, symbol, rank)
    scenarios = scenario_columns(equity) if not equity.empty else []
    if equity.empty:
        page.paragraph("No equity stored for this finalist (its stage-2 backtest failed).", "bad")
        return
    page.figure(equity_drawdown_figure(equity, scenarios, f"#{rank} equity and drawdown per scenario"))
    scenario = inputs.manifest.objective.scenario if inputs.manifest.objective.scenario in scenarios else scenarios[0]
    page.heading(4, f"Monthly returns % (scenario {scenario})")
    page.table(monthly_returns(equity, scenario), index=True, cell_style=returns_colour)
    if not trades_stored(inputs.manifest, symbol, rank):
        page.paragraph(f"Trades not stored: {not_stored_text(inputs.manifest, symbol, rank)}.", "note")
    elif trades.empty:
        page.paragraph("No trades.", "note")
    else:
        page.figure(r_distribution_figure(trades, scenarios, f"#{rank} R distribution per scenario"))
        _breakdowns(page, trades)
    _finalist_validation(page, inputs, symbol, rank)


def _breakdowns(page: Page, trades: pd.DataFrame) -> None:
    for column, label in BREAKDOWN_BY:
        if column not in trades.columns:
            continue
        table = breakdown(trades, column)[list(BREAKDOWN_METRICS)]
        page.heading(4, f"By {label}")
        page.table(table, index=True)


def _guards(page: Page, inputs: ReportInputs, symbol: str, rank: int) -> None:
    rows = finalist_rows(inputs.guards, symbol, rank) if not inputs.guards.empty else inputs.guards
    if rows.empty:
        return
    result = validation.verdict(rows)
    page.raw(f'<p class="{"ok" if result.prod_ready else "bad"}">Verdict: {escape(result.label())}</p>')
    table = rows[list(GUARD_COLUMNS)].copy()
    table["passed"] = table["passed"].astype(bool)
    table["critical"] = table["critical"].astype(bool)
    page.table(table)


def _finalist_validation(page: Page, inputs: ReportInputs, symbol: str, rank: int) -> None:
    series = inputs.guard_series
    objective = inputs.manifest.objective.name
    drawdowns = validation.series_values(series, symbol, rank, validation.MC1_MAX_DRAWDOWN)
    if len(drawdowns):
        page.figure(validation.histogram_figure(
            drawdowns * 100.0, title="MC1: max drawdown over block-bootstrapped trade sequences",
            x_title="max drawdown %", marker=float(np.quantile(drawdowns * 100.0, 0.99)), marker_label="worst 1 %"))
    pnl = validation.series_values(series, symbol, rank, validation.MC2_NET_PNL)
    if len(pnl):
        page.figure(validation.histogram_figure(
            pnl, title="MC2: net PnL under random spread/slippage multipliers", x_title="net PnL",
            marker=0.0, marker_label="0"))
    sharpes = validation.series_values(series, symbol, rank, validation.MC_PERM_SHARPE)
    if len(sharpes):
        page.figure(validation.histogram_figure(
            sharpes, title="Permutation test: Sharpe on permuted bars", x_title="Sharpe"))
    sensitivity = validation.series_values(series, symbol, rank, validation.SENSITIVITY_VALUE)
    if len(sensitivity):
        page.figure(validation.sensitivity_figure(sensitivity, objective))
    _walk_forward(page, inputs, symbol, rank)


def _walk_forward(page: Page, inputs: ReportInputs, symbol: str, rank: int) -> None:
    folds = finalist_rows(inputs.walk_forward, symbol, rank) if not inputs.walk_forward.empty else inputs.walk_forward
    oos_equity = validation.series_values(inputs.guard_series, symbol, rank, validation.WF_OOS_EQUITY)
    if folds.empty and not len(oos_equity):
        return
    page.heading(4, "Walk-forward folds")
    if not folds.empty:
        folds = folds.sort_values("fold", kind="stable")
        table = folds[list(FOLD_COLUMNS)].copy()
        for column in ("train_start", "train_end", "test_start", "test_end"):
            table[column] = pd.DatetimeIndex(table[column]).strftime("%Y-%m-%d")
        page.table(table)
        page.figure(validation.walk_forward_figure(folds, "In-sample vs out-of-sample return per fold"))
    if len(oos_equity):
        page.figure(validation.line_figure(oos_equity, title="Walk-forward: concatenated out-of-sample equity",
                                           x_title="day", y_title="equity"))


def _param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
