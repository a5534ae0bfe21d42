"""Runs every benchmark in bench/ one after another and prints their figures (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Slowest last; each prints its own figures.
SCRIPTS = ["import_cost.py", "bench_preflight.py", "bench_move_calls.py", "bench_quiesce_calls.py",
           "bench_coverage.py", "bench_events.py",
           "bench_sweep.py"]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(BENCH / name)], cwd=ROOT)
        print(f"--- {name}: exit {code}, {time.monotonic() - started:.0f}s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
