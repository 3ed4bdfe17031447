"""``tradescan init``: write an editable project folder — a directive, a broker file, a strategy and its space.

The folder follows the lookup rule of ``tradescan.paths``: run from it, its ``configs/``, ``strategies/``
and ``search_spaces/`` come first and Trade_Scan's bundled files fill in the rest, so every file written
here is a working starting point the user edits. Like ``new-strategy``, it is idempotent and safe: a
file that exists is left exactly as it is and reported, so running it twice changes nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tradescan.errors import TradeScanError
from tradescan.paths import CONFIGS_DIR
from tradescan.scaffold import new_strategy, render_template, snake_name, strategy_name, write_new

__all__ = ["BROKER_NAME", "DEFAULT_STRATEGY", "ProjectResult", "init_project"]

DEFAULT_STRATEGY = "MY_STRATEGY"
BROKER_NAME = "my_broker"
_BUNDLED_BROKER = CONFIGS_DIR / "brokers" / "default.yaml"
_SYNTH_SYMBOLS = "EURUSD,GBPUSD,USDJPY"  # the directive template's symbols


@dataclass(frozen=True)
class ProjectResult:
    """What ``init_project`` wrote, what it found already there, and the commands to run next."""

    folder: Path
    strategy: str
    directive_file: Path
    created: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)

    def next_commands(self) -> list[str]:
        """Return the commands to run next, in order (the first one enters the folder)."""
        directive = self.directive_file.relative_to(self.folder).as_posix()
        enter = [] if self.folder.resolve() == Path.cwd().resolve() else [f"cd {self.folder}"]
        return [
            *enter,
            f"tradescan data synth --symbols {_SYNTH_SYMBOLS} --timeframe H1 --bars 30000 --seed 42",
            f"tradescan check-strategy {self.strategy} --symbol EURUSD --timeframe H1",
            f"tradescan preflight {directive}",
            f"tradescan sweep {directive}",
        ]

    def __str__(self) -> str:
        lines = [f"created {path}" for path in self.created]
        lines += [f"exists, left unchanged: {path}" for path in self.existing]
        lines.append("next (synthetic bars to try it; `tradescan data import FILE --symbol S --timeframe H1` "
                     "for your own):")
        lines += [f"  {command}" for command in self.next_commands()]
        return "\n".join(lines)


def init_project(folder: str | os.PathLike[str] = ".", strategy: str = DEFAULT_STRATEGY) -> ProjectResult:
    """Write a project folder: directive, broker profile, strategy, search space, README and .gitignore.

    Args:
        folder: the project folder (made when absent; may already hold other files).
        strategy: the name of the strategy to scaffold from the template (e.g. ``MY_IDEA``).

    Raises:
        TradeScanError: an invalid strategy name, a name already used by another strategy, ``folder``
            is a file, or a file cannot be written.
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise TradeScanError(f"{root}: is a file; give a folder (new or existing) for the project")
    scaffold = new_strategy(strategy, root / "strategies", root / "search_spaces")
    stem = snake_name(strategy)
    directive_file = root / "configs" / "directives" / f"{stem}.yaml"
    result = ProjectResult(root, strategy_name(strategy), directive_file,
                           list(scaffold.created), list(scaffold.existing))
    values = {
        "strategy_name": strategy_name(strategy),
        "snake_name": stem,
        "broker_name": BROKER_NAME,
        "directive_file": f"configs/directives/{stem}.yaml",
        "broker_file": f"configs/brokers/{BROKER_NAME}.yaml",
        "strategy_file": f"strategies/{stem}.py",
        "search_space_file": f"search_spaces/{stem}.yaml",
    }
    files = {
        directive_file: lambda: render_template("project_directive.yaml.tmpl", values),
        root / values["broker_file"]: lambda: _broker_text(values),
        root / "README.md": lambda: render_template("project_readme.md.tmpl", values),
        root / ".gitignore": lambda: render_template("project_gitignore.tmpl", values),
    }
    for target, text in files.items():
        if target.exists():
            result.existing.append(target)
        else:
            write_new(target, text())
            result.created.append(target)
    return result


def _broker_text(values: dict[str, str]) -> str:
    """Return the bundled ``default`` profile renamed, under a header saying whose file it is."""
    body = _BUNDLED_BROKER.read_text(encoding="utf-8")
    body = re.sub(r"\A(?:#.*\n)+", "", body)  # the bundled header speaks of the bundled file
    body, renamed = re.subn(r"^name: default$", f"name: {values['broker_name']}", body, count=1, flags=re.M)
    if not renamed:
        raise TradeScanError(f"{_BUNDLED_BROKER}: no 'name: default' line to rename (a broken installation?)")
    return render_template("project_broker_header.yaml.tmpl", values) + body
