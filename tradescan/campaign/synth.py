"""``synthesize_missing``: make seeded synthetic bars for universe symbols that have no data.

Only when the campaign says ``data: {source: synth}``. Data that is there is never replaced (a user's own
EURUSD stays as it is, and a dataset that no longer matches its recorded hash stops the campaign, as in
``tradescan quickstart``); a symbol that cannot be synthesised is reported and left without data, so the
phase run records it as BLOCKed and the other symbols go on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tradescan.campaign.load import Campaign
from tradescan.errors import DataError, TradeScanError, UnknownNameError

__all__ = ["synthesize_missing"]


def synthesize_missing(campaign: Campaign, data_dir: str | Path | None, echo: Callable[[str], None]) -> list[str]:
    """Synthesise and store every universe symbol without data; return the symbols written.

    Raises:
        DataError: a present dataset is damaged or does not match the data manifest.
    """
    from tradescan import data

    settings, timeframe = campaign.spec.data, campaign.base.timeframe
    written = []
    for symbol in campaign.symbols:
        if data.dataset_path(symbol, timeframe, data_dir).exists():
            data.dataset_hash(symbol, timeframe, data_dir=data_dir)  # refuses a tampered dataset
            continue
        try:
            frame = data.synthesize(symbol, timeframe, settings.bars, seed=settings.seed)
        except (UnknownNameError, DataError) as exc:
            echo(f"{symbol}: not synthesised ({str(exc)[:160]})")
            continue
        source = data.synthetic_source(settings.bars, settings.seed)
        try:
            data.write_dataset(frame, symbol, timeframe, data_dir=data_dir, source=source, may_replace=())
        except TradeScanError as exc:
            raise DataError(f"{symbol} {timeframe}: could not store synthetic bars: {exc}") from None
        written.append(symbol)
        echo(f"synthesised {settings.bars:,} {timeframe} bars of {symbol} (seed {settings.seed})")
    return written
