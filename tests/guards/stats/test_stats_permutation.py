"""permute_bars keeps bar shapes, gaps, the kept bars and the last close; the p-value's definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradescan.guards import UndefinedStatistic, permutation_pvalue, permute_bars


def _bars(n_bars: int = 3000, seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    """Continuous GBM bars; ``volume`` holds each bar's own index, so a bar can be followed."""
    rng = np.random.default_rng(seed)
    log_close = np.log(100.0 * scale) + np.cumsum(rng.normal(0, 0.002, n_bars))
    log_open = np.concatenate(([np.log(100.0 * scale)], log_close[:-1])) + rng.normal(0, 0.0005, n_bars)
    up = np.maximum(log_open, log_close) + np.abs(rng.normal(0, 0.001, n_bars))
    down = np.minimum(log_open, log_close) - np.abs(rng.normal(0, 0.001, n_bars))
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-01-01", periods=n_bars, freq="h", tz="UTC"),
            "open": np.exp(log_open),
            "high": np.exp(up),
            "low": np.exp(down),
            "close": np.exp(log_close),
            "volume": np.arange(n_bars, dtype=np.float64),
        }
    )


def _shapes(frame: pd.DataFrame) -> np.ndarray:
    log_open = np.log(frame["open"].to_numpy())
    return np.column_stack([np.log(frame[c].to_numpy()) - log_open for c in ("high", "low", "close")])


def _gaps(frame: pd.DataFrame) -> np.ndarray:
    return np.log(frame["open"].to_numpy()[1:]) - np.log(frame["close"].to_numpy()[:-1])


@pytest.mark.parametrize(("seed", "start_index"), [(1, 0), (2, 50), (3, 2998)])
def test_last_close_kept_bars_and_validity(seed, start_index):
    bars = _bars()
    permuted = permute_bars(bars, seed, start_index=start_index)
    assert abs(permuted["close"].iloc[-1] / bars["close"].iloc[-1] - 1.0) <= 1e-12
    pd.testing.assert_frame_equal(permuted.iloc[: start_index + 1], bars.iloc[: start_index + 1])
    assert (permuted["time"] == bars["time"]).all()
    assert (permuted["high"] >= permuted[["open", "close"]].max(axis=1)).all()
    assert (permuted["low"] <= permuted[["open", "close"]].min(axis=1)).all()
    assert (permuted[["open", "high", "low", "close"]] > 0).all().all()


def test_each_bar_keeps_its_shape_and_the_gaps_keep_their_multiset():
    bars, start_index = _bars(), 100
    permuted = permute_bars(bars, 7, start_index=start_index)
    origin = permuted["volume"].to_numpy().astype(int)  # which original bar each row's shape came from
    assert sorted(origin[start_index + 1 :]) == list(range(start_index + 1, len(bars)))
    assert not np.array_equal(origin, np.arange(len(bars)))
    moved = slice(start_index + 1, None)
    np.testing.assert_allclose(_shapes(permuted)[moved], _shapes(bars)[origin[moved]], atol=1e-9)
    np.testing.assert_allclose(
        np.sort(_gaps(permuted)[start_index:]), np.sort(_gaps(bars)[start_index:]), rtol=0, atol=1e-9
    )


def test_same_seed_same_series_other_seed_other_series():
    bars = _bars(500)
    pd.testing.assert_frame_equal(permute_bars(bars, 11), permute_bars(bars, 11))
    assert not np.allclose(permute_bars(bars, 11)["close"], permute_bars(bars, 12)["close"])


def test_a_list_of_symbols_is_permuted_alike():
    first, second = _bars(800, seed=0), _bars(800, seed=0, scale=3.0)
    permuted_first, permuted_second = permute_bars([first, second], 5, start_index=10)
    np.testing.assert_array_equal(permuted_first["volume"], permuted_second["volume"])
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(permuted_second[column], 3.0 * permuted_first[column], rtol=1e-12)


def test_symbols_of_different_length_or_times_are_refused():
    with pytest.raises(ValueError, match="same length; frame 0 has 800 bars, frame 1 has 799"):
        permute_bars([_bars(800), _bars(799)], 1)
    shifted = _bars(800)
    shifted.loc[5:, "time"] = shifted.loc[5:, "time"] + pd.Timedelta(hours=1)
    with pytest.raises(ValueError, match="same times; frame 1, row 5"):
        permute_bars([_bars(800), shifted], 1)


def test_bad_prices_and_start_index_are_refused():
    bars = _bars(100)
    bars.loc[42, "low"] = -1.0
    with pytest.raises(ValueError, match=r"frame 0, row 42: low=-1.0; prices must be finite and > 0"):
        permute_bars(bars, 1)
    with pytest.raises(ValueError, match="lacks columns"):
        permute_bars(_bars(100).drop(columns="high"), 1)
    with pytest.raises(ValueError, match=r"start_index must be in 0..99"):
        permute_bars(_bars(100), 1, start_index=100)


def test_pvalue_definition():
    assert permutation_pvalue(1.0, [0.5, 1.0, 2.0, -1.0]) == pytest.approx(3 / 5)
    assert permutation_pvalue(9.0, np.zeros(99)) == pytest.approx(1 / 100)
    with pytest.raises(UndefinedStatistic, match="no permuted score"):
        permutation_pvalue(1.0, [])
    with pytest.raises(UndefinedStatistic, match="1 of 3 permuted scores are NaN"):
        permutation_pvalue(1.0, [0.1, np.nan, 0.2])
