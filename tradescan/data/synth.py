"""Synthetic bars: a seeded, regime-switching random walk with realistic bar ranges.

A fresh checkout has no market data; these bars let the whole pipeline run anyway, so they are made
to look like the real thing where a strategy would notice: prices at the instrument's scale and
precision, volatility that clusters (GARCH(1,1)) and switches between hidden regimes (calm, trending
up, trending down, turbulent — a Markov chain), fat-tailed returns, wicks beyond the bar's body,
opens equal to the previous close except for occasional small gaps (larger after a weekend), and a
trading calendar (FX, metals and indices skip Saturdays and Sundays; crypto trades 24/7).

Every random number comes from one ``numpy.random.default_rng`` seeded with (seed, symbol), drawn in
a fixed order, so the same arguments always give the same bars — and the same bytes once stored.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from numba import njit

from tradescan.data.schema import TIME_DTYPE
from tradescan.data.sources import SyntheticSource
from tradescan.data.timeframes import TIMEFRAME_MINUTES, timeframe_ns, validate_timeframe
from tradescan.errors import DataError
from tradescan.instruments import Instrument
from tradescan.instruments import get as get_instrument

# Typical prices (2020s) so that synthetic bars sit where the real ones do.
START_PRICES: dict[str, float] = {
    "EURUSD": 1.10, "GBPUSD": 1.27, "USDJPY": 150.0, "AUDUSD": 0.66, "NZDUSD": 0.61, "USDCAD": 1.36,
    "USDCHF": 0.88, "EURJPY": 160.0, "GBPJPY": 190.0, "AUDJPY": 98.0, "EURGBP": 0.86, "AUDNZD": 1.09,
    "EURCHF": 0.95, "EURAUD": 1.65, "GBPCHF": 1.12, "CADJPY": 110.0, "XAUUSD": 2000.0, "XAGUSD": 24.0,
    "US500": 4800.0, "US30": 38000.0, "NAS100": 17000.0, "GER40": 17000.0, "UK100": 7700.0,
    "JP225": 33000.0, "BTCUSDT": 40000.0, "ETHUSDT": 2300.0, "BNBUSDT": 300.0, "SOLUSDT": 100.0,
    "ADAUSDT": 0.50, "DOGEUSDT": 0.08, "XRPUSDT": 0.60, "AVAXUSDT": 35.0, "DOTUSDT": 7.0,
    "LINKUSDT": 15.0, "LTCUSDT": 70.0, "TRXUSDT": 0.10,
}  # fmt: skip
ANNUAL_VOLATILITY: dict[str, float] = {
    "fx": 0.08, "metal": 0.16, "index": 0.18, "crypto": 0.65, "stock": 0.30, "commodity": 0.30,
}  # fmt: skip
TRADES_WEEKENDS = frozenset({"crypto"})

# Hidden regimes: volatility multiplier, drift in per-bar sigmas, mean duration in days.
REGIME_VOLATILITY = np.array([0.6, 1.0, 1.0, 2.0])
REGIME_DRIFT_SIGMAS = np.array([0.0, 0.04, -0.04, 0.0])
REGIME_DURATION_DAYS = np.array([12.0, 8.0, 8.0, 3.0])
GARCH_ALPHA, GARCH_BETA = 0.06, 0.92
STUDENT_T_DOF = 5.0
GAP_PROBABILITY, WEEKEND_GAP_PROBABILITY = 0.02, 0.7
GAP_SIGMAS, WEEKEND_GAP_SIGMAS = 0.25, 1.0
WICK_SIGMAS = 0.6
MEAN_REVERSION_HALF_LIFE_DAYS = 365.0
TICKS_PER_MINUTE = 20.0

_NS_PER_DAY = 86_400 * 1_000_000_000


def start_price(instrument: Instrument) -> float:
    """Return a typical price for the instrument: from ``START_PRICES``, else from its precision.

    The fallback ``10 ** (5 - price_precision)`` gives about six significant digits, which is how
    most instruments are quoted (1.23456, 123.456, 12345.6).
    """
    return START_PRICES.get(instrument.symbol, 10.0 ** (5 - instrument.price_precision))


def synthesize(
    symbol: str, timeframe: str, n_bars: int, seed: int, start: str | pd.Timestamp = "2020-01-01"
) -> pd.DataFrame:
    """Return ``n_bars`` synthetic bars for a known instrument (pure: nothing is written).

    Args:
        symbol: an instrument from ``configs/instruments.yaml`` (its asset class and precision set
            the price scale, volatility and calendar).
        timeframe: one of ``TIMEFRAMES``; the per-bar volatility scales with its square root.
        n_bars: how many bars (>= 1).
        seed: the random seed; combined with the symbol so two symbols never share a path.
        start: the first bar's time (UTC), moved forward to the timeframe's grid and past a weekend.

    Returns:
        A bar frame (``time`` UTC, OHLCV float64) that passes validation.

    Raises:
        DataError: bad ``n_bars``, ``timeframe`` or ``start``; UnknownNameError for an unknown symbol.
    """
    instrument = get_instrument(symbol)
    timeframe = validate_timeframe(timeframe)
    if isinstance(n_bars, bool) or not isinstance(n_bars, int | np.integer) or n_bars < 1:
        raise DataError(f"n_bars must be a whole number >= 1, got {n_bars!r}")
    rng = np.random.default_rng([int(seed), zlib.crc32(instrument.symbol.encode())])
    times = bar_times(_start_ns(start), timeframe, int(n_bars), instrument.asset_class in TRADES_WEEKENDS)
    return _bars(rng, times, instrument, timeframe)


def synthetic_source(n_bars: int, seed: int, start: str | pd.Timestamp = "2020-01-01") -> SyntheticSource:
    """Return how the manifest records ``synthesize(..., n_bars, seed, start)`` output.

    Raises:
        DataError: ``start`` is not a time.
    """
    start_text = pd.Timestamp(_start_ns(start), unit="ns", tz="UTC").isoformat()
    return SyntheticSource(seed=int(seed), bars=int(n_bars), start=start_text)


def _start_ns(start: str | pd.Timestamp) -> int:
    try:
        stamp = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise DataError(f"cannot read start {start!r}; use e.g. 2020-01-01") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("ns").value)


def bar_times(start_ns: int, timeframe: str, n_bars: int, weekends: bool) -> np.ndarray:
    """Return ``n_bars`` bar open times (int64 ns) from ``start_ns`` on the timeframe's grid.

    Without ``weekends``, bars opening on a UTC Saturday or Sunday are left out.
    """
    step_ns = timeframe_ns(timeframe)
    first_ns = -(-start_ns // step_ns) * step_ns  # ceil to the grid
    candidates = n_bars if weekends else n_bars * 7 // 5 + 3 * _NS_PER_DAY // step_ns + 2
    times = first_ns + np.arange(candidates, dtype=np.int64) * step_ns
    if not weekends:
        weekday = (times // _NS_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        times = times[weekday < 5]
    return times[:n_bars]


def _bars(rng: np.random.Generator, times: np.ndarray, instrument: Instrument, timeframe: str) -> pd.DataFrame:
    n_bars = len(times)
    minutes = TIMEFRAME_MINUTES[timeframe]
    sigma_bar = ANNUAL_VOLATILITY[instrument.asset_class] * np.sqrt(minutes / (instrument.days_per_year * 1440))
    bars_per_day = 1440 / minutes
    draws = _draws(rng, n_bars)
    after_gap = np.concatenate(([False], np.diff(times) > timeframe_ns(timeframe)))
    gap_log = _gap_log_returns(draws, after_gap, sigma_bar)
    log_close, sigma = _walk_nb(
        draws["leave"], draws["next"], draws["shock"], gap_log, np.log(start_price(instrument)),
        sigma_bar, REGIME_VOLATILITY, REGIME_DRIFT_SIGMAS, np.minimum(1.0, 1.0 / (REGIME_DURATION_DAYS * bars_per_day)),
        GARCH_ALPHA, GARCH_BETA, np.log(2.0) / (MEAN_REVERSION_HALF_LIFE_DAYS * bars_per_day),
    )  # fmt: skip
    return _ohlcv(times, log_close, gap_log, sigma, draws, instrument, minutes * TICKS_PER_MINUTE)


def _draws(rng: np.random.Generator, n_bars: int) -> dict[str, np.ndarray]:
    """Draw every random number up front, in a fixed order (the order is part of the output)."""
    t_scale = np.sqrt(STUDENT_T_DOF / (STUDENT_T_DOF - 2.0))  # unit variance
    return {
        "leave": rng.random(n_bars),
        "next": rng.random(n_bars),
        "shock": rng.standard_t(STUDENT_T_DOF, n_bars) / t_scale,
        "gap_draw": rng.random(n_bars),
        "gap_size": rng.standard_normal(n_bars),
        "wick_up": np.abs(rng.standard_normal(n_bars)),
        "wick_down": np.abs(rng.standard_normal(n_bars)),
        "volume_noise": rng.standard_normal(n_bars),
    }


def _gap_log_returns(draws: dict[str, np.ndarray], after_gap: np.ndarray, sigma_bar: float) -> np.ndarray:
    """Return the log gap between each bar's open and the previous close (mostly zero)."""
    probability = np.where(after_gap, WEEKEND_GAP_PROBABILITY, GAP_PROBABILITY)
    size = np.where(after_gap, WEEKEND_GAP_SIGMAS, GAP_SIGMAS) * sigma_bar
    gaps = np.where(draws["gap_draw"] < probability, draws["gap_size"] * size, 0.0)
    gaps[0] = 0.0
    return gaps


