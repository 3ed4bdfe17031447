"""Reading the YAML files a user hands to Trade_Scan (directives, search spaces, brokers, instruments).

Every way such a file can be wrong — missing, a folder, unreadable, not UTF-8 text, not YAML — becomes
one ``ConfigError`` naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tradescan.errors import ConfigError


def read_text(path: Path, *, what: str) -> str:
    """Return the UTF-8 text of ``path``, or raise a ``ConfigError`` naming ``what`` it should be."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give the path of the {what}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (the {what} must be UTF-8 YAML)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None


def parse_yaml(text: str, *, label: str) -> Any:
    """Return the YAML document in ``text``; a syntax error names ``label`` and the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: not valid YAML: {exc}".replace("\n", " ")) from None


def read_yaml(path: Path, *, what: str, label: str | None = None) -> Any:
    """Return the YAML document of the file at ``path`` (``None`` for an empty file)."""
    return parse_yaml(read_text(path, what=what), label=label or str(path))
