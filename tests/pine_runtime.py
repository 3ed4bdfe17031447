"""Run a Pine Script v5/v6 indicator or strategy offline on our bars (a test helper, not a test).

TradingView's engine is not available offline; PyneCore (``pynesys-pynecore``) is a Python runtime of
Pine's semantics (series, ``ta.*``, the strategy broker emulator) validated against TradingView, and
``opencode-pine2pyne`` transpiles Pine source into PyneCore's Python. Both are test-only
dependencies (the ``pine`` extra; ``dev`` includes it); without them the helpers skip the calling
test with the reason and the install command. docs/ARCHITECTURE.md ("Pine runtime") records the API
and its quirks.

    trades = run_pine_strategy(pine_source, bars)        # bars: a frame as tradescan.data.load returns
    plots = run_pine_indicator(pine_source, bars)        # one row per bar, one column per plot title

A strategy must set its capital, order size and margin in ``strategy()``: with TradingView's
defaults (margin 100 %) a position that outgrows the equity is liquidated by a margin call, which no
Trade_Scan backtest models; ``margin_long=0, margin_short=0`` turns the margin check off.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradescan.data.timeframes import TIMEFRAME_MINUTES
from tradescan.instruments import Instrument

INSTALL_HINT = "the Pine runtime is a test extra: pip install -e .[pine]"
# Pine's timeframe.period strings for our timeframes.
PINE_PERIODS: dict[str, str] = {"M1": "1", "M5": "5", "M15": "15", "M30": "30", "H1": "60", "H4": "240", "D1": "1D"}
_PINE_TYPES = {"fx": "forex", "crypto": "crypto", "metal": "commodity", "index": "index", "stock": "stock"}
# The per-bar columns PyneCore writes before the plots.
_BAR_COLUMNS = ("time", "open", "high", "low", "close", "volume")
TRADE_COLUMNS = (
    "trade",
    "side",
    "entry_bar",
    "entry_time",
    "entry_price",
    "entry_signal",
    "exit_bar",
    "exit_time",
    "exit_price",
    "exit_signal",
    "contracts",
    "profit",
    "open_at_end",
)


@dataclass(frozen=True)
class PineSymbol:
    """What Pine's ``syminfo`` says about the chart's symbol (prices are rounded to ``mintick``).

    Attributes:
        ticker, currency, basecurrency, type: ``syminfo.*`` (``currency`` is the quote currency).
        mintick: price tick; TradingView rounds order prices onto it.
        pointvalue: account-currency value of a one-unit price move per contract.
        mincontract: order sizes are truncated to multiples of this.
    """

    ticker: str = "EURUSD"
    currency: str = "USD"
    basecurrency: str | None = "EUR"
    type: str = "forex"
    mintick: float = 0.00001
    pointvalue: float = 1.0
    mincontract: float = 1.0

    @classmethod
    def of(cls, instrument: Instrument, *, mincontract: float = 1.0) -> PineSymbol:
        """Return the symbol info of one of our instruments (tick = 10^-price_precision)."""
        return cls(
            ticker=instrument.symbol,
            currency=instrument.quote,
            basecurrency=instrument.base,
            type=_PINE_TYPES.get(instrument.asset_class, "other"),
            mintick=10.0**-instrument.price_precision,
            mincontract=mincontract,
        )


def require_pine_runtime() -> None:
    """Skip the calling test, saying what to install, when PyneCore or pine2pyne is missing."""
    pytest.importorskip("pynecore", reason=f"pynesys-pynecore is not installed; {INSTALL_HINT}")
    pytest.importorskip("pine2pyne", reason=f"opencode-pine2pyne is not installed; {INSTALL_HINT}")


def transpile(pine_source: str) -> str:
    """Return the PyneCore Python of a Pine v5/v6 script (pine2pyne raises on what it cannot read)."""
    require_pine_runtime()
    import pine2pyne

    return str(pine2pyne.transpile(pine_source))


def run_pine_strategy(
    pine_source: str,
    bars: pd.DataFrame,
    *,
    symbol: PineSymbol | None = None,
    timeframe: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Backtest a Pine strategy on ``bars`` and return its list of trades, one row per trade.

    Args:
        pine_source: the script (``//@version=5`` or ``6``, ``strategy(...)``).
        bars: ``time`` (UTC) and ``open high low close [volume]``, oldest first.
        symbol: the chart symbol (default: ``PineSymbol()``, EURUSD with a 0.00001 tick).
        timeframe: ``M1`` .. ``D1`` (default: read off the bar spacing).
        inputs: values for the script's inputs, keyed by the transpiled ``main()`` parameter names.
        settings: ``strategy()`` arguments to override (``initial_capital``, ``commission_value``, ...).

    Returns:
        ``TRADE_COLUMNS``: ``side`` is ``long``/``short``; bars are positions in ``bars`` (the fill
        bars: an order sent at the close of bar t fills on bar t + 1), times their ``time``; a trade
        still open after the last bar is marked ``open_at_end`` and "exits" at the last close, as
        TradingView's list of trades shows it.
    """
    with _PineRun(pine_source, bars, symbol, timeframe, inputs, settings) as outputs:
        rows = pd.read_csv(outputs / "trades.csv") if (outputs / "trades.csv").exists() else None
    return _trades_frame(rows, bars)


