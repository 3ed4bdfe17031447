"""Preflight: validate a directive as a whole, then decide ALLOW or BLOCK per symbol (DESIGN §1).

``prepare`` turns a directive file into a ``SweepPlan``: the validated directive, the strategy (found
through the one registry, with the directive's extra strategy folders), its search space checked
against ``Params``, the ``BacktestConfig`` (broker profile loaded once), the instrument facts of every
symbol and the run's lineage, which hashes the resolved config and facts, not only their names.
Anything wrong with the directive as a whole (a bad field, an unknown strategy, a broken space file,
an unknown broker or scenario) refuses the directive with every fault named at once.

``preflight`` then checks each symbol on its own — instrument known, broker has a spread for it, data
present with enough bars for the warm-up, the strategy passes the look-ahead check on those bars — so
one bad symbol is BLOCKed with its reasons while the others run.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tradescan import instruments
from tradescan.directive import Directive, directive_path, find_config_file, load_directive
from tradescan.engine.capital import price_value
from tradescan.engine.config import BacktestConfig
from tradescan.errors import ConfigError, TradeScanError
from tradescan.lineage import Lineage, compute_lineage
from tradescan.paths import BUNDLED_DIR, find_file
from tradescan.paths import data_dir as resolve_data_dir
from tradescan.registry import get_strategy, resolve_strategy_paths, source_hash
from tradescan.search_space import CategoricalParam, SearchSpace, load_search_space
from tradescan.strategy import Strategy

ALLOW = "ALLOW"
BLOCK = "BLOCK"
# Bars needed after the warm-up for a backtest to mean anything (about a month of H1 bars).
MIN_BARS_AFTER_WARMUP = 500
# The look-ahead check recomputes the signals ~10 times; on a long series a prefix is as telling.
LOOKAHEAD_MAX_BARS = 5_000


@dataclass(frozen=True)
class SweepPlan:
    """A validated directive with everything resolved that the sweep and preflight need.

    Attributes:
        directive: the resolved directive (defaults filled).
        label: where it came from (file name), for messages.
        strategy: the strategy instance (from the registry, with ``strategy_dirs``).
        strategy_dirs: absolute extra strategy folders (passed to the Ray workers too).
        space: the search space, checked against ``strategy.Params``.
        data_dir: the data folder.
        lineage: run id, canonical hash and input hashes.
        backtest: the resolved backtest settings every trial and finalist runs under (the actors
            receive it; they never read a broker file).
        instruments: the instrument facts of every known symbol of the directive, as hashed.
    """

    directive: Directive
    label: str
    strategy: Strategy
    strategy_dirs: tuple[str, ...]
    space: SearchSpace
    data_dir: Path
    lineage: Lineage
    backtest: BacktestConfig
    instruments: Mapping[str, instruments.Instrument]

    @property
    def run_id(self) -> str:
        return self.lineage.run_id


@dataclass
class SymbolCheck:
    """Preflight verdict of one symbol; ``bars`` holds its loaded data when it had any."""

    symbol: str
    status: str = ALLOW
    reasons: list[str] = field(default_factory=list)
    n_bars: int = 0
    bars: pd.DataFrame | None = field(default=None, repr=False)

    def block(self, reason: str) -> None:
        """Record a reason to BLOCK this symbol."""
        self.status = BLOCK
        self.reasons.append(reason)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``{"status": ...}`` plus ``reasons`` when blocked."""
        return {"status": self.status, "reasons": list(self.reasons)} if self.reasons else {"status": self.status}


@dataclass
class PreflightReport:
    """Preflight of a whole directive: its run id and hash and one verdict per symbol."""

    plan: SweepPlan
    symbols: dict[str, SymbolCheck]

    @property
    def allowed(self) -> list[str]:
        return [s for s, check in self.symbols.items() if check.status == ALLOW]

    def as_dict(self) -> dict[str, Any]:
        """Return ``{"run_id", "hash", "symbols": {symbol: {"status", "reasons"?}}}`` (DESIGN §11)."""
        return {
            "run_id": self.plan.run_id,
            "hash": self.plan.lineage.hash,
            "symbols": {symbol: check.as_dict() for symbol, check in self.symbols.items()},
        }


# --- the plan ----------------------------------------------------------------------------------------


def _strategy_dirs(directive: Directive, base_dir: Path | None) -> tuple[str, ...]:
    # Beside the directive only (never the working directory), and each must exist: these run code.
    return resolve_strategy_paths(directive.strategy_paths, base_dir, label="strategy_paths")


