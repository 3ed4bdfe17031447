"""The compiled kernel agrees exactly with the pure-Python reference on many random series.

Two generators: the plain one (entry, stop, target; FX symbols, pip costs) and one with every
feature of DESIGN §4 on at random — signal exits and reversals, trailing stops, multi-target plans
with break-even, the tradingview intrabar order, percent commissions with a maker rate, spreads and
slippage in basis points, a crypto symbol.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest
from engine_helpers import ArrayStrategy, make_bars
from reference import REFERENCE_EVENTS, ReferenceSettings, run_reference

from tradescan.engine import BacktestSession, kernel
from tradescan.engine.records import EXIT_REASON_NAMES

N_CASES = 200
SCENARIOS = {
    "A": {"spread_mult": 1.0, "slippage_mult": 1.0, "slippage_add_pips": 0.0, "spikes": False},
    "B": {"spread_mult": 1.3, "slippage_mult": 1.0, "slippage_add_pips": 0.3, "spikes": False},
    "C": {"spread_mult": 1.6, "slippage_mult": 1.8, "slippage_add_pips": 0.0, "spikes": True},
}
SYMBOLS = {"EURUSD": 1.10, "USDJPY": 150.0, "EURGBP": 0.85}  # quote=account, base=account, cross
FEATURE_SYMBOLS = {**SYMBOLS, "BTCUSDT": 60_000.0}  # crypto: pip 0.01, 2 decimals, quote_rate 1
FLOAT_FIELDS = (
    "entry_price", "exit_price", "entry_fill", "exit_fill", "stop_price", "target_price",
    "size", "gross_pips", "cost_pips", "net_pips", "pnl", "r_multiple",
    "fraction", "commission", "cost", "cost_bps",
)
INT_FIELDS = ("side", "signal_idx", "entry_idx", "exit_idx", "bars_held", "position_id", "leg")


def random_ohlc(rng: np.random.Generator, n_bars: int, price: float) -> np.ndarray:
    """Random walk with occasional gaps and bars wide enough to hold stop and target together."""
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.0015, n_bars)))
    gaps = np.where(rng.random(n_bars) < 0.15, rng.normal(0.0, 0.004, n_bars), 0.0) * price
    open_ = np.concatenate(([price], close[:-1])) + gaps
    wick = np.abs(rng.normal(0.0, 0.0012, (2, n_bars))) * price
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    return np.column_stack([open_, high, low, close])


def random_case(rng: np.random.Generator) -> dict[str, Any]:
    symbol = str(rng.choice(list(SYMBOLS)))
    price = SYMBOLS[symbol]
    n_bars = int(rng.integers(30, 160))
    entry = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n_bars, p=[0.12, 0.76, 0.12])
    stop = rng.uniform(0.0004, 0.005, n_bars) * price
    stop[rng.random(n_bars) < 0.15] = np.nan
    target = rng.uniform(0.0004, 0.006, n_bars) * price
    target[rng.random(n_bars) < 0.25] = np.nan
    return {
        "symbol": symbol,
        "ohlc": random_ohlc(rng, n_bars, price),
        "entry": entry,
        "stop": stop,
        "target": target,
        "warmup": int(rng.integers(0, 20)),
        "max_hold_bars": None if rng.random() < 0.3 else int(rng.integers(1, 25)),
        "stops_from": str(rng.choice(["fill", "signal_close"])),
        "broker": {
            "name": "random",
            "commission_per_lot": float(rng.choice([0.0, rng.uniform(0.0, 10.0)])),
            "spread_pips": {symbol: float(rng.uniform(0.0, 3.0))},
            "slippage": {
                "base_pips": float(rng.uniform(0.0, 0.5)),
                "atr_k": float(rng.uniform(0.0, 1.0)),
                "spike_tr_atr": float(rng.uniform(1.0, 2.0)),
                "spike_mult": float(rng.uniform(1.0, 3.0)),
            },
            "scenarios": SCENARIOS,
        },
        "capital": {"risk_per_trade": float(rng.uniform(0.001, 0.05)), "compounding": bool(rng.random() < 0.5)},
    }


def reference_settings(case: dict[str, Any], scenario: str) -> ReferenceSettings:
    broker, symbol = case["broker"], case["symbol"]
    bars = make_bars(case["ohlc"], symbol=symbol)
    instrument = bars.instrument
    quote_value = None
    if instrument.quote != "USD" and instrument.base != "USD":
        quote_value = np.full(len(bars), instrument.quote_rate["USD"])
    slippage = {"base_pips": 0.0, "atr_k": 0.0, **broker["slippage"]}
    scenario_costs = {"slippage_add_bps": 0.0, **broker["scenarios"][scenario]}
    return ReferenceSettings(
        pip_size=instrument.pip_size,
        spread_pips=broker.get("spread_pips", {}).get(symbol, 0.0),
        spread_bps=broker.get("spread_bps", {}).get(symbol, 0.0),
        **slippage,
        **scenario_costs,
        warmup=case["warmup"],
        max_hold_bars=case["max_hold_bars"],
        stops_from=case["stops_from"],
        risk_per_trade=case["capital"]["risk_per_trade"],
        compounding=case["capital"]["compounding"],
        commission_per_lot=broker["commission_per_lot"],
        contract_size=instrument.contract_size,
        base_is_account=instrument.base == "USD",
        quote_value=quote_value,
        commission_pct=broker.get("commission_pct", 0.0),
        maker_commission_pct=broker.get("maker_commission_pct"),
        intrabar=case.get("intrabar", "stop_first"),
        price_precision=instrument.price_precision,
    )


SIGNAL_FIELDS = ("exit", "trail_distance", "targets", "target_fractions", "break_even")


def compare_case(
    case: dict[str, Any], seen_reasons: collections.Counter[str], events: collections.Counter[str] | None = None
) -> None:
    """Run the case through the session and the reference and assert they agree.

    ``events`` collects what the reference went through (stop moves, partial legs, reversals, ...).
    """
    session = BacktestSession(
        make_bars(case["ohlc"], symbol=case["symbol"]),
        broker=case["broker"],
        capital=case["capital"],
        max_hold_bars=case["max_hold_bars"],
        stops_from=case["stops_from"],
        intrabar=case.get("intrabar", "stop_first"),
    )
    features = {name: case[name] for name in SIGNAL_FIELDS if name in case}
    strategy = ArrayStrategy(case["entry"], case["stop"], case["target"], warmup=case["warmup"], **features)
    result = session.run(strategy)
    ohlc = case["ohlc"]
    for row, scenario in enumerate(("A", "B", "C")):
        expected, expected_equity = run_reference(
            ohlc[:, 0], ohlc[:, 1], ohlc[:, 2], ohlc[:, 3],
            case["entry"], case["stop"], case["target"], reference_settings(case, scenario),
            exit_signal=case.get("exit"), trail_distance=case.get("trail_distance"), targets=case.get("targets"),
            target_fractions=case.get("target_fractions"), break_even=case.get("break_even", False),
            events=events,
        )
        records = result.records[result.records["scenario"] == row]
        assert len(records) == len(expected), (scenario, case)
        assert [EXIT_REASON_NAMES[code] for code in records["exit_reason"]] == [
            trade["exit_reason"] for trade in expected
        ], (scenario, case)
        for name in INT_FIELDS:
            assert list(records[name]) == [trade[name] for trade in expected], (scenario, name)
        for name in FLOAT_FIELDS:
            np.testing.assert_allclose(
                records[name], [trade[name] for trade in expected], rtol=1e-12, atol=1e-12, err_msg=name
            )
        np.testing.assert_allclose(result.equity[scenario].to_numpy(), expected_equity, rtol=1e-12)
        seen_reasons.update(trade["exit_reason"] for trade in expected)


def test_kernel_agrees_with_reference_on_random_series() -> None:
    rng = np.random.default_rng(20240601)
    seen_reasons: collections.Counter[str] = collections.Counter()
    for _ in range(N_CASES):
        compare_case(random_case(rng), seen_reasons)
    # the random cases must exercise every exit rule, not only the easy ones
    assert set(seen_reasons) == {"SL", "TP", "TIME", "EOD"}, seen_reasons
    assert min(seen_reasons.values()) >= 20, seen_reasons


@pytest.mark.parametrize("stops_from", ["fill", "signal_close"])
def test_gaps_and_same_bar_levels_are_exercised(stops_from: str) -> None:
    """Guard the generator: gap exits and bars holding both levels must occur in the random cases."""
    rng = np.random.default_rng(7)
    gap_exits = same_bar = 0
    for _ in range(40):
        case = random_case(rng) | {"stops_from": stops_from}
        session = BacktestSession(make_bars(case["ohlc"], case["symbol"]), broker="zero", scenarios=("A",))
        records = session.run(ArrayStrategy(case["entry"], case["stop"], case["target"])).records
        ohlc = case["ohlc"]
        for trade in records:
            bar = ohlc[trade["exit_idx"]]
            gap_exits += bool(trade["exit_price"] == bar[0] and trade["exit_reason"] in (0, 1))
            levels = (trade["stop_price"], trade["target_price"])
            same_bar += bool(all(bar[2] <= level <= bar[1] for level in levels))
    assert gap_exits >= 10 and same_bar >= 3, (gap_exits, same_bar)


def test_block_boundaries_and_buffer_growth_agree_with_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks and an almost empty first buffer: state carried across blocks, buffer regrown."""
    monkeypatch.setattr(kernel, "BLOCK_BARS", 5)
    monkeypatch.setattr(kernel, "INITIAL_TRADES_PER_SCENARIO", 0)
    rng = np.random.default_rng(99)
    seen_reasons: collections.Counter[str] = collections.Counter()
    for _ in range(60):
        compare_case(random_case(rng), seen_reasons)
    assert set(seen_reasons) == {"SL", "TP", "TIME", "EOD"}


