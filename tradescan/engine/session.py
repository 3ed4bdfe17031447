"""``BacktestSession``: one symbol's bars and settings, evaluated for many parameter sets.

Everything that depends only on the bars and the settings — TR and ATR14, the per-scenario cost
arrays, the regime codes, the value of a price unit in account currency, the index of each day's
last bar — is computed once in the constructor. ``evaluate`` then costs one strategy call (whose
indicators the ``Bars`` cache keeps across calls), one kernel pass for all scenarios and the metrics;
it never touches pandas. ``run`` does the same and builds the full ``BacktestResult`` frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from tradescan import indicators, metrics
from tradescan._signal_check import any_nonzero_nb, any_number_nb
from tradescan.bars import Bars
from tradescan.engine.broker import BrokerProfile, load_broker, resolve_scenarios
from tradescan.engine.capital import CapitalConfig, parse_capital, price_value
from tradescan.engine.costs import cost_fraction_per_bar, cost_pips_per_bar
from tradescan.engine.kernel import KernelBars, KernelCapital, KernelCosts, KernelRules, KernelSignals, simulate
from tradescan.engine.records import INTRABAR_NAMES, NO_TIME_STOP, STOPS_FROM_NAMES
from tradescan.engine.result import BacktestResult
from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, did_you_mean
from tradescan.regime import RegimeSettings, regime_codes, regime_labels
from tradescan.registry import get_strategy
from tradescan.strategy import Signals, Strategy

ATR_PERIOD = 14
MetricsByScenario = dict[str, dict[str, float]]


def _max_hold(max_hold_bars: int | None) -> int:
    if max_hold_bars is None:
        return NO_TIME_STOP
    if isinstance(max_hold_bars, bool) or not isinstance(max_hold_bars, int | np.integer) or max_hold_bars < 1:
        raise TradeScanError(f"max_hold_bars must be an integer >= 1 or None, got {max_hold_bars!r}")
    return int(max_hold_bars)


def _stops_from_code(stops_from: str) -> int:
    if stops_from not in STOPS_FROM_NAMES:
        raise UnknownNameError(did_you_mean(str(stops_from), STOPS_FROM_NAMES, what="stops_from mode"))
    return STOPS_FROM_NAMES.index(stops_from)


def _intrabar_code(intrabar: str) -> int:
    if intrabar not in INTRABAR_NAMES:
        raise UnknownNameError(did_you_mean(str(intrabar), INTRABAR_NAMES, what="intrabar order"))
    return INTRABAR_NAMES.index(intrabar)


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


def _regime_settings(settings: RegimeSettings | Mapping[str, Any] | None) -> RegimeSettings:
    if settings is None or isinstance(settings, RegimeSettings):
        return settings or RegimeSettings.model_validate({})
    try:
        return RegimeSettings(**dict(settings))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"regime settings: {exc}".replace("\n", " ")) from None


class BacktestSession:
    """Backtests of one symbol's bars under fixed broker, capital and execution settings.

    Args:
        bars: the symbol's bars (their indicator cache is reused across calls).
        broker: profile name, path to a profile YAML, mapping of the same shape, or ``BrokerProfile``.
        capital: ``CapitalConfig``, a mapping of its fields, or ``None`` for the defaults.
        scenarios: cost scenarios to run by default, in order.
        max_hold_bars: time stop in bars after the signal bar; ``None`` = no time stop.
        stops_from: ``"fill"`` (levels from the entry fill) or ``"signal_close"``.
        intrabar: ``"stop_first"`` (a stop and a target inside one bar: the stop) or
            ``"tradingview"`` (TradingView's broker emulator path, levels on the tick grid).
        regime: regime settings (``RegimeSettings`` or mapping); ``None`` = defaults.
        conversion: optional per-bar value of one unit of the quote currency in account currency.

    Raises:
        TradeScanError: a setting is invalid (unknown broker/scenario, missing spread, no currency
            conversion, fewer than 2 bars).
    """

    def __init__(
        self,
        bars: Bars,
        *,
        broker: str | Mapping[str, Any] | BrokerProfile = "default",
        capital: CapitalConfig | Mapping[str, Any] | None = None,
        scenarios: Sequence[str] = ("A", "B", "C"),
        max_hold_bars: int | None = 96,
        stops_from: str = "fill",
        regime: RegimeSettings | Mapping[str, Any] | None = None,
        conversion: np.ndarray | None = None,
        intrabar: str = "stop_first",
    ) -> None:
        if len(bars) < 2:
            raise TradeScanError(f"{bars.symbol}: a backtest needs at least 2 bars, got {len(bars)}")
        self.bars = bars
        self.instrument = bars.instrument
        self.broker = load_broker(broker)
        self.capital = parse_capital(capital)
        self.scenarios = tuple(str(name) for name in scenarios)
        self.max_hold_bars = max_hold_bars
        self.stops_from = stops_from
        self.intrabar = intrabar
        self.regime_settings = _regime_settings(regime)
        self._rules = KernelRules(
            _max_hold(max_hold_bars), _stops_from_code(stops_from), _intrabar_code(intrabar),
            10.0 ** self.instrument.price_precision,
        )
        self._prepare_arrays(conversion)
        # Per scenario selection: its cost rows, and the equity and trade buffers evaluate reuses.
        self._row_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}
        self._trade_buffers: dict[tuple[str, ...], np.ndarray] = {}
        self._strategies: dict[str, Strategy] = {}

    def _prepare_arrays(self, conversion: np.ndarray | None) -> None:
        bars = self.bars
        self.true_range = indicators.true_range(bars.high, bars.low, bars.close)
        self.atr14 = indicators.atr(bars.high, bars.low, bars.close, ATR_PERIOD)
        self._scenario_costs = resolve_scenarios(self.broker, self.scenarios)
        spread = self.broker.symbol_spread(bars.symbol)
        slippage = self.broker.slippage_for(bars.symbol)
        self.cost_pips = cost_pips_per_bar(self.true_range, self.atr14, spread.pips, slippage, self._scenario_costs)
        self.cost_fraction = cost_fraction_per_bar(
            self.true_range, self.atr14, spread.bps, slippage, self._scenario_costs
        )
        self.cost_pips.flags.writeable = False
        self.cost_fraction.flags.writeable = False
        self._price_value = price_value(self.instrument, self.capital.currency, len(bars), conversion)
        self.vol_code, self.spike = regime_codes(bars.high, bars.low, bars.close, self.regime_settings)
        self.day_end_idx = metrics.day_end_index(bars.time)
        self._commission_per_unit_side = self.broker.commission_per_lot / self.instrument.contract_size

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
        return BacktestResult.build(
            records=np.concatenate(trades),
            equity=equity,
            scenarios=names,
            bars=self.bars,
            regime_labels=regime_labels(self.vol_code, self.spike),
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

    def _rows(
        self, scenarios: Sequence[str] | None
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray | None, np.ndarray]:
        # the bps cost rows are None when they are all 0: the kernel compiled without them runs
        names = self.scenarios if scenarios is None else tuple(str(name) for name in scenarios)
        cached = self._row_cache.get(names)
        if cached is None:
            for name in names:
                if name not in self.scenarios:
                    raise UnknownNameError(did_you_mean(name, self.scenarios, what="scenario of this session"))
            if not names or len(set(names)) != len(names):
                raise TradeScanError(f"scenarios must be distinct names from {list(self.scenarios)}, got {list(names)}")
            rows = [self.scenarios.index(name) for name in names]
            costs = np.ascontiguousarray(self.cost_pips[rows])
            fractions = np.ascontiguousarray(self.cost_fraction[rows])
            cached = (costs, fractions if fractions.any() else None, np.empty_like(costs))
            self._row_cache[names] = cached
        return names, cached[0], cached[1], cached[2]

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
        names, cost_pips, cost_fraction, equity = self._rows(scenarios)
        trade_buffer = self._trade_buffers.get(names) if reuse_buffers else None
        if not reuse_buffers:
            equity = np.empty_like(cost_pips)
        signals = self._signals(instance, parsed)
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
