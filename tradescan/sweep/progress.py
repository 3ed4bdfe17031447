"""A progress bar per symbol (rich): trials done, trials per second and the best value so far.

Shown on a terminal or in Jupyter (rich draws its bars in a notebook cell when ``ipywidgets`` is
installed, and says to install it otherwise); with ``--json`` or when the output is piped,
``NullProgress`` keeps the same interface and prints nothing.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any


class NullProgress:
    """Progress that shows nothing (not a TTY, ``--json``, tests)."""

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start_symbol(self, symbol: str, total: int, done: int) -> None:
        """Begin the bar of ``symbol`` with ``done`` of ``total`` trials already finished (resume)."""

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        """Add ``n_trials`` finished trials and the best value so far."""

    def note(self, symbol: str, text: str) -> None:
        """Replace the status text of ``symbol`` (e.g. ``stage 2``, ``BLOCK``)."""


class RichProgress(NullProgress):
    """One rich progress bar per symbol."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8} trials/s"),
            TextColumn("best {task.fields[best]:>9}"),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
        )
        self._tasks: dict[str, Any] = {}
        self._started: dict[str, tuple[float, int]] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start_symbol(self, symbol: str, total: int, done: int) -> None:
        self._tasks[symbol] = self._progress.add_task(symbol, total=total, completed=done, rate="-", best="-",
                                                      note="stage 1")
        self._started[symbol] = (time.perf_counter(), done)

    def advance(self, symbol: str, n_trials: int, best_value: float | None) -> None:
        task = self._tasks[symbol]
        self._progress.advance(task, n_trials)
        started, done_before = self._started[symbol]
        completed = self._progress.tasks[task].completed - done_before
        rate = completed / max(time.perf_counter() - started, 1e-9)
        best = "-" if best_value is None or not math.isfinite(best_value) else f"{best_value:.4f}"
        self._progress.update(task, rate=f"{rate:.1f}", best=best)

    def note(self, symbol: str, text: str) -> None:
        if symbol not in self._tasks:
            self._tasks[symbol] = self._progress.add_task(symbol, total=None, rate="-", best="-", note=text)
        self._progress.update(self._tasks[symbol], note=text)


def make_progress(enabled: bool) -> NullProgress:
    """Return a rich progress display when ``enabled`` and stdout is a terminal or Jupyter, else ``NullProgress``."""
    return RichProgress() if enabled and interactive() else NullProgress()


def interactive() -> bool:
    """Return whether progress bars can be seen: stdout is a terminal, or this runs in Jupyter.

    A Jupyter kernel's stdout is not a TTY, yet rich draws live bars in the cell (``is_jupyter``).
    """
    from rich import get_console

    return sys.stdout.isatty() or get_console().is_jupyter
