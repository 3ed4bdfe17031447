"""Entry point for ``ray submit`` / ``ray job submit``: run one directive's sweep on the current cluster.

The script joins the running cluster and calls the same CLI as ``tradescan sweep``, so a sweep gives the
same trials and values on a laptop and on a cluster (the batch size comes from the directive, never
from the number of workers). The cluster address is ``--address``, else ``$RAY_ADDRESS`` (set by Ray
Jobs for the job's driver), else ``auto`` (the cluster of the node the script runs on: ``ray submit``).
The storage is ``--storage``, else ``$TRADESCAN_STORAGE``, else the CLI's default. Every other option
(``--data-dir``, ``--results-dir``, ``--json``, ...) goes to ``tradescan sweep`` unchanged.

    ray submit cluster/aws.yaml cluster/submit_sweep.py -- configs/directives/example.yaml --workers 64
    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \\
        python cluster/submit_sweep.py configs/directives/example.yaml --workers 64
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence


def sweep_argv(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Return the ``tradescan`` arguments that run the sweep ``argv`` asks for, on the cluster ``env`` names."""
    parser = argparse.ArgumentParser(prog="submit_sweep.py",
                                     description="run a Trade_Scan sweep on the current Ray cluster")
    parser.add_argument("directive", help="directive YAML file (relative to the job's working directory)")
    parser.add_argument("--address", default=env.get("RAY_ADDRESS") or "auto",
                        help="Ray cluster address (default: $RAY_ADDRESS, else auto)")
    parser.add_argument("--workers", default=None, help="evaluator actors (default: every CPU of the cluster)")
    parser.add_argument("--storage", default=env.get("TRADESCAN_STORAGE") or None,
                        help="Optuna storage (default: $TRADESCAN_STORAGE, else the CLI's default)")
    known, rest = parser.parse_known_args(list(argv))
    result = ["sweep", known.directive, "--address", known.address, *rest]
    if known.workers:
        result += ["--workers", known.workers]
    if known.storage:
        result += ["--storage", known.storage]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sweep; return ``tradescan``'s exit code (0 = every symbol complete)."""
    from tradescan.cli import main as tradescan_main

    # The cluster files start every node with token authentication; join it the same way (Ray reads
    # the token from ~/.ray/auth_token, which the launcher copied to this node).
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    return tradescan_main(sweep_argv(sys.argv[1:] if argv is None else argv, os.environ))


if __name__ == "__main__":
    sys.exit(main())
