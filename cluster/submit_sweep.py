"""Entry point for ``ray submit`` / ``ray job submit``: run one directive's sweep on the cluster.

The script joins the running cluster (``address="auto"``) and calls the same ``run_sweep`` as the CLI,
so a sweep gives the same trials and values on a laptop and on a cluster (batch size comes from the
directive, never from the number of workers).

    ray submit cluster/aws.yaml cluster/submit_sweep.py -- configs/directives/example.yaml --workers 64
"""

from __future__ import annotations

import argparse
import os
import sys

from tradescan.cli import main

if __name__ == "__main__":
    # The cluster files start every node with token authentication; join it the same way (Ray reads
    # the token from ~/.ray/auth_token, which the launcher copied to this node).
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    parser = argparse.ArgumentParser(description="run a Trade_Scan sweep on the current Ray cluster")
    parser.add_argument("directive")
    parser.add_argument("--workers", default=None)
    parser.add_argument("--storage", default=os.environ.get("TRADESCAN_STORAGE"))
    known, rest = parser.parse_known_args()
    argv = ["sweep", known.directive, "--address", os.environ.get("RAY_ADDRESS", "auto"), *rest]
    if known.workers:
        argv += ["--workers", known.workers]
    if known.storage:
        argv += ["--storage", known.storage]
    sys.exit(main(argv))
