"""The errors of the results store: each names the run or file, the rule and what to do."""

from __future__ import annotations

from tradescan.errors import TradeScanError


class FrozenRunError(TradeScanError):
    """An operation would change a run that a person froze."""


class RunLockedError(TradeScanError):
    """Another live process is writing the run (its lock file names it)."""


class ResultsFileError(TradeScanError):
    """A file of the results store is missing, unreadable or not what tradescan wrote."""


class ResultsWriteError(TradeScanError):
    """A file of the results store could not be written (disk full, permissions); nothing was replaced."""


class TradeScanNotice(UserWarning):
    """Something a person should know that is not an error (a slow storage, a stale lock taken over).

    Issued with ``warnings.warn``; the CLI prints each as one ``tradescan: note:`` line.
    """
