"""Per-bar cost arrays: the cost of one fill on each bar, for each cost scenario.

A fill's cost depends only on the bar it happens on (spread, and slippage scaled by that bar's true
range over the previous bar's ATR14), never on the strategy, so a session computes it up front as two
``[n_scenarios, n_bars]`` arrays and the kernel reads entry and exit costs from them: ``cost_pips``
(the pip part) and ``cost_fraction`` (the basis-point part as a fraction of price, 1 bps = 1e-4). A
fill at raw price ``p`` on bar ``b`` costs ``cost_pips[b] + cost_fraction[b] * p / pip_size`` pips.

Per side, for a fill on bar ``b`` (DESIGN §4), in each unit (pips, or bps with ``base_bps``,
``atr_k_bps``, ``slippage_add_bps`` and the symbol's ``spread_bps``)::

    ratio    = TR[b] / ATR14[b - 1]            (1.0 where ATR14[b - 1] is not defined, see below)
    core     = base_pips + atr_k * ratio       (times spike_mult when the scenario has spikes and
                                                ratio > spike_tr_atr)
    slippage = core * slippage_mult + slippage_add_pips
    cost     = spread_pips * spread_mult / 2 + slippage

Where ``ATR14[b - 1]`` does not exist (bar 0, the first 14 bars while ATR14 warms up) or is not
positive (a run of flat bars), the ratio is taken as 1.0: the fill pays the "typical bar" slippage
instead of an undefined or infinite one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from tradescan.engine.broker import ScenarioCosts, SlippageModel
from tradescan.indicators._common import bar_true_range


def tr_atr_ratio(true_range: np.ndarray, atr14: np.ndarray) -> np.ndarray:
    """Return ``TR[b] / ATR14[b-1]`` per bar, 1.0 where the previous ATR is undefined or not positive."""
    return _tr_atr_ratio_nb(np.asarray(true_range, dtype=np.float64), np.asarray(atr14, dtype=np.float64))


def tr_atr_ratio_from_prices(high: np.ndarray, low: np.ndarray, close: np.ndarray, atr14: np.ndarray) -> np.ndarray:
    """Return ``tr_atr_ratio`` with each bar's TR computed on the fly (no TR array: one pass less).

    Equal to ``tr_atr_ratio(indicators.true_range(high, low, close), atr14)``: the ratio only reads
    TR where ATR14 of the previous bar is defined, and there both use the same per-bar formula.
    """
    return _tr_atr_ratio_prices_nb(high, low, close, np.asarray(atr14, dtype=np.float64))


@njit(cache=True)
def _tr_atr_ratio_prices_nb(high: np.ndarray, low: np.ndarray, close: np.ndarray, atr14: np.ndarray) -> np.ndarray:
    ratio = np.ones(len(close))
    for b in range(1, len(close)):
        previous_atr = atr14[b - 1]
        if np.isfinite(previous_atr) and previous_atr > 0:
            current_tr = bar_true_range(high[b], low[b], close[b - 1])
            if np.isfinite(current_tr):
                ratio[b] = current_tr / previous_atr
    return ratio


@njit(cache=True)
def _tr_atr_ratio_nb(true_range: np.ndarray, atr14: np.ndarray) -> np.ndarray:
    # One pass, no temporaries: the NumPy form made five arrays of n_bars (a tenth of a backtest).
    ratio = np.ones(len(true_range))
    for b in range(1, len(true_range)):
        previous_atr, current_tr = atr14[b - 1], true_range[b]
        if np.isfinite(previous_atr) and previous_atr > 0 and np.isfinite(current_tr):
            ratio[b] = current_tr / previous_atr
    return ratio


def slippage_pips(ratio: np.ndarray, slippage: SlippageModel, scenario: ScenarioCosts) -> np.ndarray:
    """Return the slippage in pips per bar for one scenario (spike multiplier applied first)."""
    return _fill_cost_pips(np.asarray(ratio, dtype=np.float64), 0.0, slippage, scenario)


def _fill_cost_pips(
    ratio: np.ndarray, half_spread_pips: float, slippage: SlippageModel, scenario: ScenarioCosts
) -> np.ndarray:
    return _fill_cost_pips_nb(
        ratio, half_spread_pips, slippage.base_pips, slippage.atr_k, scenario.spikes, slippage.spike_tr_atr,
        slippage.spike_mult, scenario.slippage_mult, scenario.slippage_add_pips,
    )


@njit(cache=True)
def _fill_cost_pips_nb(
    ratio: np.ndarray, half_spread_pips: float, base_pips: float, atr_k: float, spikes: bool,
    spike_tr_atr: float, spike_mult: float, slippage_mult: float, slippage_add_pips: float,
) -> np.ndarray:
    # One pass for the formula of the module docstring (the NumPy form made six arrays of n_bars).
    out = np.empty(len(ratio))
    for b in range(len(ratio)):
        core_pips = base_pips + atr_k * ratio[b]
        if spikes and ratio[b] > spike_tr_atr:
            core_pips = core_pips * spike_mult
        out[b] = half_spread_pips + (core_pips * slippage_mult + slippage_add_pips)
    return out


def slippage_bps(ratio: np.ndarray, slippage: SlippageModel, scenario: ScenarioCosts) -> np.ndarray:
    """Return the slippage in basis points of price per bar for one scenario (spikes as in pips)."""
    core_bps = slippage.base_bps + slippage.atr_k_bps * ratio
    if scenario.spikes:
        core_bps = np.where(ratio > slippage.spike_tr_atr, core_bps * slippage.spike_mult, core_bps)
    return core_bps * scenario.slippage_mult + scenario.slippage_add_bps


BPS = 1e-4  # one basis point as a fraction of price


def cost_fraction_per_bar(
    true_range: np.ndarray,
    atr14: np.ndarray,
    spread_bps: float,
    slippage: SlippageModel,
    scenarios: Sequence[ScenarioCosts],
    *,
    ratio: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``cost_fraction[n_scenarios, n_bars]``: the bps part of one fill's cost, as a fraction.

    Args:
        true_range, atr14: as for ``cost_pips_per_bar``.
        spread_bps: the symbol's spread in basis points of price (0 when it is given in pips).
        slippage: the symbol's slippage model (its ``base_bps``/``atr_k_bps`` are used here).
        scenarios: the cost scenarios, in the order of the output rows.
        ratio: ``tr_atr_ratio`` already computed (e.g. by ``tr_atr_ratio_from_prices``).
    """
    if ratio is None:
        ratio = tr_atr_ratio(true_range, atr14)
    costs = np.empty((len(scenarios), len(ratio)), dtype=np.float64)
    for row, scenario in enumerate(scenarios):
        costs[row] = (spread_bps * scenario.spread_mult / 2.0 + slippage_bps(ratio, slippage, scenario)) * BPS
    return costs


def cost_pips_per_bar(
    true_range: np.ndarray,
    atr14: np.ndarray,
    spread_pips: float,
    slippage: SlippageModel,
    scenarios: Sequence[ScenarioCosts],
    *,
    ratio: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``cost_pips[n_scenarios, n_bars]``: the cost of one fill (one side) on each bar.

    Args:
        true_range: TR per bar (price units); NaN on bar 0 is fine (unused when ``ratio`` is given).
        atr14: Wilder ATR(14) per bar (price units), NaN during its warm-up.
        spread_pips: the symbol's spread from the broker profile.
        slippage: the profile's slippage model.
        scenarios: the cost scenarios, in the order of the output rows.
        ratio: ``tr_atr_ratio`` already computed (e.g. by ``tr_atr_ratio_from_prices``).
    """
    if ratio is None:
        ratio = tr_atr_ratio(true_range, atr14)
    costs = np.empty((len(scenarios), len(ratio)), dtype=np.float64)
    for row, scenario in enumerate(scenarios):
        costs[row] = _fill_cost_pips(ratio, spread_pips * scenario.spread_mult / 2.0, slippage, scenario)
    return costs
