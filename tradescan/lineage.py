"""Run lineage: the canonical hash and the run id of a sweep (DESIGN §8).

The hash covers everything that decides a sweep's results: the *resolved* directive (defaults filled,
keys sorted, numbers normalised so that ``1`` and ``1.0`` hash alike, dates in ISO form), the content
hash of each symbol's data file, the strategy's source hash and the search-space file's text.
Reordering keys keeps the run id; changing any value changes it; the same inputs always give the same
id, which is what lets a re-run resume its Optuna studies instead of starting over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

RUN_ID_HEX_CHARS = 12


def canonical_value(value: Any) -> Any:
    """Return ``value`` as plain JSON data in one canonical form.

    Integral floats become ints (``1.0`` -> ``1``), ``-0.0`` becomes ``0``, dates and datetimes become
    ISO strings, tuples and sets become lists (sets sorted), pydantic models their JSON-mode dump, and
    non-finite floats the strings ``"inf"``, ``"-inf"``, ``"nan"``.
    """
    if isinstance(value, BaseModel):
        return canonical_value(value.model_dump(mode="json"))
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return _canonical_number(float(value) if isinstance(value, float) else value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(canonical_value(v) for v in value)
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalar
        return canonical_value(value.item())
    raise TypeError(f"cannot put a {type(value).__name__} into canonical JSON: {value!r}")


def _canonical_number(number: int | float) -> int | float | str:
    if isinstance(number, int):
        return number
    if not math.isfinite(number):
        return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of ``value``: sorted keys, no spaces, normalised numbers."""
    return json.dumps(canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Lineage:
    """The identity of one sweep.

    Attributes:
        run_id: ``<directive name>-<first 12 hex of hash>``.
        hash: SHA-256 of the canonical JSON of all inputs below.
        directive: the resolved directive as canonical JSON data.
        data_hashes: per symbol, the SHA-256 of its data file (None when it has no data).
        strategy_hash: SHA-256 of the strategy's source file.
        search_space_hash: SHA-256 of the search-space file's text.
    """

    run_id: str
    hash: str
    directive: dict[str, Any]
    data_hashes: dict[str, str | None]
    strategy_hash: str
    search_space_hash: str

    def as_dict(self) -> dict[str, Any]:
        """Return the lineage as JSON data (for the manifest)."""
        return {
            "run_id": self.run_id,
            "hash": self.hash,
            "data_hashes": dict(self.data_hashes),
            "strategy_hash": self.strategy_hash,
            "search_space_hash": self.search_space_hash,
        }


def compute_lineage(
    directive: BaseModel | Mapping[str, Any],
    *,
    data_hashes: Mapping[str, str | None],
    strategy_hash: str,
    search_space_text: str,
) -> Lineage:
    """Return the run id and canonical hash of a resolved directive and its inputs."""
    resolved = canonical_value(directive)
    space_hash = hashlib.sha256(search_space_text.encode("utf-8")).hexdigest()
    payload = {
        "directive": resolved,
        "data": {symbol: data_hashes[symbol] for symbol in sorted(data_hashes)},
        "strategy": strategy_hash,
        "search_space": space_hash,
    }
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    name = str(resolved.get("name", "RUN")) if isinstance(resolved, dict) else "RUN"
    return Lineage(
        run_id=f"{name}-{digest[:RUN_ID_HEX_CHARS]}",
        hash=digest,
        directive=resolved,
        data_hashes=dict(data_hashes),
        strategy_hash=strategy_hash,
        search_space_hash=space_hash,
    )
