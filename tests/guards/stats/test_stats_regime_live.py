"""Live-feed regime labels against the batch labels a backtest uses."""

from __future__ import annotations

import numpy as np
import pytest

from tradescan.data import synthesize
from tradescan.guards import UndefinedStatistic, live_regime_codes, regime_mismatch
from tradescan.indicators import atr
from tradescan.regime import RegimeSettings, regime_codes

SETTINGS = RegimeSettings(atr_n=14, window=100)


@pytest.fixture(scope="module")
def bars():
    frame = synthesize("EURUSD", "H1", 3000, seed=4)
    return frame["high"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy()


def test_causal_batch_labels_match_the_live_feed(bars):
    codes, spikes = regime_codes(*bars, SETTINGS)
    for method in ("stream", "checkpoints"):
        result = regime_mismatch(*bars, codes, spikes, SETTINGS, method=method, checkpoint_every=250)
        assert result.share == 0.0 and result.n_mismatched == 0 and result.first_mismatch is None
    assert regime_mismatch(*bars, codes, spikes, SETTINGS).n_compared == 3000
    assert regime_mismatch(*bars, codes, spikes, SETTINGS, method="checkpoints", checkpoint_every=250).n_compared == 12


def test_altered_labels_are_counted(bars):
    codes, spikes = regime_codes(*bars, SETTINGS)
    codes = codes.copy()
    changed = [400, 900, 901, 2500, 2999]
    codes[changed] = (codes[changed] % 3) + 1  # a different VOL_* code on each
    result = regime_mismatch(*bars, codes, spikes, SETTINGS)
    assert result.n_mismatched == 5 and result.share == pytest.approx(5 / 3000) and result.first_mismatch == 400
    checkpoints = regime_mismatch(*bars, codes, spikes, SETTINGS, method="checkpoints", checkpoint_every=1000)
    assert checkpoints.n_compared == 3 and checkpoints.n_mismatched == 1 and checkpoints.first_mismatch == 2999


def test_labels_that_look_ahead_are_caught(bars):
    # A z-score normalised over the whole series (mean and std of all bars) is the classic leak.
    high, low, close = bars
    atr_pct = atr(high, low, close, 14) / close * 100
    z_values = (atr_pct - np.nanmean(atr_pct)) / np.nanstd(atr_pct)
    leaked = np.where(np.isnan(z_values), 0, np.where(z_values < -0.5, 1, np.where(z_values > 0.5, 3, 2)))
    _, spikes = regime_codes(*bars, SETTINGS)
    assert regime_mismatch(*bars, leaked, spikes, SETTINGS).share > 0.2


def test_checkpoint_labels_agree_with_the_stream(bars):
    index, codes, spikes = live_regime_codes(*bars, SETTINGS, method="checkpoints", checkpoint_every=700)
    assert index.tolist() == [699, 1399, 2099, 2799, 2999]
    _, stream_codes, stream_spikes = live_regime_codes(*bars, SETTINGS)
    np.testing.assert_array_equal(codes, stream_codes[index])
    np.testing.assert_array_equal(spikes, stream_spikes[index])


def test_bad_inputs(bars):
    codes, spikes = regime_codes(*bars, SETTINGS)
    with pytest.raises(ValueError, match=r"one length, got lengths \[2999, 3000\]"):
        regime_mismatch(*bars, codes[1:], spikes, SETTINGS)
    with pytest.raises(UndefinedStatistic, match="no bars"):
        regime_mismatch([], [], [], [], [], SETTINGS)
    with pytest.raises(ValueError, match="'stream' or 'checkpoints'"):
        live_regime_codes(*bars, SETTINGS, method="batch")  # type: ignore[arg-type]
