"""``tradescan new-strategy``: write a strategy module and its search space from templates.

Idempotent and safe: a file that already exists is left exactly as it is (it may hold the user's
work) and reported, so running the command twice changes nothing.
"""

from __future__ import annotations

import inspect
import os
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tradescan.errors import TradeScanError

__all__ = [
    "ScaffoldResult", "class_name", "new_strategy", "render_template", "snake_name", "strategy_name", "write_new",
]

_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TEMPLATES = ("strategy.py.tmpl", "search_space.yaml.tmpl")


@dataclass(frozen=True)
class ScaffoldResult:
    """Which files ``new_strategy`` wrote and which it found already there and left alone."""

    name: str
    strategy_file: Path
    search_space_file: Path
    created: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"created {path}" for path in self.created]
        lines += [f"exists, left unchanged: {path}" for path in self.existing]
        if self.created:
            lines.append(
                f"next: edit {self.strategy_file}, then run "
                f"`tradescan check-strategy {self.name} --symbol EURUSD --timeframe H1`"
            )
        return "\n".join(lines)


def _words(name: str) -> list[str]:
    if not _NAME_PATTERN.fullmatch(name):
        raise TradeScanError(
            f"invalid strategy name {name!r}: use 1-64 letters, digits and '_', starting with a letter "
            "(e.g. MY_IDEA or MyIdea)"
        )
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)  # MyIdea -> My_Idea
    return [word for word in spaced.split("_") if word]


def strategy_name(name: str) -> str:
    """Return the registry name: upper snake case (``my idea`` forms -> ``MY_IDEA``)."""
    return "_".join(word.upper() for word in _words(name))


def snake_name(name: str) -> str:
    """Return the module/file stem: lower snake case (``MY_IDEA`` -> ``my_idea``)."""
    return "_".join(word.lower() for word in _words(name))


def class_name(name: str) -> str:
    """Return the class name: CamelCase (``MY_IDEA`` -> ``MyIdea``)."""
    return "".join(word[:1].upper() + word[1:].lower() for word in _words(name))


def render_template(template: str, values: dict[str, str]) -> str:
    """Return the packaged template ``tradescan/templates/<template>`` with ``${name}`` fields filled."""
    text = resources.files("tradescan").joinpath("templates", template).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def new_strategy(
    name: str,
    strategies_dir: str | os.PathLike[str] = "strategies",
    search_spaces_dir: str | os.PathLike[str] | None = None,
) -> ScaffoldResult:
    """Write ``<strategies_dir>/<snake>.py`` and ``<search_spaces_dir>/<snake>.yaml`` from templates.

    ``search_spaces_dir`` defaults to ``search_spaces`` beside ``strategies_dir``. Existing files are
    never overwritten. A name already used by another discovered strategy is refused, since two
    strategies with one name would break discovery.
    """
    registry_name = strategy_name(name)
    stem = snake_name(name)
    folder = Path(strategies_dir)
    space_folder = Path(search_spaces_dir) if search_spaces_dir is not None else folder.parent / "search_spaces"
    strategy_file = folder / f"{stem}.py"
    space_file = space_folder / f"{stem}.yaml"
    if not strategy_file.exists():
        _refuse_taken_name(registry_name, folder)
    values = {
        "strategy_name": registry_name,
        "class_name": class_name(name),
        "snake_name": stem,
        "strategy_file": strategy_file.as_posix(),
    }
    result = ScaffoldResult(registry_name, strategy_file, space_file)
    for template, target in zip(_TEMPLATES, (strategy_file, space_file), strict=True):
        if target.exists():
            result.existing.append(target)
            continue
        write_new(target, render_template(template, values))
        result.created.append(target)
    return result


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file ``path`` (parents made); never replace a file that exists.

    Raises:
        TradeScanError: the file appeared meanwhile (left unchanged), or the folder cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, or no permission
        raise TradeScanError(f"{path.parent}: cannot make the folder: {exc.strerror or exc}") from None
    # "x" mode: fail instead of overwriting a file that appeared since the caller's existence check.
    try:
        handle = path.open("x", encoding="utf-8")
    except FileExistsError:
        raise TradeScanError(f"{path}: appeared while scaffolding; left unchanged") from None
    except OSError as exc:
        raise TradeScanError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with handle:
            handle.write(text)
    except OSError as exc:  # disk full: remove the partial file this call made, or a re-run would keep it
        path.unlink(missing_ok=True)
        raise TradeScanError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _refuse_taken_name(registry_name: str, folder: Path) -> None:
    from tradescan.registry import discover  # imports every strategy module: only when needed

    try:
        known = discover([folder] if folder.is_dir() else [])
    except TradeScanError:
        return  # a broken user module elsewhere must not block scaffolding; discovery reports it
    if registry_name in known:
        raise TradeScanError(
            f"strategy name {registry_name!r} is already used by {known[registry_name].__module__} "
            f"(file {_source(known[registry_name])}); choose another name"
        )


def _source(cls: type) -> str:
    return inspect.getsourcefile(cls) or "?"