def default_space_path(strategy: Strategy) -> Path:
    """Return where a strategy's space file is looked for when the directive names none.

    ``search_spaces/<strategy module>.yaml`` by the lookup rule of ``tradescan.paths`` (the working
    directory, then the project folder holding the strategy's folder, then the bundled files), else
    ``<module>.yaml`` beside the strategy file; when none exists, ``./search_spaces/<module>.yaml`` (where
    the user should put it), for the reader to report.
    """
    source = Path(inspect.getsourcefile(type(strategy)) or "strategy.py")
    reference = Path("search_spaces") / f"{source.stem}.yaml"
    found = find_file(reference, base_dir=source.parent.parent)
    if found is not None:
        return found
    beside = source.with_suffix(".yaml")
    return beside if beside.is_file() else Path.cwd() / reference


def _space_path(directive: Directive, strategy: Strategy, base_dir: Path | None) -> Path:
    if directive.search.space is None:
        return default_space_path(strategy)
    found = find_config_file(directive.search.space, base_dir)
    if found is None:
        raise ConfigError(f"search.space: file {directive.search.space!r} not found")
    return found


def _instrument_facts(symbols: Sequence[str]) -> dict[str, instruments.Instrument | None]:
    """Return each symbol's instrument, None for an unknown one (``check_symbol`` BLOCKs it)."""
    facts: dict[str, instruments.Instrument | None] = {}
    for symbol in symbols:
        try:
            facts[symbol] = instruments.get(symbol)
        except TradeScanError:
            facts[symbol] = None
    return facts


def _data_hashes(directive: Directive, folder: Path) -> dict[str, str | None]:
    from tradescan.data import dataset_hash

    hashes: dict[str, str | None] = {}
    for symbol in directive.symbols:
        try:
            hashes[symbol] = dataset_hash(symbol, directive.timeframe, data_dir=folder)
        except TradeScanError:
            hashes[symbol] = None
    return hashes


def _resolve_parts(
    directive: Directive, base_dir: Path | None
) -> tuple[Strategy, tuple[str, ...], SearchSpace, BacktestConfig]:
    problems: list[str] = []
    strategy_dirs = _strategy_dirs(directive, base_dir)
    strategy: Strategy | None = None
    space: SearchSpace | None = None
    try:
        strategy = get_strategy(directive.strategy, strategy_dirs)
    except TradeScanError as exc:
        problems.append(f"strategy: {exc}")
    if strategy is not None:
        try:
            space = load_search_space(_space_path(directive, strategy, base_dir), strategy)
            _check_preset(directive, space)
        except TradeScanError as exc:
            problems.append(f"search.space: {exc}" if not str(exc).startswith("search.") else str(exc))
    config: BacktestConfig | None = None
    try:
        config = directive.backtest_config(base_dir)
    except TradeScanError as exc:
        problems.append(str(exc))
    if problems or strategy is None or space is None or config is None:
        raise ConfigError("; ".join(problems))
    return strategy, strategy_dirs, space, config


def _check_preset(directive: Directive, space: SearchSpace) -> None:
    preset = directive.search.preset
    if preset is not None and preset not in space.presets:
        names = ", ".join(space.presets) or "none"
        raise ConfigError(f"search.preset: {preset!r} is not a preset of the space (presets: {names})")


def prepare(
    directive: str | os.PathLike[str] | Directive, *, data_dir: str | os.PathLike[str] | None = None
) -> SweepPlan:
    """Validate a directive (file or model) and resolve its strategy, space, backtest config and lineage.

    The broker profile and the instrument facts are read here, once; the run id covers their content,
    so editing a broker file or an instrument entry gives a new run id (DESIGN §8).

    Raises:
        ConfigError: naming every fault of the directive as a whole.
    """
    if isinstance(directive, Directive):
        parsed, label, base_dir = directive, directive.name, None
    else:
        path = directive_path(directive)  # as given, else the bundled file (the lookup rule of tradescan.paths)
        parsed, label, base_dir = load_directive(path), path.name, path.resolve().parent
    try:
        strategy, strategy_dirs, space, config = _resolve_parts(parsed, base_dir)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    folder = resolve_data_dir(data_dir).resolve()
    facts = _instrument_facts(parsed.symbols)
    lineage = compute_lineage(
        _with_space_filled(parsed, space),
        data_hashes=_data_hashes(parsed, folder),
        strategy_hash=source_hash(strategy),
        search_space_text=space.text,
        backtest=config,
        instruments=facts,
    )
    known = {symbol: instrument for symbol, instrument in facts.items() if instrument is not None}
    return SweepPlan(parsed, label, strategy, strategy_dirs, space, folder, lineage, config, known)


