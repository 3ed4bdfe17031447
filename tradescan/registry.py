"""The one registry that turns a strategy name into a strategy.

Strategies are discovered, not listed by hand: every ``*.py`` module in the folders below is imported
and its ``Strategy`` subclasses with a ``name`` are registered. The CLI, preflight and the Ray workers
all use this module.

Importing a module runs its code, so plug-in code runs only from folders the user named:

- the bundled ``strategies/`` folder;
- ``./strategies`` of the working directory, when it exists;
- each folder of ``$TRADESCAN_STRATEGY_PATH`` (``os.pathsep``-separated);
- the folders a directive names in ``strategy_paths`` (``resolve_strategy_paths``: relative to the
  directive's own folder, never the working directory), or that a caller passes in ``extra_dirs``.

A named folder that does not exist is an error, not skipped. Folders that anyone may write to (``/tmp``
itself) and the file-system root are refused: their code could be anybody's. A params file (what
``tradescan top --format yaml`` writes) is data, not configuration: the strategy folders it records
are never imported because it names them (``strategy_for_params_file``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

from tradescan.errors import ConfigError, TradeScanError, UnknownNameError, did_you_mean
from tradescan.paths import STRATEGIES_DIR
from tradescan.strategy import Strategy

_MODULE_PREFIX = "tradescan_user_strategies"
_loaded_modules: dict[Path, ModuleType] = {}
STRATEGY_PATH_ENV = "TRADESCAN_STRATEGY_PATH"


def strategy_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Return the folders searched for strategies, in priority order, without duplicates.

    Args:
        extra_dirs: more folders the user named (absolute, or relative to the working directory).

    Raises:
        ConfigError: a folder named in ``$TRADESCAN_STRATEGY_PATH`` or ``extra_dirs`` is missing, not
            a folder, the file-system root, or writable by every user.
    """
    env_path = os.environ.get(STRATEGY_PATH_ENV, "")
    cwd = os.getcwd()
    has_working = (Path(cwd) / "strategies").is_dir()  # outside the cache: a folder made later is seen
    return list(_checked_dirs(cwd, has_working, env_path, tuple(os.fspath(p) for p in extra_dirs)))


@functools.lru_cache(maxsize=64)
def _checked_dirs(cwd: str, has_working: bool, env_path: str, extra_dirs: tuple[str, ...]) -> tuple[Path, ...]:
    # Checking and resolving costs system calls per path component (a tenth of a 100k-bar backtest);
    # the answer depends only on these inputs (a failed check raises and is not cached).
    candidates = [STRATEGIES_DIR]
    working = Path(cwd) / "strategies"
    if has_working:
        candidates.append(_checked_folder(working, f"./strategies of the working directory ({working})"))
    candidates += [
        _checked_folder(Path(p), f"{STRATEGY_PATH_ENV} entry {p!r}") for p in env_path.split(os.pathsep) if p
    ]
    candidates += [_checked_folder(Path(cwd) / p, f"strategy folder {p!r}") for p in extra_dirs]
    return tuple(dict.fromkeys(folder.resolve() for folder in candidates))


def resolve_strategy_paths(entries: Sequence[str], base_dir: Path | None, *, label: str) -> tuple[str, ...]:
    """Return the absolute folders of a file's ``strategy_paths`` (relative entries beside the file).

    Args:
        entries: the folders as written in the file.
        base_dir: the folder of the file that names them; None (a directive built in Python) means
            the working directory.
        label: how to name the field in messages, e.g. ``strategy_paths``.

    Raises:
        ConfigError: an entry is empty or does not name an existing folder of the user's own.
    """
    folders = []
    for entry in entries:
        if not str(entry).strip():
            raise ConfigError(f"{label}: an empty entry; name a folder of strategy modules")
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else (base_dir or Path.cwd()) / path
        folders.append(str(_checked_folder(path, f"{label} entry {entry!r}").resolve()))
    return tuple(folders)


def _checked_folder(path: Path, what: str) -> Path:
    """Return ``path`` if it may hold strategy modules; else say why not."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what}: folder {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read folder {path}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(mode):
        raise ConfigError(f"{what}: {path} is not a folder")
    resolved = path.resolve()
    if resolved.parent == resolved:
        raise ConfigError(f"{what}: {path} is the file-system root; name the folder that holds your strategies")
    if mode & stat.S_IWOTH:
        raise ConfigError(
            f"{what}: {path} is writable by every user, so its modules could be anyone's code; "
            "keep strategies in a folder of your own"
        )
    return path


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
        if inspect.isclass(obj)
        and issubclass(obj, Strategy)
        and obj is not Strategy
        and obj.__module__ == module.__name__
        and obj.name
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


def get_strategy(strategy: str | Strategy, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> Strategy:
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


def strategy_for_params_file(name: str, recorded_dirs: Sequence[str], *, label: str) -> Strategy:
    """Return strategy ``name`` for a params file, without importing the folders the file records.

    A params file travels (``top`` writes it, people mail it, keep it in /tmp), so the folders it
    records are not a request to run their code: the strategy is looked up on the user's own search
    path (bundled, ``./strategies``, ``$TRADESCAN_STRATEGY_PATH``). When it is not there, the error
    names the recorded folders and how to allow one.

    Raises:
        UnknownNameError: the strategy is not on the search path.
    """
    try:
        return get_strategy(name)
    except UnknownNameError as exc:
        searched = strategy_dirs()
        recorded = [folder for folder in recorded_dirs if Path(folder).resolve() not in searched]
        if not recorded:
            raise
        shown = ", ".join(str(folder) for folder in recorded)
        raise UnknownNameError(
            f"{exc}; {label} records the strategy folder(s) {shown}, but a params file does not run code from "
            f"folders it names: add the folder to {STRATEGY_PATH_ENV} to use its strategies"
        ) from None


def source_hash(strategy: Strategy) -> str:
    """Return the SHA-256 of the source file defining ``strategy``'s class (part of run lineage)."""
    path = inspect.getsourcefile(type(strategy))
    if path is None:
        source = inspect.getsource(type(strategy))
        return hashlib.sha256(source.encode()).hexdigest()
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
