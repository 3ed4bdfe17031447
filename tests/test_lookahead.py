"""The look-ahead check catches leaky strategies at the right bar and passes causal ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

from tradescan import Bars, Signals, Strategy, instruments
from tradescan.errors import TradeScanError
from tradescan.indicators import ema
from tradescan.lookahead import assert_causal, check_lookahead, cut_points, perturb_after


def _frame(n_bars: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.002, n_bars)))
    open_ = np.concatenate(([1.1], close[:-1]))
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n_bars, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": np.full(n_bars, 100.0),
        }
    )


class _Causal(Strategy):
    name = "TEST_CAUSAL"

    class Params(BaseModel):
        period: int = Field(10, ge=2, le=100)

    def warmup(self, params: BaseModel) -> int:
        return 10

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        average = bars.cached(("ema", 10), lambda: ema(bars.close, 10))
        entry = np.nan_to_num(np.sign(bars.close - average)).astype(np.int8)
        entry[:10] = 0
        return Signals(entry, np.abs(bars.close - average) + 1e-4, np.full(len(bars), np.nan))


class _NextClose(Strategy):
    """Leaks close[t+1] into the stop distance at bar t."""

    name = "TEST_NEXT_CLOSE"

    def warmup(self, params: BaseModel) -> int:
        return 10

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        next_close = np.append(bars.close[1:], bars.close[-1])
        entry = np.ones(len(bars), dtype=np.int8)
        entry[:10] = 0
        return Signals(entry, np.abs(next_close - bars.close) + 1e-4, np.full(len(bars), np.nan))


class _CenteredMean(Strategy):
    """A centred rolling mean (window 5) in the target: bar t sees bars t+1 and t+2."""

    name = "TEST_CENTERED"

    def warmup(self, params: BaseModel) -> int:
        return 10

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        moves = pd.Series(np.abs(np.diff(bars.close, prepend=bars.close[0])))
        target = moves.rolling(5, center=True, min_periods=1).mean().to_numpy() + 1e-4
        return Signals(np.zeros(len(bars), dtype=np.int8), np.full(len(bars), np.nan), target)


class _NextSign(Strategy):
    """Leaks the direction of the next bar into the entry only."""

    name = "TEST_NEXT_SIGN"

    def warmup(self, params: BaseModel) -> int:
        return 10

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[:-1] = np.where(bars.close[1:] > bars.open[1:], 1, -1)
        entry[:10] = 0
        return Signals(entry, np.full(len(bars), 0.01), np.full(len(bars), np.nan))


class _GlobalScale(Strategy):
    """Normalises by the maximum of the whole series: bar 0 already depends on the future."""

    name = "TEST_GLOBAL"

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        return Signals(np.zeros(len(bars)), bars.close / bars.close.max(), np.full(len(bars), np.nan))


class _Random(Strategy):
    name = "TEST_RANDOM"

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        stop = np.random.default_rng().uniform(1, 2, len(bars))
        return Signals(np.zeros(len(bars)), stop, np.full(len(bars), np.nan))


def test_causal_strategy_passes() -> None:
    report = check_lookahead(_Causal(), _frame())
    assert report.ok and report.first_violation is None and report.failed_points == 0
    assert report.strategy == "TEST_CAUSAL"
    assert report.checked_points == cut_points(400, 10) and len(report.checked_points) == 50
    assert report.checked_points[0] == 10 and report.checked_points[-1] == 398
    assert "TEST_CAUSAL: causal" in str(report)


def test_next_close_is_caught_at_the_first_cut() -> None:
    frame = _frame()
    report = check_lookahead(_NextClose(), frame)
    assert not report.ok and report.failed_points == len(report.checked_points)
    violation = report.first_violation
    assert violation is not None
    assert (violation.bar, violation.cut, violation.array) == (10, 10, "stop_distance")
    assert violation.original == pytest.approx(abs(frame.close[11] - frame.close[10]) + 1e-4, rel=1e-12)
    assert violation.perturbed != violation.original
    assert violation.time == np.datetime64("2024-01-01T10:00:00", "ns")
    text = str(report)
    assert "TEST_NEXT_CLOSE: LOOK-AHEAD" in text
    assert "stop_distance at bar 10 (2024-01-01 10:00:00) changed from" in text
    assert "when the bars after bar 10 were changed" in text


def test_centered_window_is_caught_one_bar_before_the_cut() -> None:
    report = check_lookahead(_CenteredMean(), _frame())
    assert report.first_violation is not None
    assert (report.first_violation.bar, report.first_violation.cut) == (9, 10)
    assert report.first_violation.array == "target_distance"


def test_entry_leak_is_caught() -> None:
    report = check_lookahead(_NextSign(), _frame(), n_points=12)
    assert not report.ok and report.first_violation is not None
    assert report.first_violation.array == "entry"
    assert report.first_violation.bar == report.first_violation.cut
    assert report.first_violation.original in (-1, 1)
    assert report.first_violation.perturbed == -report.first_violation.original


def test_global_normalisation_is_caught_at_bar_zero() -> None:
    report = check_lookahead(_GlobalScale(), _frame())
    assert report.first_violation is not None and report.first_violation.bar == 0


def test_nondeterminism_is_not_called_lookahead() -> None:
    report = check_lookahead(_Random(), _frame())
    assert not report.ok and report.first_violation is not None
    assert report.first_violation.kind == "nondeterministic"
    assert "TEST_RANDOM: NOT DETERMINISTIC" in str(report) and "not deterministic" in str(report)


def test_accepts_bars_names_and_symbols() -> None:
    frame = _frame(600)
    assert check_lookahead("S1_TREND_EMA_ATR_ADX", frame, {"ema_slow": 30}, symbol="USDJPY").ok
    bars = Bars.from_frame(frame, instruments.get("EURUSD"))
    assert check_lookahead(_Causal(), bars, n_points=3).checked_points == (10, 304, 598)
    assert assert_causal(_Causal(), bars).ok
    with pytest.raises(TradeScanError, match="TEST_NEXT_CLOSE: LOOK-AHEAD"):
        assert_causal(_NextClose(), bars)
    with pytest.raises(TradeScanError, match="unknown parameter of TEST_CAUSAL 'periods'; did you mean 'period'"):
        check_lookahead(_Causal(), bars, {"periods": 3})


def test_perturbation_keeps_the_prefix_and_valid_bars() -> None:
    bars = Bars.from_frame(_frame(), instruments.get("EURUSD"))
    bars.cached(("x",), lambda: bars.close)
    changed = perturb_after(bars, 100, np.random.default_rng(0))
    assert changed._cache == {}
    for name in ("open", "high", "low", "close", "volume"):
        original, new = getattr(bars, name), getattr(changed, name)
        np.testing.assert_array_equal(new[:101], original[:101])
        assert (new[101:] != original[101:]).all(), name
    assert (changed.high >= np.maximum(changed.open, changed.close)).all()
    assert (changed.low <= np.minimum(changed.open, changed.close)).all() and (changed.low > 0).all()
    np.testing.assert_array_equal(changed.time, bars.time)


def test_cut_points_need_enough_bars() -> None:
    assert cut_points(100, 500) == (98,)
    assert cut_points(5, 0, n_points=10) == (1, 2, 3)
    with pytest.raises(TradeScanError, match="at least 3 bars, got 2"):
        cut_points(2, 0)


# ---- the optional outputs of issue 9: exits, trails, multi-target plans -------------------------------


class _Plan(Strategy):
    """Entries, exits, a trail and a two-target plan; ``leak`` names the output that peeks ahead."""

    name = "TEST_PLAN"

    class Params(BaseModel):
        leak: str = "none"

    def warmup(self, params: BaseModel) -> int:
        return 10

    def signals(self, bars: Bars, params: Params) -> Signals:
        close = bars.close
        fast = ema(close, 10)
        entry = np.where(close > fast, 1, -1).astype(np.int8)
        entry[:10] = 0
        following = np.append(close[1:], close[-1])  # close[t + 1]: the future
        exit_signal = np.where(close < fast, 1, 0).astype(np.int8)
        if params.leak == "exit":
            exit_signal = np.where(following < close, 1, 0).astype(np.int8)
        trail = np.full(len(close), 0.002)
        distance = np.abs(close - fast) + 0.001
        targets = np.column_stack([distance, 2 * distance])
        if params.leak == "targets":
            targets[:, 1] = distance + np.abs(following - close) + 0.0001
        return Signals(entry, np.full(len(close), 0.002), exit=exit_signal, trail_distance=trail, targets=targets,
                       target_fractions=(0.5, 0.5), break_even=True)


def test_causal_plan_passes() -> None:
    assert check_lookahead(_Plan(), _frame()).ok


@pytest.mark.parametrize(("leak", "array"), [("exit", "exit"), ("targets", "targets[:, 1]")])
def test_leaks_in_exits_and_target_columns_are_named(leak: str, array: str) -> None:
    report = check_lookahead(_Plan(), _frame(), {"leak": leak})
    assert not report.ok
    assert report.first_violation is not None and report.first_violation.array == array


class _LeakyCross(Strategy):
    """An EMA cross whose 'above' side reads EMA(fast) one bar ahead: entries only on cross bars, so a
    cut point sees the leak only when a cross sits right at it (a user's strategy, found by a tester)."""

    name = "TEST_LEAKY_CROSS"

    def warmup(self, params: BaseModel) -> int:
        return 29

    def signals(self, bars: Bars, params: BaseModel) -> Signals:
        fast, slow = ema(bars.close, 10), ema(bars.close, 30)
        above, below = np.roll(fast, -1) > slow, fast < slow
        entry = np.zeros(len(bars), dtype=np.int8)
        entry[1:][above[1:] & below[:-1]] = 1
        entry[1:][below[1:] & above[:-1]] = -1
        entry[:29] = 0
        return Signals(entry, np.full(len(bars), 0.002), np.full(len(bars), np.nan))


def test_a_one_bar_leak_in_rare_entries_is_caught_with_the_default_cut_points() -> None:
    from tradescan import data

    frame = data.synthesize("AUDUSD", "H1", 20_000, seed=7)
    report = check_lookahead(_LeakyCross(), frame, symbol="AUDUSD")
    assert len(report.checked_points) == 50 and not report.ok
    assert report.first_violation is not None and report.first_violation.array == "entry"