def _with_space_filled(directive: Directive, space: SearchSpace) -> Directive:
    """Return the directive with ``search.space`` resolved, so that naming the default file and
    leaving it out give the same run id (the file's content is hashed separately)."""
    if space.path is None:
        return directive
    path = space.path.resolve()
    label = str(path.relative_to(BUNDLED_DIR)) if path.is_relative_to(BUNDLED_DIR) else path.name
    search = directive.search.model_copy(update={"space": label})
    return directive.model_copy(update={"search": search})


# --- per-symbol checks -------------------------------------------------------------------------------


def max_warmup(strategy: Strategy, space: SearchSpace) -> int:
    """Return the largest warm-up over the defaults and the space's low and high corners."""
    corners: list[dict[str, Any]] = [{}, {}, {}]
    for name, spec in space.params.items():
        if isinstance(spec, CategoricalParam):
            corners[1][name], corners[2][name] = spec.choices[0], spec.choices[-1]
        else:
            corners[1][name], corners[2][name] = spec.low, spec.high
    warmups = []
    for corner in corners:
        try:
            warmups.append(int(strategy.warmup(strategy.parse_params(corner))))
        except (TradeScanError, ValueError):
            continue  # a corner may break a cross-field rule (fast < slow); the others still count
    return max(warmups, default=0)


def _load_bars(plan: SweepPlan, symbol: str) -> pd.DataFrame:
    from tradescan.data import load

    directive = plan.directive
    return load(symbol, directive.timeframe, start=directive.start, end=directive.end, data_dir=plan.data_dir)


def _data_integrity_problem(plan: SweepPlan, symbol: str) -> str | None:
    """Return why the symbol's stored bytes cannot be trusted (changed file, broken manifest), or None.

    The run's lineage records the data hash; bars whose hash cannot be confirmed must not run under it.
    """
    from tradescan.data import dataset_hash

    try:
        dataset_hash(symbol, plan.directive.timeframe, data_dir=plan.data_dir)
    except TradeScanError as exc:
        return str(exc)
    return None


def _check_lookahead(plan: SweepPlan, check: SymbolCheck, bars: pd.DataFrame, warmup: int) -> None:
    from tradescan.lookahead import check_lookahead

    sample = bars.iloc[: max(LOOKAHEAD_MAX_BARS, 3 * warmup)]
    try:
        report = check_lookahead(plan.strategy, sample, params=None, symbol=check.symbol)
    except Exception as exc:  # a user strategy may raise anything; that is a verdict, not a crash
        check.block(f"strategy {plan.strategy.name} raised during the look-ahead check: {type(exc).__name__}: {exc}")
        return
    if not report.ok:
        check.block(f"look-ahead check failed: {report}")


def check_symbol(plan: SweepPlan, symbol: str) -> SymbolCheck:
    """Return the ALLOW/BLOCK verdict of one symbol (never raises for a symbol-level fault)."""
    check = SymbolCheck(symbol)
    try:
        instrument = instruments.get(symbol)
    except TradeScanError as exc:
        check.block(f"unknown instrument: {exc}")
        return check
    if plan.instruments.get(symbol) != instrument:
        check.block(f"the instrument facts of {symbol} changed after the run id was computed; run again")
        return check
    try:
        plan.backtest.broker.spread_for(symbol)
    except TradeScanError as exc:
        check.block(f"broker lacks the symbol: {exc}")
    try:  # the sweep's sessions take no conversion series: the registry must value the PnL
        price_value(instrument, plan.backtest.capital.currency, 1)
    except TradeScanError as exc:
        check.block(f"account currency: {exc}")
    try:
        bars = _load_bars(plan, symbol)
    except TradeScanError as exc:
        check.block(f"no data: {exc}")
        return check
    integrity_problem = _data_integrity_problem(plan, symbol)
    if integrity_problem:
        check.block(f"data integrity: {integrity_problem}")
        return check
    check.n_bars, check.bars = len(bars), bars
    warmup = max_warmup(plan.strategy, plan.space)
    if len(bars) < warmup + MIN_BARS_AFTER_WARMUP:
        check.block(
            f"too little data: {len(bars)} bars, need at least {warmup + MIN_BARS_AFTER_WARMUP} "
            f"(warm-up up to {warmup} + {MIN_BARS_AFTER_WARMUP})"
        )
        return check
    _check_lookahead(plan, check, bars, warmup)
    return check


def preflight(plan: SweepPlan, symbols: Sequence[str] | None = None) -> PreflightReport:
    """Check every symbol of the plan (or ``symbols``) and return the report."""
    chosen = list(symbols) if symbols is not None else list(plan.directive.symbols)
    return PreflightReport(plan, {symbol: check_symbol(plan, symbol) for symbol in chosen})
