"""Error types that reach the user.

Every error a person can cause with bad input (a file, a directive field, a symbol, a CLI flag) is a
``TradeScanError``: the CLI prints its message on one line and exits non-zero instead of showing a
traceback. The message names the file, field or row, the rule broken and what was expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tradescan.quote import cut, quote

if TYPE_CHECKING:
    from pydantic import ValidationError


class TradeScanError(Exception):
    """Base class for user-facing errors (bad input, unknown names, refused operations)."""


class DataError(TradeScanError):
    """Bad market data: a file that cannot be parsed or bars that break a validation rule."""


class UnknownNameError(TradeScanError, KeyError):
    """A name (symbol, strategy, parameter, broker, scenario) that is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(TradeScanError):
    """A configuration file or directive that breaks its schema."""


def did_you_mean(name: str, known: Iterable[str], *, what: str) -> str:
    """Build 'unknown <what> 'x'; did you mean ...? Known: ...' for an unknown name."""
    known_sorted = sorted(known)
    if not known_sorted:
        return f"unknown {what} {name!r} (none known yet)"
    close = difflib.get_close_matches(name, known_sorted, n=3, cutoff=0.5)
    if not close:
        upper = name.upper()
        close = [k for k in known_sorted if upper in k.upper() or k.upper() in upper][:3]
    shown = ", ".join(known_sorted[:40]) + (" ..." if len(known_sorted) > 40 else "")
    if close:
        return f"unknown {what} {name!r}; did you mean {', '.join(repr(c) for c in close)}? Known: {shown}"
    return f"unknown {what} {name!r}. Known: {shown}"


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """Return every error of a pydantic ``ValidationError`` on one line.

    Each field error reads ``<prefix><dotted.path>=<value>: <rule>``; a model-level rule (one relating
    several fields) gives its own message, which names the fields.
    """
    problems = []
    for error in exc.errors():
        if not error["loc"]:
            problems.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        path = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{prefix}{path}={quote(error.get('input'))}: {cut(message)}")
    return "; ".join(problems)
