"""``write_report`` and ``write_excel``: the report's public entry points (the I/O edge).

Both read a stored run (``tradescan.load_run``), build their output with pure functions and write it
atomically, so a reader never sees half a file and the same run always gives the same HTML bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from tradescan.atomic import atomic_write_bytes
from tradescan.report.document import build_page
from tradescan.report.inputs import read_inputs
from tradescan.results.errors import FrozenRunError, ResultsWriteError
from tradescan.results.run import load_run
from tradescan.results.store import FROZEN_MARKER

REPORT_FILE = "report.html"


def write_report(run_id: str, out: str | os.PathLike[str] | None = None,
                 results_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the run's self-contained HTML report and return its path.

    The page opens offline: plotly.js is inlined once, every figure is drawn from its JSON spec.

    Args:
        run_id: the run (see ``tradescan runs``).
        out: the file to write (default ``<results>/runs/<run_id>/report.html``).
        results_dir: the results folder (default ``$TRADESCAN_RESULTS_DIR`` or ``./results``).

    Raises:
        UnknownNameError: no such run.
        ResultsFileError: a table of the run is damaged.
        FrozenRunError: the run is frozen and the file would go into its folder (``out`` elsewhere is fine).
        ResultsWriteError: the file could not be written.
    """
    run = load_run(run_id, results_dir)
    path = Path(out) if out is not None else run.path / REPORT_FILE
    refuse_frozen_target(run_id, run.path, path)
    page = build_page(read_inputs(run))
    write_atomically(path, page.encode("utf-8"))
    return path


def refuse_frozen_target(run_id: str, run_dir: Path, path: Path) -> None:
    """Raise ``FrozenRunError`` if the run is frozen and ``path`` lies in its folder (DESIGN §8)."""
    if not (run_dir / FROZEN_MARKER).exists():
        return
    if path.resolve().is_relative_to(run_dir.resolve()):
        raise FrozenRunError(
            f"run {run_id} is frozen (immutable): {path} is inside it and cannot be written; "
            f"write the report elsewhere with --out PATH"
        )


def write_atomically(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically or raise naming the file and the reason."""
    try:
        atomic_write_bytes(path, payload)
    except OSError as exc:
        raise ResultsWriteError(f"{path}: cannot write ({exc.strerror or exc}); nothing was changed") from None