def test_many_trades_grow_the_buffer() -> None:
    """One trade per bar (time stop 1): far more trades than the first buffer holds."""
    n_bars = 40_000
    rows = random_ohlc(np.random.default_rng(5), n_bars, 1.1)
    session = BacktestSession(make_bars(rows), broker="zero", max_hold_bars=1)
    result = session.run(ArrayStrategy(np.ones(n_bars, dtype=np.int8), 0.5, 0.5))
    for row in range(3):
        records = result.records[result.records["scenario"] == row]
        assert len(records) == n_bars - 2
        np.testing.assert_array_equal(records["entry_idx"], np.arange(2, n_bars))
        assert (records["exit_idx"] == records["entry_idx"]).all()
        assert result.equity.iloc[-1, row] == pytest.approx(10000.0 + records["pnl"].sum())


# ---- every feature on ---------------------------------------------------------------------------

FEATURE_SCENARIOS = {
    "A": {"spread_mult": 1.0, "slippage_mult": 1.0, "slippage_add_pips": 0.0, "slippage_add_bps": 0.0, "spikes": False},
    "B": {"spread_mult": 1.3, "slippage_mult": 1.0, "slippage_add_pips": 0.3, "slippage_add_bps": 1.0, "spikes": False},
    "C": {"spread_mult": 1.6, "slippage_mult": 1.8, "slippage_add_pips": 0.0, "slippage_add_bps": 0.0, "spikes": True},
}