def run_pine_indicator(
    pine_source: str,
    bars: pd.DataFrame,
    *,
    symbol: PineSymbol | None = None,
    timeframe: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run a Pine indicator on ``bars``; return ``time`` and one float column per ``plot`` title.

    Pine's ``na`` reads as NaN. Plots are per bar, so ``len(result) == len(bars)``.
    """
    with _PineRun(pine_source, bars, symbol, timeframe, inputs, None) as outputs:
        plots = pd.read_csv(outputs / "plots.csv")
    if len(plots) != len(bars):
        raise AssertionError(f"the Pine runtime wrote {len(plots)} plot rows for {len(bars)} bars")
    values = plots.drop(columns=[name for name in _BAR_COLUMNS if name in plots.columns]).astype(np.float64)
    return pd.concat([bars["time"].reset_index(drop=True), values], axis=1)


class _PineRun:
    """Transpile the script into a fresh folder, run it on the bars, expose the folder of outputs."""

    def __init__(
        self,
        pine_source: str,
        bars: pd.DataFrame,
        symbol: PineSymbol | None,
        timeframe: str | None,
        inputs: Mapping[str, Any] | None,
        settings: Mapping[str, Any] | None,
    ) -> None:
        require_pine_runtime()
        self.python_source = transpile(pine_source)
        self.bars, self.symbol = bars, symbol or PineSymbol()
        self.period = PINE_PERIODS[timeframe or _timeframe_of(bars)]
        self.inputs, self.settings = dict(inputs or {}), dict(settings or {})
        self.folder = tempfile.TemporaryDirectory(prefix="pine_")

    def __enter__(self) -> Path:
        from pynecore.core.script_runner import ScriptRunner

        outputs = Path(self.folder.name)
        digest = hashlib.sha256(self.python_source.encode()).hexdigest()[:12]
        script = outputs / f"script_{digest}.py"
        script.write_text(self.python_source, encoding="utf-8")
        os.environ.setdefault("PYNE_SAVE_SCRIPT_TOML", "0")  # no .toml beside the script
        runner = ScriptRunner(
            script,
            _ohlcv(self.bars),
            _syminfo(self.symbol, self.period),
            plot_path=outputs / "plots.csv",
            trade_path=outputs / "trades.csv",
            inputs=self.inputs or None,
            settings=self.settings or None,
        )
        runner.run()
        return outputs

    def __exit__(self, *exc_info: object) -> None:
        self.folder.cleanup()


def _timeframe_of(bars: pd.DataFrame) -> str:
    gaps = np.diff(bars["time"].to_numpy("datetime64[ns]").astype(np.int64)) // 60_000_000_000
    if len(gaps) == 0:
        raise ValueError("give timeframe= for a single bar")
    minutes = int(np.bincount(gaps[gaps > 0]).argmax())
    for name, length in TIMEFRAME_MINUTES.items():
        if length == minutes:
            return name
    raise ValueError(f"bars {minutes} min apart are no timeframe of {sorted(PINE_PERIODS)}; give timeframe=")


def _ohlcv(bars: pd.DataFrame) -> list[Any]:
    from pynecore.types.ohlcv import OHLCV

    times_ms = pd.to_datetime(bars["time"], utc=True).dt.as_unit("ms").astype(np.int64).to_numpy()
    volume = bars["volume"].to_numpy(np.float64) if "volume" in bars else np.zeros(len(bars))
    columns = [bars[name].to_numpy(np.float64) for name in ("open", "high", "low", "close")]
    return [
        OHLCV(int(stamp), float(open_), float(high), float(low), float(close), float(size))
        for stamp, open_, high, low, close, size in zip(times_ms, *columns, volume, strict=True)
    ]


def _syminfo(symbol: PineSymbol, period: str) -> Any:
    """A 24/7 symbol in UTC, so that no session rule of the runtime hides a bar."""
    from pynecore.core.syminfo import SymInfo, SymInfoInterval, SymInfoSession

    days = range(7)
    return SymInfo(
        prefix="TRADESCAN",
        description=symbol.ticker,
        ticker=symbol.ticker,
        currency=symbol.currency,
        basecurrency=symbol.basecurrency,
        period=period,
        type=symbol.type,
        mintick=symbol.mintick,
        pricescale=round(1.0 / symbol.mintick),
        minmove=1,
        pointvalue=symbol.pointvalue,
        mincontract=symbol.mincontract,
        opening_hours=[SymInfoInterval(day=day, start=clock_time(0, 0), end=clock_time(23, 59, 59)) for day in days],
        session_starts=[SymInfoSession(day=day, time=clock_time(0, 0)) for day in days],
        session_ends=[SymInfoSession(day=day, time=clock_time(23, 59, 59)) for day in days],
        timezone="UTC",
    )


def _trades_frame(rows: pd.DataFrame | None, bars: pd.DataFrame) -> pd.DataFrame:
    """Pair the runtime's entry and exit rows (TradingView's "List of trades") into one row per trade."""
    if rows is None or rows.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in TRADE_COLUMNS})
    price = next(name for name in rows.columns if name.startswith("Price "))
    profit = next(name for name in rows.columns if name.startswith("Profit ") and not name.endswith("%"))
    entries = rows[rows["Type"].str.startswith("Entry")].set_index("Trade #")
    exits = rows[rows["Type"].str.startswith("Exit")].set_index("Trade #").loc[entries.index]
    times = pd.to_datetime(bars["time"], utc=True).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "trade": entries.index.to_numpy(np.int64),
            "side": np.where(entries["Type"].str.endswith("long"), "long", "short"),
            "entry_bar": entries["Bar Index"].to_numpy(np.int64),
            "entry_price": entries[price].to_numpy(np.float64),
            "entry_signal": entries["Signal"].astype(str).to_numpy(),
            "exit_bar": exits["Bar Index"].to_numpy(np.int64),
            "exit_price": exits[price].to_numpy(np.float64),
            "exit_signal": exits["Signal"].astype(str).to_numpy(),
            "contracts": entries["Contracts"].to_numpy(np.float64),
            "profit": exits[profit].to_numpy(np.float64),
            "open_at_end": (exits["Signal"].astype(str) == "Open").to_numpy(),
        }
    )
    frame.insert(3, "entry_time", times.iloc[frame["entry_bar"]].reset_index(drop=True))
    frame.insert(7, "exit_time", times.iloc[frame["exit_bar"]].reset_index(drop=True))
    return frame[list(TRADE_COLUMNS)].reset_index(drop=True)
