"""Exports of strategies and finalists to other platforms.

* ``pine``        ``render_pine(strategy, params, settings)`` -> a Pine v6 TradingView strategy that
                  follows the engine's rules; ``find_template`` (how a plug-in ships its Pine signal
                  code), ``pine_costs`` (a broker scenario in TradingView's terms), ``settings_for``;
* ``run_export``  ``export_run_pine(run_id, symbol, rank)``: the same for a stored run's finalist.
"""

from __future__ import annotations

from tradescan.export.pine import (
    PineCosts,
    PinePlan,
    PineSettings,
    find_template,
    pine_costs,
    render_pine,
    settings_for,
)
from tradescan.export.run_export import export_run_pine

__all__ = [
    "PineCosts",
    "PinePlan",
    "PineSettings",
    "export_run_pine",
    "find_template",
    "pine_costs",
    "render_pine",
    "settings_for",
]
