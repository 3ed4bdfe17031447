"""Quoting a user's value in a message without echoing all of it.

A data file can hold a 20 MiB cell and a manifest can be edited by hand; an error message quotes what
it found so the person can find it, but only the first ``QUOTE_LIMIT`` characters, with the full length
said, so one bad cell never becomes a 20-million-character line.
"""

from __future__ import annotations

QUOTE_LIMIT = 80


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Return ``repr(value)``, cut to about ``limit`` characters with the full length named."""
    text = str(value) if isinstance(value, str) else None
    if text is not None and len(text) > limit:
        return f"{text[:limit]!r}... ({len(text):,} characters)"
    shown = repr(value)
    if len(shown) > limit:
        return f"{shown[:limit]}... ({len(shown):,} characters)"
    return shown


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Return ``text`` on one line, cut to about ``limit`` characters with the full length named."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit]}... ({len(flat):,} characters)"
