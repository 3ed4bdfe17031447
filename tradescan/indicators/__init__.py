"""Technical indicators on NumPy arrays: NumPy in, float64 NumPy out, NaN during warm-up.

One module per family: ``moving_averages`` (sma, ema, kama), ``volatility`` (true_range, atr,
bollinger_bands, atr_distance), ``trend`` (adx, macd), ``momentum`` (rsi, stochastic, cci),
``rolling`` (rolling_zscore, rolling_max, rolling_min, donchian, shift, slope), ``tradingview``
(atr_tradingview, supertrend) and ``fused`` (ema_pair_atr_adx: two EMAs, ATR and ADX in one pass,
equal bit for bit to the four functions); every public name is importable from ``tradescan.indicators``.

Equal to TA-Lib: ``sma``, ``ema``, ``kama``, ``true_range``, ``atr``, ``adx``, ``macd``, ``rsi``,
``stochastic``, ``cci``, ``bollinger_bands``, ``rolling_max``/``rolling_min`` (and so ``donchian``)
reproduce TA-Lib's ``SMA``, ``EMA``, ``KAMA``, ``TRANGE``, ``ATR``, ``ADX``, ``MACD``, ``RSI``,
``STOCH``, ``CCI``, ``BBANDS``, ``MAX``/``MIN`` value for value wherever TA-Lib gives a value, with
TA-Lib's NaN lead (SMA-seeded EMA, Wilder smoothing, TA-Lib's order of floating point operations),
so anyone can check them against a library they trust. ``supertrend`` and ``atr_tradingview`` equal
TradingView's ``ta.supertrend`` and ``ta.atr`` instead (TA-Lib has no SuperTrend).

NaN inputs:
    * Leading NaNs are skipped, as TA-Lib's Python wrapper does: the indicator starts at the first bar
      where every input is a number, and its warm-up counts from there.
    * A NaN after that point poisons every later value of the recursive and running-sum indicators
      (``ema``, ``sma``, ``kama``, ``atr``, ``adx``, ``macd``, ``rsi``, ``stochastic``,
      ``bollinger_bands``, ``atr_tradingview``, ``supertrend``), as in TA-Lib. Bars never contain NaN
      (the data layer rejects them), so this only concerns derived series.
    * The window indicators ``cci``, ``donchian``, ``rolling_zscore``, ``rolling_max`` and
      ``rolling_min`` are NaN wherever their window holds a NaN and recover once it has left the window.

Strategies share indicators across the trials of a sweep through the bars' cache. ``cached(bars,
rsi, 14)`` derives the key from the function and its arguments; written by hand for ``Bars.cached``
the keys are the same: ``("ema", period)`` (EMA of the close), ``("sma", period)``, ``("kama",
period)``, ``("rsi", period)``, ``("atr", period)``, ``("adx", period)``, ``("true_range",)``,
``("cci", period)``, ``("atr_tradingview", period)``, and for the NamedTuple results one entry per
field: ``("macd", fast, slow, signal, "macd"|"signal"|"histogram")``, ``("bollinger_bands", period,
num_std, "upper"|"middle"|"lower")``, ``("stochastic", fastk, slowk, slowd, "k"|"d")``,
``("donchian", period, "upper"|"middle"|"lower")``, ``("supertrend", factor, atr_period,
"line"|"direction")``. A key names the function and every argument.

The compiled kernels (``*_nb``: NumPy arrays and ints in, arrays out, no checks) are exported too,
for callers inside ``@njit`` code.
"""

from __future__ import annotations

from tradescan.indicators.cache import cached
from tradescan.indicators.fused import TrendSet, ema_pair_atr_adx, ema_pair_atr_adx_nb
from tradescan.indicators.momentum import Stochastic, cci, cci_nb, rsi, rsi_nb, stochastic, stochastic_nb
from tradescan.indicators.moving_averages import ema, ema_nb, kama, kama_nb, sma, sma_nb
from tradescan.indicators.rolling import (
    DonchianChannel,
    donchian,
    rolling_max,
    rolling_max_nb,
    rolling_min,
    rolling_min_nb,
    rolling_zscore,
    rolling_zscore_nb,
    shift,
    slope,
)
from tradescan.indicators.tradingview import (
    SUPERTREND_DOWN,
    SUPERTREND_UP,
    SuperTrend,
    atr_tradingview,
    atr_tradingview_nb,
    supertrend,
    supertrend_nb,
)
from tradescan.indicators.trend import MACD, adx, adx_nb, macd, macd_nb
from tradescan.indicators.volatility import (
    BollingerBands,
    atr,
    atr_distance,
    atr_nb,
    bollinger_bands,
    true_range,
    true_range_nb,
)

__all__ = [
    "MACD",
    "SUPERTREND_DOWN",
    "SUPERTREND_UP",
    "BollingerBands",
    "DonchianChannel",
    "Stochastic",
    "SuperTrend",
    "TrendSet",
    "adx",
    "adx_nb",
    "atr",
    "atr_distance",
    "atr_nb",
    "atr_tradingview",
    "atr_tradingview_nb",
    "bollinger_bands",
    "cached",
    "cci",
    "cci_nb",
    "donchian",
    "ema",
    "ema_nb",
    "ema_pair_atr_adx",
    "ema_pair_atr_adx_nb",
    "kama",
    "kama_nb",
    "macd",
    "macd_nb",
    "rolling_max",
    "rolling_max_nb",
    "rolling_min",
    "rolling_min_nb",
    "rolling_zscore",
    "rolling_zscore_nb",
    "rsi",
    "rsi_nb",
    "shift",
    "slope",
    "sma",
    "sma_nb",
    "stochastic",
    "stochastic_nb",
    "supertrend",
    "supertrend_nb",
    "true_range",
    "true_range_nb",
]
