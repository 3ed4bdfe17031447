"""The one registry that turns a strategy name into a strategy.

Strategies are discovered, not listed by hand: every ``*.py`` module in the bundled ``strategies/``
folder, in ``./strategies`` of the working directory, in each folder of ``$TRADESCAN_STRATEGY_PATH``
(``os.pathsep``-separated) and in any extra folder a caller names, is imported and its ``Strategy``
subclasses with a ``name`` are registered. The CLI, preflight and the Ray workers all use this module.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from tradescan.errors import TradeScanError, UnknownNameError, did_you_mean
from tradescan.paths import STRATEGIES_DIR
from tradescan.strategy import Strategy

_MODULE_PREFIX = "tradescan_user_strategies"
_loaded_modules: dict[Path, ModuleType] = {}


def strategy_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Return the folders searched for strategies, in priority order, without duplicates."""
    env_path = os.environ.get("TRADESCAN_STRATEGY_PATH", "")
    candidates = _resolved_candidates(os.getcwd(), env_path, tuple(os.fspath(p) for p in extra_dirs))
    return [folder for folder in candidates if folder.is_dir()]


@functools.lru_cache(maxsize=64)
def _resolved_candidates(cwd: str, env_path: str, extra_dirs: tuple[str, ...]) -> tuple[Path, ...]:
    # Resolving costs a system call per path component (a tenth of a 100k-bar backtest); the answer
    # depends only on these three inputs.
    candidates = [STRATEGIES_DIR, Path(cwd) / "strategies"]
    candidates += [Path(p) for p in env_path.split(os.pathsep) if p]
    candidates += [Path(cwd) / p for p in extra_dirs]
    return tuple(dict.fromkeys(folder.resolve() for folder in candidates))


def _import_file(path: Path) -> ModuleType:
    if path in _loaded_modules:
        return _loaded_modules[path]
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    module_name = f"{_MODULE_PREFIX}.{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise TradeScanError(f"{path}: cannot be imported as a strategy module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        reason = f"{type(exc).__name__}: {exc}"
        raise TradeScanError(f"{path}: strategy module failed to import: {reason}") from exc
    _loaded_modules[path] = module
    return module


@functools.lru_cache(maxsize=256)
def _strategies_in(module: ModuleType) -> list[type[Strategy]]:
    # A loaded module is never re-executed (``_loaded_modules``), so its classes are listed once.
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Strategy) and obj is not Strategy
        and obj.__module__ == module.__name__ and obj.name
    ]


def discover(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> dict[str, type[Strategy]]:
    """Import every strategy module on the search path and return the classes by name.

    Two classes with the same name in different files are an error naming both files.
    """
    found: dict[str, type[Strategy]] = {}
    for folder in strategy_dirs(extra_dirs):
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            for cls in _strategies_in(_import_file(path)):
                if cls.name in found and found[cls.name] is not cls:
                    other = inspect.getsourcefile(found[cls.name])
                    raise TradeScanError(f"strategy name {cls.name!r} is defined twice: {other} and {path}")
                found[cls.name] = cls
    return found


def get_strategy(
    strategy: str | Strategy, extra_dirs: Iterable[str | os.PathLike[str]] = ()
) -> Strategy:
    """Return a strategy instance for a registered name, or ``strategy`` itself if it is an instance."""
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy()
    registry = discover(extra_dirs)
    try:
        return registry[strategy]()
    except KeyError:
        raise UnknownNameError(did_you_mean(str(strategy), registry, what="strategy")) from None


def source_hash(strategy: Strategy) -> str:
    """Return the SHA-256 of the source file defining ``strategy``'s class (part of run lineage)."""
    path = inspect.getsourcefile(type(strategy))
    if path is None:
        source = inspect.getsource(type(strategy))
        return hashlib.sha256(source.encode()).hexdigest()
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
