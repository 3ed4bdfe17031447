"""``BacktestSession``: one symbol's bars and settings, evaluated for many parameter sets.

Everything that depends only on the bars and the settings — TR and ATR14, the per-scenario cost
arrays, the regime codes, the value of a price unit in account currency, the index of each day's
last bar — is computed once per session (the ATR14-based arrays on the first evaluation, after the
strategy's own indicators, so a strategy's ATR(14) is shared and not computed twice). ``evaluate``
then costs one strategy call (whose indicators the ``Bars`` cache keeps across calls), one kernel
pass for all scenarios and the metrics; it never touches pandas. ``run`` does the same and builds
the full ``BacktestResult`` frames.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from tradescan import indicators, metrics
from tradescan._signal_check import any_nonzero_nb, any_number_nb
from tradescan.bars import Bars
from tradescan.engine.broker import ScenarioCosts, resolve_scenarios
from tradescan.engine.capital import price_value
from tradescan.engine.config import BacktestConfig, scenario_names_problem
from tradescan.engine.costs import cost_fraction_per_bar, cost_pips_per_bar, tr_atr_ratio_from_prices
from tradescan.engine.kernel import KernelBars, KernelCapital, KernelCosts, KernelRules, KernelSignals, simulate
from tradescan.engine.records import INTRABAR_NAMES, NO_TIME_STOP, STOPS_FROM_NAMES
from tradescan.engine.result import BacktestResult
from tradescan.errors import TradeScanError, UnknownNameError, did_you_mean
from tradescan.regime import RegimeSettings, regime_codes, regime_labels
from tradescan.registry import get_strategy
from tradescan.strategy import Signals, Strategy

ATR_PERIOD = 14
MetricsByScenario = dict[str, dict[str, float]]


def _true_range(bars: Bars) -> np.ndarray:
    return bars.cached(("true_range",), lambda: indicators.true_range(bars.high, bars.low, bars.close))


def _regime_codes(bars: Bars, settings: RegimeSettings, atr14: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    atr_values = atr14 if settings.atr_n == ATR_PERIOD else None
    return regime_codes(bars.high, bars.low, bars.close, settings, atr_values=atr_values,
                        true_range_values=_true_range(bars))


def _labels_at_signals(bars: Bars, settings: RegimeSettings, atr14: np.ndarray, records: np.ndarray) -> np.ndarray:
    """Return a per-bar label array filled at the trades' signal bars (what the trades frame reads)."""
    vol_code, spike = _regime_codes(bars, settings, atr14)
    labels = np.empty(len(bars), dtype=object)
    signal_idx = records["signal_idx"]
    labels[signal_idx] = regime_labels(vol_code[signal_idx], spike[signal_idx])
    return labels


def _read_only(values: np.ndarray) -> np.ndarray:
    view = values.view()
    view.flags.writeable = False
    return view


def kernel_signals(signals: Signals, risk_distance_fallback: np.ndarray, warmup: int) -> KernelSignals:
    """Return validated ``signals`` as the kernel reads them.

    A single ``target_distance`` becomes a one-column plan closing the whole position. An exit array
    with no exit and a trail array with no distance become ``None``, so the kernel compiled without
    those features runs (it is the faster one).
    """
    if signals.targets is None:
        targets = np.asarray(signals.target_distance, dtype=np.float64).reshape(-1, 1)
        fractions = np.ones(1)
    else:
        targets = signals.targets
        fractions = np.asarray(signals.target_fractions, dtype=np.float64)
    exit_signal = signals.exit if signals.exit is not None and any_nonzero_nb(signals.exit) else None
    trail = signals.trail_distance
    trail = trail if trail is not None and any_number_nb(trail) else None
    return KernelSignals(
        signals.entry, signals.stop_distance, targets, fractions, risk_distance_fallback, warmup,
        exit_signal, trail, signals.break_even,
    )


