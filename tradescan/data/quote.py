"""Quoting a user's value in a message (the data layer's name for ``tradescan.quote``)."""

from __future__ import annotations

from tradescan.quote import QUOTE_LIMIT, cut, quote

__all__ = ["QUOTE_LIMIT", "cut", "quote"]
