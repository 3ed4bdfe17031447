"""Distributed two-stage parameter sweeps (DESIGN §1, §9).

``run_sweep(directive)`` is the façade: preflight, then per symbol stage 1 (an Optuna study whose
trials run in batches on Ray evaluator actors) and stage 2 (the top-k re-run under every cost
scenario), with everything written to the results store. The heavy modules (Ray, Optuna) load on
first use so that ``import tradescan.sweep.objectives`` stays light.

Modules (one concept each):

* ``api``        ``run_sweep(directive, workers=, address=, storage=, data_dir=, results_dir=, progress=,
  max_parallel_symbols=, full_equity=, all_trades=)``
  -> ``SweepResult(run_id, run_dir, manifest, storage_url)``;
* ``driver``     ``SweepDriver``: Ray + actors (warming up) while the first preflight runs -> up to
  ``max_parallel_symbols`` symbols at once on the shared pool, each in a thread (preflight, bars into the
  object store once, stage 1, stage 2) -> each symbol's table files committed once -> manifest; a failing
  symbol is recorded, never fatal to the others;
* ``stage1``     TPE: batches of ``batch_size`` trials asked from an in-memory Optuna study
  (``constant_liar``), two batches in flight, told in trial order; random and grid: no study, chunks
  streamed to free actors, written in trial order;
* ``sampler``    each running symbol's TPE study in a process of its own (``SamplerPool`` of zero-CPU Ray
  actors on the driver's node, ``TpeSamplerCore``), so symbols sample side by side; a dying one fails
  its symbol (``SamplerDied``);
* ``sources``    where trials come from: ``OptunaSource`` (TPE), ``GridSource``, ``RandomSource``;
* ``draws``      random parameter sets drawn in bulk with NumPy, fixed by (seed, symbol, trial number);
* ``stage2``     top-k distinct COMPLETE trials re-run under the stage-2 scenarios; ``equity`` thins
  their equity to the first bar and each UTC day's last (in the actor, ``run_finalist_jobs``), and
  only the ranks the run keeps send every scenario's trades (``tradescan.results.stored_trades``);
* ``evaluator``  ``EvaluatorCore`` (the Ray actor, one CPU): one ``BacktestSession`` per symbol,
  ``evaluate_batch(symbol, [params]) -> [(metrics, None) | (None, error)]``, ``run_finalist_jobs``;
* ``usable_signals`` the "no usable signal" rule (NaN entry after the warm-up, entries without any stop):
  a FAIL, unlike a strategy that never trades;
* ``pool``       actor bookkeeping: split/gather in order or stream to free actors, replacement of dead or
  stuck actors (``trial_timeout_s``), narrowing to the trial at fault, which comes back as ``TrialLost``;
* ``storage``    a study per (run, symbol) named ``<run_id>/<symbol>`` in a journal file (default
  ``runs/<run_id>/optuna.journal``) or an RDB, through Optuna's public API; ``TrialWriter`` writes finished
  trials on a background thread; ``journal`` the journal backend (Optuna's format, no fsync per record,
  finished trials appended 32 at a time by ``BulkJournalStorage``);
* ``objectives`` one module per objective + ``stage1_value`` (the min-trades penalty);
* ``results``    the rows of the Parquet tables (their files and columns: ``tradescan.results.tables``);
  ``progress`` the rich bars; ``ray_runtime`` start (127.0.0.1 only) or join Ray, with ``--workers`` and
  ``--address`` checked before anything starts.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["SweepResult", "run_sweep"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("tradescan.sweep.api"), name)
    raise AttributeError(f"module 'tradescan.sweep' has no attribute {name!r}")