def random_targets(rng: np.random.Generator, n_bars: int, price: float) -> tuple[np.ndarray, tuple[float, ...]]:
    """Increasing distances per bar (some unused), with fractions summing to 1 or leaving a remainder."""
    k = int(rng.integers(1, 5))
    steps = rng.uniform(0.0003, 0.003, (n_bars, k)) * price
    targets = np.cumsum(steps, axis=1)
    targets[rng.random((n_bars, k)) < 0.15] = np.nan
    if rng.random() < 0.5:
        fractions = tuple(np.full(k, 1.0 / k).tolist())  # sums to 1 (within rounding): no remainder leg
    else:
        fractions = tuple((rng.dirichlet(np.ones(k + 1))[:k] * 0.98 + 0.01 / k).tolist())
    return targets, fractions


def random_feature_broker(rng: np.random.Generator, symbol: str) -> dict[str, Any]:
    in_bps = symbol == "BTCUSDT" or rng.random() < 0.3
    spread = {"spread_bps": {symbol: float(rng.uniform(0.0, 5.0))}} if in_bps else {
        "spread_pips": {symbol: float(rng.uniform(0.0, 3.0))}
    }
    slippage = {
        "base_pips": 0.0 if symbol == "BTCUSDT" else float(rng.uniform(0.0, 0.5)),
        "atr_k": 0.0 if symbol == "BTCUSDT" else float(rng.uniform(0.0, 1.0)),
        "base_bps": float(rng.uniform(0.0, 3.0)) if in_bps else 0.0,
        "atr_k_bps": float(rng.uniform(0.0, 2.0)) if in_bps else 0.0,
        "spike_tr_atr": float(rng.uniform(1.0, 2.0)),
        "spike_mult": float(rng.uniform(1.0, 3.0)),
    }
    maker = {} if rng.random() < 0.5 else {"maker_commission_pct": float(rng.uniform(0.0, 0.001))}
    return {
        "name": "random_features",
        "commission_per_lot": float(rng.choice([0.0, rng.uniform(0.0, 10.0)])),
        "commission_pct": float(rng.choice([0.0, rng.uniform(0.0002, 0.002)])),
        **maker,
        **spread,
        "slippage": slippage,
        "scenarios": FEATURE_SCENARIOS,
    }