@njit(cache=True)
def _walk_nb(
    leave_draw: np.ndarray,
    next_draw: np.ndarray,
    shock: np.ndarray,
    gap_log: np.ndarray,
    log_start: float,
    sigma_bar: float,
    regime_volatility: np.ndarray,
    regime_drift_sigmas: np.ndarray,
    regime_leave_probability: np.ndarray,
    garch_alpha: float,
    garch_beta: float,
    mean_reversion: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Return log closes and per-bar sigmas of the regime-switching GARCH walk (sequential by nature)."""
    n_bars = len(shock)
    n_regimes = len(regime_volatility)
    log_close = np.empty(n_bars)
    sigma = np.empty(n_bars)
    regime = 0
    variance = 1.0
    previous_shock = 0.0
    previous_log_close = log_start
    for bar in range(n_bars):
        if leave_draw[bar] < regime_leave_probability[regime]:
            regime = (regime + 1 + int(next_draw[bar] * (n_regimes - 1))) % n_regimes
        variance = (1.0 - garch_alpha - garch_beta) + (garch_alpha * previous_shock**2 + garch_beta) * variance
        sigma[bar] = sigma_bar * regime_volatility[regime] * np.sqrt(variance)
        drift = regime_drift_sigmas[regime] * sigma_bar - mean_reversion * (previous_log_close - log_start)
        log_open = previous_log_close + gap_log[bar]
        log_close[bar] = log_open + drift + sigma[bar] * shock[bar]
        previous_shock = shock[bar]
        previous_log_close = log_close[bar]
    return log_close, sigma


def _ohlcv(
    times: np.ndarray,
    log_close: np.ndarray,
    gap_log: np.ndarray,
    sigma: np.ndarray,
    draws: dict[str, np.ndarray],
    instrument: Instrument,
    ticks_per_bar: float,
) -> pd.DataFrame:
    """Turn the walk into rounded OHLCV bars; rounding is monotonic, so the bar rules still hold."""
    precision, tick = instrument.price_precision, 10.0**-instrument.price_precision
    close = np.maximum(np.round(np.exp(log_close), precision), tick)
    first_open = np.round(start_price(instrument), precision)
    previous_close = np.concatenate(([first_open], close[:-1]))
    open_ = np.where(gap_log != 0.0, previous_close * np.exp(gap_log), previous_close)
    open_ = np.maximum(np.round(open_, precision), tick)
    body_high, body_low = np.maximum(open_, close), np.minimum(open_, close)
    high = np.round(body_high * np.exp(WICK_SIGMAS * sigma * draws["wick_up"]), precision)
    low = np.maximum(np.round(body_low * np.exp(-WICK_SIGMAS * sigma * draws["wick_down"]), precision), tick)
    relative_activity = sigma / sigma.mean()
    volume = np.round(ticks_per_bar * relative_activity * np.exp(0.3 * draws["volume_noise"]))
    return pd.DataFrame(
        {
            "time": pd.Series(times.view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIME_DTYPE),
            "open": open_,
            "high": np.maximum(high, body_high),
            "low": np.minimum(low, body_low),
            "close": close,
            "volume": np.maximum(volume, 1.0),
        }
    )
