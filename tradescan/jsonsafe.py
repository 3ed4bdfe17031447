"""Plain JSON data from Python values: non-finite floats as strings, NumPy scalars as numbers.

JSON has no ``inf`` or ``nan``; Python's ``json`` writes ``Infinity``/``NaN``, which other readers
refuse. Every layer that writes JSON (the results store, the sweep's trial attributes, the CLI's
``--json``) goes through ``json_safe`` so that the same value is written the same way everywhere.
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """Return ``value`` with non-finite floats turned into strings ("inf", "-inf", "nan") for JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalar
        return json_safe(value.item())
    return value
