"""Which finalists' trades a run stores, and what readers say about the others.

Every finalist's trades under every scenario made the results folder big (the headline run: 50
finalists x 3 scenarios x ~3,600 trades = 547k rows, ~30 MB per symbol; pnl, prices and costs are
high-entropy doubles that no lossless codec shrinks much). A sweep therefore stores the trades of the
best ``TRADES_TOP`` finalists of each symbol (what ``tradescan top`` lists by default), under every
stage-2 scenario; ``--all-trades`` (``run_sweep(all_trades=True)``) keeps every finalist's. Every
finalist's metrics and daily equity are always stored, and the guard stage of the sweep reads every
finalist's trades from memory; ``tradescan validate`` re-runs the backtests of the finalists whose
trades were not stored (deterministic), so it reproduces the sweep's guard numbers exactly.

The manifest records the policy (``stored_trades.top``) and, per symbol, the ranks stored
(``symbols[S].stage2.trades_ranks``). Readers never show a missing finalist as an empty table: they
say that its trades were not stored and how to get them (``not_stored_text``).
"""

from __future__ import annotations

from tradescan.errors import TradeScanError
from tradescan.results.manifest import RunManifest

TRADES_TOP = 10

__all__ = ["TRADES_TOP", "TradesNotStored", "not_stored_text", "policy_text", "stored_ranks", "trades_stored"]


class TradesNotStored(TradeScanError):
    """A finalist's trades were not stored by its run (the run's trades policy); the message says how to get them."""


def stored_ranks(manifest: RunManifest, symbol: str) -> frozenset[int] | None:
    """Return the ranks of ``symbol`` whose trades the run stores, or ``None`` when every finalist's are."""
    entry = manifest.symbols.get(symbol)
    stage2 = entry.stage2 if entry is not None else None
    if stage2 is None or stage2.trades_ranks is None:
        return None
    return frozenset(stage2.trades_ranks)


def trades_stored(manifest: RunManifest, symbol: str, rank: int) -> bool:
    """Return whether the run stores the trades of finalist ``rank`` of ``symbol`` (a failed one has none)."""
    ranks = stored_ranks(manifest, symbol)
    return ranks is None or rank in ranks


def policy_text(manifest: RunManifest) -> str:
    """Return the run's trades policy in words, e.g. ``the trades of finalists 1-10 of each symbol``."""
    top = manifest.stored_trades.top
    if top is None:
        return "every finalist's trades"
    return f"the trades of finalist{' 1' if top == 1 else f's 1-{top}'} of each symbol"


def not_stored_text(manifest: RunManifest, symbol: str, rank: int) -> str:
    """Return why finalist ``rank`` of ``symbol`` has no stored trades and how to get them."""
    run_id = manifest.run_id
    return (f"the trades of {symbol} finalist #{rank} were not stored: run {run_id} keeps {policy_text(manifest)} "
            f"(sweep with --all-trades to keep every finalist's); to see them, run "
            f"'tradescan top {run_id} --symbol {symbol} --rank {rank} --format yaml > f.yaml' and "
            f"'tradescan backtest --params-file f.yaml --out DIR'")
