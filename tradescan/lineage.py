"""Run lineage: the canonical hash and the run id of a sweep (DESIGN §8).

The hash covers everything that decides a sweep's results: the *resolved* directive (defaults filled,
keys sorted, numbers normalised so that ``1`` and ``1.0`` hash alike, dates in ISO form), the resolved
``BacktestConfig`` (the broker profile's content, not its name), the instrument facts of every symbol,
the content hash of each symbol's data file, the strategy's source hash and the search-space file's
text. Reordering keys keeps the run id; changing any value that changes a result changes it; the same
inputs always give the same id, which is what lets a re-run resume its Optuna studies.

Budget-only fields (``BUDGET_FIELDS``) are left out of the hash: a smaller budget's results are a
prefix of a larger one's, so raising the budget resumes and extends the same run instead of starting
a new one. ``search.trials``: TPE asks in fixed batches of ``batch_size`` and each ask depends only on
the trials before it, so the first N trials of a longer run are those of an N-trial run; random draws
depend on the trial number alone; a grid runs its points in one fixed order (a budget beyond the grid
runs the whole grid). A run with a *smaller* budget than what is stored uses the first ``trials``
trials. After an extension, TPE proposes the new trials from the stored ones, so a run raised from 200
to 300 and one of 300 from scratch share their first 200 trials, not necessarily the other 100 (random
and grid are identical either way). ``stage2.top_k``: stage 2 is recomputed from the trials on every
run and its ranks 1..k are the same for any larger k. ``trial_timeout_s``: an operational limit, like
the worker count (a slower machine needs a larger one); a trial it failed stays FAIL on a resume.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

RUN_ID_HEX_CHARS = 12
# Dotted paths of the directive fields that only set how much work a run does (see the module doc).
BUDGET_FIELDS = ("search.trials", "stage2.top_k", "trial_timeout_s", "guards")


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
        backtest: the resolved ``BacktestConfig`` as canonical JSON data (None when not given).
        instruments: per symbol, its instrument facts as canonical JSON data (None when unknown).
        budget: the budget-only fields' values (``BUDGET_FIELDS``), not part of the hash.
    """

    run_id: str
    hash: str
    directive: dict[str, Any]
    data_hashes: dict[str, str | None]
    strategy_hash: str
    search_space_hash: str
    backtest: dict[str, Any] | None = None
    instruments: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the lineage as JSON data (for the manifest)."""
        return {
            "run_id": self.run_id,
            "hash": self.hash,
            "data_hashes": dict(self.data_hashes),
            "strategy_hash": self.strategy_hash,
            "search_space_hash": self.search_space_hash,
            "backtest": self.backtest,
            "instruments": dict(self.instruments),
            "budget": dict(self.budget),
        }


def split_budget(directive: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(directive without the budget-only fields, {dotted path: value})`` of canonical data."""
    hashed = copy.deepcopy(dict(directive))
    budget: dict[str, Any] = {}
    for dotted in BUDGET_FIELDS:
        *parents, leaf = dotted.split(".")
        section: Any = hashed
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else None
        if isinstance(section, dict) and leaf in section:
            budget[dotted] = section.pop(leaf)
    return hashed, budget


def compute_lineage(
    directive: BaseModel | Mapping[str, Any],
    *,
    data_hashes: Mapping[str, str | None],
    strategy_hash: str,
    search_space_text: str,
    backtest: BaseModel | Mapping[str, Any] | None = None,
    instruments: Mapping[str, BaseModel | Mapping[str, Any] | None] | None = None,
) -> Lineage:
    """Return the run id and canonical hash of a resolved directive and its inputs.

    Args:
        directive: the resolved directive (its budget-only fields are not hashed).
        data_hashes: per symbol, the SHA-256 of its data file (None when it has none).
        strategy_hash: SHA-256 of the strategy's source.
        search_space_text: the search-space file's text.
        backtest: the resolved ``BacktestConfig`` (broker content, capital, scenarios, ...).
        instruments: per symbol, its instrument facts (None for an unknown symbol).
    """
    resolved = canonical_value(directive)
    hashed_directive, budget = split_budget(resolved) if isinstance(resolved, dict) else (resolved, {})
    space_hash = hashlib.sha256(search_space_text.encode("utf-8")).hexdigest()
    backtest_data = canonical_value(backtest) if backtest is not None else None
    instrument_data = {symbol: canonical_value(facts) for symbol, facts in sorted((instruments or {}).items())}
    payload = {
        "directive": hashed_directive,
        "backtest": backtest_data,
        "instruments": instrument_data,
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
        backtest=backtest_data,
        instruments=instrument_data,
        budget=budget,
    )