def random_feature_case(rng: np.random.Generator) -> dict[str, Any]:
    symbol = str(rng.choice(list(FEATURE_SYMBOLS)))
    price = FEATURE_SYMBOLS[symbol]
    case = random_case(rng)
    n_bars = len(case["entry"])
    case["symbol"] = symbol
    case["ohlc"] = random_ohlc(rng, n_bars, price)
    case["stop"] = rng.uniform(0.0004, 0.005, n_bars) * price
    case["stop"][rng.random(n_bars) < 0.15] = np.nan
    case["broker"] = random_feature_broker(rng, symbol)
    case["intrabar"] = str(rng.choice(["stop_first", "tradingview"]))
    case["max_hold_bars"] = None if rng.random() < 0.4 else int(rng.integers(3, 40))
    if rng.random() < 0.8:
        case["exit"] = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n_bars, p=[0.08, 0.84, 0.08])
    if rng.random() < 0.7:
        trail = rng.uniform(0.0005, 0.004, n_bars) * price
        trail[rng.random(n_bars) < 0.3] = np.nan
        case["trail_distance"] = trail
    if rng.random() < 0.75:
        case["targets"], case["target_fractions"] = random_targets(rng, n_bars, price)
        case["target"] = np.full(n_bars, np.nan)
        case["break_even"] = bool(rng.random() < 0.6)
    else:
        case["target"] = rng.uniform(0.0004, 0.006, n_bars) * price
        case["target"][rng.random(n_bars) < 0.25] = np.nan
    return case


def test_kernel_agrees_with_reference_with_every_feature_on() -> None:
    rng = np.random.default_rng(20250107)
    seen_reasons: collections.Counter[str] = collections.Counter()
    events: collections.Counter[str] = collections.Counter()
    for _ in range(N_CASES):
        compare_case(random_feature_case(rng), seen_reasons, events)
    assert set(seen_reasons) == {"SL", "TP", "TIME", "EOD", "SIGNAL"}, seen_reasons
    assert min(seen_reasons.values()) >= 20, seen_reasons
    # the random cases must reach every rule, not only the easy ones
    assert set(events) == set(REFERENCE_EVENTS), events
    assert min(events.values()) >= 10, events


def test_every_feature_agrees_across_block_boundaries_and_buffer_growth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Legs, trails and pending exits carried across tiny blocks; the buffer regrown many times."""
    monkeypatch.setattr(kernel, "BLOCK_BARS", 3)
    monkeypatch.setattr(kernel, "INITIAL_TRADES_PER_SCENARIO", 0)
    rng = np.random.default_rng(424242)
    seen_reasons: collections.Counter[str] = collections.Counter()
    for _ in range(60):
        compare_case(random_feature_case(rng), seen_reasons)
    assert set(seen_reasons) == {"SL", "TP", "TIME", "EOD", "SIGNAL"}