class BacktestSession:
    """Backtests of one symbol's bars under one fixed ``BacktestConfig``.

    Args:
        bars: the symbol's bars (their indicator cache is reused across calls).
        config: the backtest settings (``None`` = ``BacktestConfig`` defaults).
        conversion: optional per-bar value of one unit of the quote currency in account currency.
        **settings: ``BacktestConfig`` fields overriding ``config`` (``broker="zero"``,
            ``scenarios=("A",)``, ...), as ``BacktestConfig.resolve`` reads them.

    Raises:
        TradeScanError: a setting is invalid (unknown broker/scenario, missing spread, no currency
            conversion, fewer than 2 bars).
    """

    def __init__(
        self,
        bars: Bars,
        config: BacktestConfig | None = None,
        *,
        conversion: np.ndarray | None = None,
        **settings: Any,
    ) -> None:
        if len(bars) < 2:
            raise TradeScanError(f"{bars.symbol}: a backtest needs at least 2 bars, got {len(bars)}")
        self.config = BacktestConfig.resolve(config, **settings)
        self.bars = bars
        self.instrument = bars.instrument
        self.broker = self.config.broker
        self.capital = self.config.capital
        self.scenarios = self.config.scenarios
        self.max_hold_bars = self.config.max_hold_bars
        self.stops_from = self.config.stops_from
        self.regime_settings = self.config.regime
        self._max_hold_code = NO_TIME_STOP if self.max_hold_bars is None else int(self.max_hold_bars)
        self._stops_from_code = STOPS_FROM_NAMES.index(self.stops_from)
        self.intrabar = self.config.intrabar
        self._rules = KernelRules(
            self._max_hold_code, self._stops_from_code, INTRABAR_NAMES.index(self.intrabar),
            10.0 ** self.instrument.price_precision,
        )
        self._prepare_arrays(conversion)
        # Per scenario selection: its cost rows, and the equity and trade buffers evaluate reuses.
        self._row_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}
        self._trade_buffers: dict[tuple[str, ...], np.ndarray] = {}
        self._strategies: dict[str, Strategy] = {}

    def _prepare_arrays(self, conversion: np.ndarray | None) -> None:
        # The look-ups that can fail (scenario, spread, slippage, currency) run here; the per-bar
        # arrays built from ATR14 are made on first use, after the first strategy call: a strategy
        # asking for ATR(14) then computes it (maybe fused with its other indicators) and the session
        # takes that very array from the bars' cache (same key) instead of a pass of its own.
        bars = self.bars
        self._scenario_costs = resolve_scenarios(self.broker, self.scenarios)
        self._spread = self.broker.symbol_spread(bars.symbol)
        self._slippage = self.broker.slippage_for(bars.symbol)
        self._atr14: np.ndarray | None = None
        self._ratio: np.ndarray | None = None
        self._pips: np.ndarray | None = None
        self._fraction: np.ndarray | None = None
        self._price_value = price_value(self.instrument, self.capital.currency, len(bars), conversion)
        self.day_end_idx = bars.cached(("day_end_index",), lambda: metrics.day_end_index(bars.time))
        self._commission_per_unit_side = self.broker.commission_per_lot / self.instrument.contract_size
        self._regime: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def atr14(self) -> np.ndarray:
        """Return Wilder's ATR(14) of the bars (through their cache; computed on first use)."""
        if self._atr14 is None:
            bars = self.bars
            self._atr14 = bars.cached(
                ("atr", ATR_PERIOD), lambda: indicators.atr(bars.high, bars.low, bars.close, ATR_PERIOD)
            )
        return self._atr14

    @property
    def cost_pips(self) -> np.ndarray:
        """Return ``cost_pips[n_scenarios, n_bars]`` (``costs.cost_pips_per_bar``), read-only."""
        return _read_only(self._cost_pips())

    @property
    def cost_fraction(self) -> np.ndarray:
        """Return ``cost_fraction[n_scenarios, n_bars]`` (``costs.cost_fraction_per_bar``), read-only."""
        return _read_only(self._cost_fraction())

    # The cost arrays are kept writable (the kernel is compiled for writable arrays and never writes
    # them); the public properties hand out read-only views. Each is made on first use: a broker
    # with no basis-point cost never needs the fraction array (see _bps_free).

    def _tr_atr_ratio(self) -> np.ndarray:
        if self._ratio is None:
            # TR is computed on the fly inside the ratio: one pass less, and no TR array unless asked for.
            self._ratio = tr_atr_ratio_from_prices(self.bars.high, self.bars.low, self.bars.close, self.atr14)
        return self._ratio

    def _cost_pips(self) -> np.ndarray:
        if self._pips is None:
            self._pips = cost_pips_per_bar(np.empty(0), self.atr14, self._spread.pips, self._slippage,
                                           self._scenario_costs, ratio=self._tr_atr_ratio())
        return self._pips

    def _cost_fraction(self) -> np.ndarray:
        if self._fraction is None:
            self._fraction = cost_fraction_per_bar(np.empty(0), self.atr14, self._spread.bps, self._slippage,
                                                   self._scenario_costs, ratio=self._tr_atr_ratio())
        return self._fraction

    @property
    def true_range(self) -> np.ndarray:
        """Return TR per bar (from the bars' cache; the costs do not need the array)."""
        return _true_range(self.bars)

    @property
    def vol_code(self) -> np.ndarray:
        """Return the volatility regime code of every bar (``VOL_*``), computed on first use."""
        return self._regime_codes()[0]

    @property
    def spike(self) -> np.ndarray:
        """Return the spike flag of every bar, computed on first use."""
        return self._regime_codes()[1]

    def _regime_codes(self) -> tuple[np.ndarray, np.ndarray]:
        # Only trade rows carry a regime label; the sweep's evaluate never needs one.
        if self._regime is None:
            self._regime = _regime_codes(self.bars, self.regime_settings, self.atr14)
        return self._regime

    def _regime_label_source(self, records: np.ndarray) -> functools.partial[np.ndarray]:
        # The regime is computed when the trades frame is first built, not on every run: a result
        # whose frames are never read (metrics only) never pays for it.
        return functools.partial(_labels_at_signals, self.bars, self.regime_settings, self.atr14, records)

    # ---- public API -------------------------------------------------------------------------------

    def evaluate(
        self,
        strategy: str | Strategy,
        params: Mapping[str, Any] | BaseModel | None = None,
        scenarios: Sequence[str] | None = None,
    ) -> MetricsByScenario:
        """Return ``{scenario: {metric: value}}`` for one parameter set (no pandas; sweep hot path)."""
        names, trades, equity, _ = self._simulate(strategy, params, scenarios, reuse_buffers=True)
        return {name: self._metrics(trades[row], equity[row]) for row, name in enumerate(names)}

    def run(
        self,
        strategy: str | Strategy,
        params: Mapping[str, Any] | BaseModel | None = None,
        scenarios: Sequence[str] | None = None,
    ) -> BacktestResult:
        """Return the full ``BacktestResult`` (trades and equity frames, metrics, params)."""
        names, trades, equity, parsed = self._simulate(strategy, params, scenarios, reuse_buffers=False)
        scenario_metrics = {name: self._metrics(trades[row], equity[row]) for row, name in enumerate(names)}
        records = trades[0] if len(trades) == 1 else np.concatenate(trades)  # one scenario: the fresh buffer's view
        return BacktestResult.build(
            records=records,
            equity=equity,
            scenarios=names,
            bars=self.bars,
            regime_labels=self._regime_label_source(records),
            metrics=scenario_metrics,
            params=parsed.model_dump(),
            strategy_name=self._strategy(strategy).name,
            settings=self.settings(),
        )

    def settings(self) -> dict[str, Any]:
        """Return the session's settings as plain data (for reports and lineage)."""
        return {
            "symbol": self.bars.symbol,
            "broker": self.broker.name,
            "capital": self.capital.model_dump(),
            "scenarios": list(self.scenarios),
            "max_hold_bars": self.max_hold_bars,
            "stops_from": self.stops_from,
            "intrabar": self.intrabar,
            "regime": self.regime_settings.model_dump(),
        }

    def signals(self, strategy: str | Strategy, params: Mapping[str, Any] | BaseModel | None = None) -> Signals:
        """Return the strategy's validated signals on the session's bars."""
        instance = self._strategy(strategy)
        return self._signals(instance, instance.parse_params(params))

    # ---- internals --------------------------------------------------------------------------------

    def _strategy(self, strategy: str | Strategy) -> Strategy:
        # A name is resolved once per session: discovery scans folders, too slow for every trial.
        if not isinstance(strategy, str):
            return get_strategy(strategy)
        if strategy not in self._strategies:
            self._strategies[strategy] = get_strategy(strategy)
        return self._strategies[strategy]

    def _signals(self, strategy: Strategy, params: BaseModel) -> Signals:
        raw = strategy.signals(self.bars, params)
        if not isinstance(raw, Signals):
            raise TradeScanError(f"{strategy.name}.signals must return Signals, got {type(raw).__name__}")
        return raw.validated(len(self.bars), strategy_name=strategy.name)

    def _selection(self, scenarios: Sequence[str] | None) -> tuple[str, ...]:
        """Return the scenario names to run, checked against the session's (before any work)."""
        names = self.scenarios if scenarios is None else tuple(str(name) for name in scenarios)
        if names not in self._row_cache:
            for name in names:
                if name not in self.scenarios:
                    raise UnknownNameError(did_you_mean(name, self.scenarios, what="scenario of this session"))
            problem = scenario_names_problem(names)
            if problem:
                raise TradeScanError(f"{problem} (this session runs {list(self.scenarios)})")
        return names

    def _rows(
        self, scenarios: Sequence[str] | None
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray | None, np.ndarray]:
        # the bps cost rows are None when they are all 0: the kernel compiled without them runs
        names = self._selection(scenarios)
        cached = self._row_cache.get(names)
        if cached is None:
            rows = [self.scenarios.index(name) for name in names]
            all_rows = rows == list(range(len(self.scenarios)))
            # every scenario in order: the session's own array (the kernel never writes it), no copy
            cost_pips = self._cost_pips()
            costs = cost_pips if all_rows else np.ascontiguousarray(cost_pips[rows])
            fractions = None
            if not self._bps_free([self._scenario_costs[row] for row in rows]):
                cost_fraction = self._cost_fraction()
                fractions = cost_fraction if all_rows else np.ascontiguousarray(cost_fraction[rows])
                fractions = fractions if fractions.any() else None
            cached = (costs, fractions, np.empty(costs.shape))
            self._row_cache[names] = cached
        return names, cached[0], cached[1], cached[2]

    def _bps_free(self, scenarios: Sequence[ScenarioCosts]) -> bool:
        """Return whether every ``cost_fraction`` of these scenarios is 0 without building the array.

        It is when every basis-point term is 0 and every multiplier finite: each term is then 0
        times a finite number (the TR/ATR ratio is always finite), as ``fractions.any()`` would find.
        """
        slippage = self._slippage
        terms = [self._spread.bps, slippage.base_bps, slippage.atr_k_bps]
        terms += [scenario.slippage_add_bps for scenario in scenarios]
        factors = [slippage.spike_mult] + [s.spread_mult for s in scenarios] + [s.slippage_mult for s in scenarios]
        return all(term == 0.0 for term in terms) and all(math.isfinite(factor) for factor in factors)

    def _warmup(self, strategy: Strategy, params: BaseModel) -> int:
        warmup = strategy.warmup(params)
        if isinstance(warmup, bool) or not isinstance(warmup, int | np.integer) or warmup < 0:
            raise TradeScanError(f"{strategy.name}.warmup must return an integer >= 0, got {warmup!r}")
        return int(warmup)

    def _simulate(
        self,
        strategy: str | Strategy,
        params: Mapping[str, Any] | BaseModel | None,
        scenarios: Sequence[str] | None,
        *,
        reuse_buffers: bool,
    ) -> tuple[tuple[str, ...], list[np.ndarray], np.ndarray, BaseModel]:
        instance = self._strategy(strategy)
        parsed = instance.parse_params(params)
        self._selection(scenarios)  # a bad scenario name fails before the strategy runs
        signals = self._signals(instance, parsed)  # first: its ATR(14), if any, serves the costs
        names, cost_pips, cost_fraction, equity = self._rows(scenarios)
        trade_buffer = self._trade_buffers.get(names) if reuse_buffers else None
        if not reuse_buffers:
            equity = np.empty_like(cost_pips)
        bars, capital, broker = self.bars, self.capital, self.broker
        trades, trade_buffer = simulate(
            KernelBars(bars.open, bars.high, bars.low, bars.close),
            kernel_signals(signals, self.atr14, self._warmup(instance, parsed)),
            KernelCosts(
                cost_pips, cost_fraction, self.instrument.pip_size, self._commission_per_unit_side,
                broker.commission_pct, broker.maker_pct,
            ),
            self._rules,
            KernelCapital(
                capital.initial, capital.risk_per_trade, capital.compounding, self._price_value.quote_value,
                self._price_value.value_per_price,
            ),
            equity,
            trade_buffer,
        )
        if reuse_buffers:
            self._trade_buffers[names] = trade_buffer
        return names, trades, equity, parsed

    def _metrics(self, trades: np.ndarray, equity: np.ndarray) -> dict[str, float]:
        return metrics.compute_metrics(
            trades,
            equity,
            self.day_end_idx,
            self.capital.initial,
            self.instrument.days_per_year,
            len(self.bars),
            time=self.bars.time,
        )
