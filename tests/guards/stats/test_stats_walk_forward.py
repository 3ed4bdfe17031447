"""Walk-forward fold layout, WFE and the OOS Sharpe of the concatenated folds."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from tradescan.guards import FoldResult, UndefinedStatistic, WalkForwardResult, annualised_return, walk_forward_folds


def _windows(folds):
    return [(f.train_start, f.train_end, f.test_start, f.test_end) for f in folds]


def test_rolling_layout_tiles_the_end_of_the_series():
    folds = walk_forward_folds(1000, 5)  # r = 3: test 1000 // 8 = 125 bars, train 1000 - 5 * 125 = 375
    assert _windows(folds) == [
        (0, 375, 375, 500),
        (125, 500, 500, 625),
        (250, 625, 625, 750),
        (375, 750, 750, 875),
        (500, 875, 875, 1000),
    ]
    assert [f.fold for f in folds] == [0, 1, 2, 3, 4]
    assert folds[0].train_bars == 375 and folds[0].test_bars == 125


def test_anchored_layout_and_rounding_going_to_train():
    folds = walk_forward_folds(1003, 5, anchored=True)
    assert _windows(folds)[0] == (0, 378, 378, 503) and _windows(folds)[-1] == (0, 878, 878, 1003)
    half = walk_forward_folds(100, 4, train_fraction=0.5)  # r = 1: test 20, train 20
    assert _windows(half) == [(0, 20, 20, 40), (20, 40, 40, 60), (40, 60, 60, 80), (60, 80, 80, 100)]


def test_layout_errors():
    with pytest.raises(ValueError, match="too few for 5 folds"):
        walk_forward_folds(7, 5)
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        walk_forward_folds(1000, 5, train_fraction=1.0)


def _fold(index, train_return, test_return, *, train_years=2.0, test_years=1.0, trades=10, daily=()):
    window = walk_forward_folds(1000, 5)[index]
    return FoldResult(window, {"p": index}, train_return, train_years, test_return, test_years, trades, np.array(daily))


def test_efficiency_is_the_ratio_of_time_weighted_annualised_returns():
    result = WalkForwardResult([_fold(0, 0.21, 0.05), _fold(1, 0.21, 0.05)], days_per_year=252)
    assert result.in_sample_return() == pytest.approx(0.1)  # (1.21 * 1.21)^(1/4) - 1
    assert result.out_of_sample_return() == pytest.approx(0.05)  # (1.05 * 1.05)^(1/2) - 1
    assert result.efficiency() == pytest.approx(0.5)
    assert annualised_return(0.21, 2.0) == pytest.approx(0.1)
    assert annualised_return(-1.5, 2.0) == -1.0


def test_efficiency_is_undefined_without_an_in_sample_gain():
    with pytest.raises(UndefinedStatistic, match=r"in-sample annualised return is -2.5\d*% <= 0"):
        WalkForwardResult([_fold(0, -0.05, 0.1, train_years=2.0)], days_per_year=252).efficiency()
    with pytest.raises(UndefinedStatistic, match="no walk-forward fold"):
        WalkForwardResult([], days_per_year=252).efficiency()


def test_oos_sharpe_of_the_concatenated_folds_and_trade_count():
    first, second = [0.01, -0.005, 0.02], [0.0, 0.01]
    result = WalkForwardResult(
        [_fold(0, 0.1, 0.02, trades=31, daily=first), _fold(1, 0.1, 0.01, trades=30, daily=second)], 365
    )
    concatenated = first + second
    expected = statistics.mean(concatenated) / statistics.stdev(concatenated) * math.sqrt(365)
    assert result.oos_sharpe() == pytest.approx(expected, rel=1e-12)
    assert result.oos_trades() == 61
    with pytest.raises(UndefinedStatistic, match="flat over 4 days"):
        WalkForwardResult([_fold(0, 0.1, 0.0, daily=[0.0] * 4)], 252).oos_sharpe()


def test_fold_result_checks_its_fields():
    with pytest.raises(ValueError, match="fold 0: test_return must be finite"):
        _fold(0, 0.1, math.nan)
    with pytest.raises(ValueError, match="fold 2: test_trades must be >= 0"):
        _fold(2, 0.1, 0.1, trades=-1)
