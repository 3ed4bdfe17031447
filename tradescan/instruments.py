"""Instrument registry: pip size, precision, contract size, currencies, asset class, calendar.

The bundled ``configs/instruments.yaml`` is merged with the project's ``./configs/instruments.yaml`` and a
user file named by ``$TRADESCAN_INSTRUMENTS`` (later files win, field by field). An unknown symbol is an
error listing the closest names — never a silent default pip size.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, describe_validation_error, did_you_mean
from tradescan.frozen import FrozenModel
from tradescan.paths import CONFIGS_DIR
from tradescan.yaml_files import parse_yaml, read_text, read_yaml

SYMBOL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
BUNDLED_INSTRUMENTS_FILE = CONFIGS_DIR / "instruments.yaml"
PROJECT_INSTRUMENTS_FILE = Path("configs") / "instruments.yaml"

AssetClass = Literal["fx", "metal", "index", "crypto", "stock", "commodity"]


class Instrument(FrozenModel):
    """One tradable symbol and the facts the engine needs about it."""

    symbol: str
    pip_size: float = Field(gt=0)
    price_precision: int = Field(ge=0, le=12)
    contract_size: float = Field(gt=0)
    base: str
    quote: str
    asset_class: AssetClass
    days_per_year: Literal[252, 365]
    # Price of one unit of `quote` in `conversion_currency`, used when neither currency is the
    # account currency and no conversion series is given.
    quote_rate: dict[str, float] = Field(default_factory=dict)

    @field_validator("base", "quote")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{2,10}", value):
            raise ValueError(f"currency code must be 2-10 upper-case letters/digits, got {value!r}")
        return value


def validate_symbol(symbol: str) -> str:
    """Return ``symbol`` if it is a safe name (letters, digits, ``._-``), else raise.

    A symbol becomes part of a file name in the data folder, so anything that could climb out of that
    folder (``..``, ``/``, ``\\``) or hide a file (a leading dot) is refused.
    """
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol) or ".." in symbol:
        raise TradeScanError(
            f"invalid symbol {symbol!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no path separators, no '..')"
        )
    return symbol


def _read_yaml_mapping(path: Path, text: str | None = None) -> dict[str, dict[str, object]]:
    loaded = (read_yaml(path, what="instruments file") if text is None else parse_yaml(text, label=str(path))) or {}
    if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
        raise ConfigError(f"{path}: expected a mapping SYMBOL: {{pip_size: ..., ...}}")
    return loaded


def _build(path_label: str, raw: dict[str, dict[str, object]]) -> dict[str, Instrument]:
    instruments: dict[str, Instrument] = {}
    for symbol, fields in raw.items():
        validate_symbol(str(symbol))
        try:
            instruments[str(symbol)] = Instrument.model_validate({**fields, "symbol": str(symbol)})
        except ValidationError as exc:
            raise ConfigError(f"{path_label}: {describe_validation_error(exc, prefix=f'{symbol}.')}") from None
    return instruments


def instrument_files() -> tuple[str, ...]:
    """Return the files merged into the registry, later over earlier: bundled, ``./configs/instruments.yaml``
    (when it exists: the lookup rule of ``tradescan.paths``), ``$TRADESCAN_INSTRUMENTS`` (when set)."""
    files = [str(BUNDLED_INSTRUMENTS_FILE)]
    project_file = Path.cwd() / PROJECT_INSTRUMENTS_FILE
    if project_file.is_file() and project_file.resolve() != BUNDLED_INSTRUMENTS_FILE:
        files.append(str(project_file.resolve()))
    if os.environ.get("TRADESCAN_INSTRUMENTS"):
        files.append(os.environ["TRADESCAN_INSTRUMENTS"])
    return tuple(files)


def _current_registry() -> dict[str, Instrument]:
    # Keyed by the files' text: reading them costs microseconds, parsing milliseconds, and an edited
    # file (an instrument fact that changes results, and so the run id) is seen at once.
    files = instrument_files()
    texts = tuple(read_text(Path(file), what="instruments file") for file in files)
    return _registry(files, texts)


@functools.lru_cache(maxsize=4)
def _registry(files: tuple[str, ...], texts: tuple[str, ...]) -> dict[str, Instrument]:
    raw: dict[str, dict[str, object]] = {}
    for file, text in zip(files, texts, strict=True):
        for symbol, fields in _read_yaml_mapping(Path(file), text).items():
            raw[symbol] = {**raw.get(symbol, {}), **fields}
    return _build(" + ".join(files), raw)


def all_instruments() -> dict[str, Instrument]:
    """Return every known instrument, bundled and user-defined, by symbol."""
    return dict(_current_registry())


def get(symbol: str) -> Instrument:
    """Return the instrument for ``symbol`` or raise an error naming the closest known symbols."""
    validate_symbol(symbol)
    registry = _current_registry()
    try:
        return registry[symbol]
    except KeyError:
        raise UnknownNameError(did_you_mean(symbol, registry, what="symbol")) from None
