"""Regime labels (DESIGN §5): vectorised vs a plain reference, and vs the bar-by-bar stream."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tradescan.indicators import atr, true_range
from tradescan.regime import (
    VOL_HIGH,
    VOL_LOW,
    VOL_MID,
    VOL_UNKNOWN,
    RegimeSettings,
    regime_codes,
    regime_codes_streaming,
    regime_label,
    regime_labels,
)


def _bars(n_bars: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    volatility = 0.002 * np.exp(np.cumsum(rng.normal(0, 0.03, n_bars)))  # regimes that drift
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 1, n_bars) * volatility))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.5, n_bars)) * volatility)
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.5, n_bars)) * volatility)
    high[::97] *= 1.01  # a few spikes
    return high, low, close


def _reference(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, settings: RegimeSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The definition, literally: a two-pass z-score over every window."""
    atr_pct = atr(high, low, close, settings.atr_n) / close * 100
    codes = np.zeros(len(close), dtype=np.int8)
    for t in range(settings.atr_n + settings.window - 1, len(close)):
        window = atr_pct[t - settings.window + 1 : t + 1]
        std = window.std()
        z = 0.0 if std == 0 else (atr_pct[t] - window.mean()) / std
        codes[t] = VOL_LOW if z < settings.z_low else VOL_HIGH if z > settings.z_high else VOL_MID
    spike = np.nan_to_num(true_range(high, low, close) / atr(high, low, close, settings.atr_n)) > settings.spike_th
    return codes, spike


@pytest.mark.parametrize("settings", [RegimeSettings(atr_n=14, window=200), RegimeSettings(atr_n=5, window=31)])
def test_regime_codes_match_the_definition(settings: RegimeSettings) -> None:
    high, low, close = _bars(3000, seed=3)
    codes, spike = regime_codes(high, low, close, settings)
    expected_codes, expected_spike = _reference(high, low, close, settings)
    assert codes.dtype == np.int8 and spike.dtype == bool
    assert (codes[: settings.warmup] == VOL_UNKNOWN).all()
    assert (codes[settings.warmup :] != VOL_UNKNOWN).all()
    assert np.array_equal(codes, expected_codes)
    assert np.array_equal(spike, expected_spike)
    assert set(np.unique(codes[settings.warmup :])) == {VOL_LOW, VOL_MID, VOL_HIGH}
    assert spike.any()


@pytest.mark.parametrize(
    "settings", [RegimeSettings(), RegimeSettings(atr_n=5, window=50), RegimeSettings(atr_n=20, window=7)]
)
def test_streaming_equals_vectorised(settings: RegimeSettings) -> None:
    high, low, close = _bars(6000, seed=11)
    codes, spike = regime_codes(high, low, close, settings)
    live_codes, live_spike = regime_codes_streaming(high, low, close, settings)
    assert np.array_equal(codes, live_codes)
    assert np.array_equal(spike, live_spike)


def test_flat_market_is_mid_and_causal() -> None:
    n_bars = 400
    close = np.full(n_bars, 1.2)
    high, low = close + 0.001, close - 0.001
    settings = RegimeSettings(atr_n=14, window=50)
    codes, spike = regime_codes(high, low, close, settings)
    assert (codes[settings.warmup :] == VOL_MID).all() and not spike.any()  # std 0 -> z 0 -> MID
    high2, low2, close2 = _bars(600, seed=5)
    full = regime_codes(high2, low2, close2, settings)
    cut = regime_codes(high2[:300], low2[:300], close2[:300], settings)
    assert np.array_equal(full[0][:300], cut[0]) and np.array_equal(full[1][:300], cut[1])


def test_labels() -> None:
    assert regime_label(VOL_MID, False) == "VOL=MID|SPIKE=0"
    assert regime_label(VOL_UNKNOWN, True) == "VOL=UNKNOWN|SPIKE=1"
    labels = regime_labels(np.array([0, 1, 2, 3], dtype=np.int8), np.array([False, True, False, True]))
    assert labels.dtype == object
    assert labels.tolist() == ["VOL=UNKNOWN|SPIKE=0", "VOL=LOW|SPIKE=1", "VOL=MID|SPIKE=0", "VOL=HIGH|SPIKE=1"]


def test_settings_are_frozen_and_checked() -> None:
    settings = RegimeSettings()
    assert (settings.atr_n, settings.window, settings.z_low, settings.z_high, settings.spike_th) == (
        14, 960, -0.5, 0.5, 2.5,
    )
    with pytest.raises(ValidationError):
        settings.window = 10
    with pytest.raises(ValidationError, match="extra"):
        RegimeSettings(windw=10)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=r"z_low <= z_high must hold, but got \(z_low=1.0, z_high=0.0\)"):
        RegimeSettings(z_low=1.0, z_high=0.0)
