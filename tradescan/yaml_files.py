"""Reading the YAML files a user hands to Trade_Scan (directives, search spaces, brokers, instruments).

Every way such a file can be wrong — missing, a folder, unreadable, not UTF-8 text, not YAML, too big —
becomes one ``ConfigError`` naming the file, never a traceback.

YAML is parsed with limits, because a few hundred bytes of nested aliases (the "billion laughs") stand
for a billion values: PyYAML builds them as a small shared graph, but whatever walks the result —
validation, an error message quoting the value, hashing — expands it and exhausts memory. So the
event stream is measured before anything is built from it: aliases may add at most
``MAX_ALIAS_NODES`` values to the document, nesting may go ``MAX_DEPTH`` levels deep (libyaml's
composer recurses in C and would crash the process on deeper input), and a file may be at most
``MAX_YAML_BYTES`` long.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tradescan.errors import ConfigError

MAX_YAML_BYTES = 8 << 20  # a directive, broker or instruments file is a few KiB
MAX_ALIAS_NODES = 10_000  # values that aliases may add by repeating anchored ones
MAX_DEPTH = 100  # nested lists and mappings; settings files use a handful
_MESSAGE_LIMIT = 300
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path, *, what: str) -> str:
    """Return the UTF-8 text of ``path``, or raise a ``ConfigError`` naming ``what`` it should be."""
    try:
        with path.open("rb") as stream:
            payload = stream.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give the path of the {what}") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the {what}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(payload) > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_YAML_BYTES >> 20} MiB, too large for a {what}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (the {what} must be UTF-8 YAML)") from None


def parse_yaml(text: str, *, label: str) -> Any:
    """Return the YAML document in ``text``; a syntax error names ``label`` and the line.

    Raises:
        ConfigError: not YAML, more than one document, too large, nested deeper than ``MAX_DEPTH``, or
            aliases that would add more than ``MAX_ALIAS_NODES`` values (checked before the values are
            built).
    """
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{label}: larger than {MAX_YAML_BYTES >> 20} MiB, too large for a settings file")
    try:
        _check_shape(text, label)
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        if "maximum nesting depth" in reason:  # PyYAML >= 6.0.4's scanner stops deep nesting before we can
            raise ConfigError(f"{label}: nested deeper than {MAX_DEPTH} levels, too deep for a settings file") from None
        cut = reason if len(reason) <= _MESSAGE_LIMIT else reason[:_MESSAGE_LIMIT] + "..."
        raise ConfigError(f"{label}: not valid YAML: {cut}") from None


def read_yaml(path: Path, *, what: str, label: str | None = None) -> Any:
    """Return the YAML document of the file at ``path`` (``None`` for an empty file)."""
    return parse_yaml(read_text(path, what=what), label=label or str(path))


def _check_shape(text: str, label: str) -> None:
    """Refuse a document nested deeper than ``MAX_DEPTH`` or whose aliases add over ``MAX_ALIAS_NODES`` values.

    One pass over the parser's events, before anything is composed (the C composer recurses and would
    crash on deep nesting): each collection's size with every alias written out is summed as it
    closes and remembered under its anchor, so an alias adds its anchor's size — the check costs as
    much as the file is long, however large the expansion would be.
    """
    anchored: dict[str, int] = {}  # size of each anchored value, aliases written out
    open_sizes: list[int] = [0]  # running size of each collection still open (the document at 0)
    open_anchors: list[str | None] = []
    added_by_aliases = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchored:
                raise ConfigError(f"{label}: a YAML alias refers to a value that contains it (a recursive alias)")
            open_sizes[-1] += anchored[event.anchor]
            added_by_aliases += anchored[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            open_sizes[-1] += 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_anchors) >= MAX_DEPTH:
                raise ConfigError(f"{label}: nested deeper than {MAX_DEPTH} levels, too deep for a settings file")
            open_sizes.append(1)
            open_anchors.append(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_sizes.pop(), open_anchors.pop()
            open_sizes[-1] += size
            if anchor is not None:
                anchored[anchor] = size
        if added_by_aliases > MAX_ALIAS_NODES:
            raise ConfigError(
                f"{label}: YAML aliases add more than {MAX_ALIAS_NODES:,} values; an alias bomb? "
                "write the values out instead of nesting aliases"
            )
