"""Preflight snapshot reads with per-call ARM latency: bounded concurrency vs the same reads one after another."""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.seed import SUB_DEV, SUB_PROD  # noqa: E402  (after the path: bench runs as a script)


def arm_calls(sim) -> int:
    return sum(1 for r in sim.control("GET", "/_sim/requests") if not r["path"].startswith("/_sim/"))


def timed(sim, run) -> tuple[float, int]:
    """Wall time of one run and the ARM calls it made."""
    sim.control("DELETE", "/_sim/requests")
    started = time.perf_counter()
    run()
    return time.perf_counter() - started, arm_calls(sim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=100, help="latency injected into every ARM call")
    parser.add_argument("--runs", type=int, default=5, help="runs of each mode; the median is printed")
    parser.add_argument("--workspace", default="ws-online", help="a seeded workspace of rg-ml-dev")
    parser.add_argument("--workers", type=int, default=8, help="the preflight's concurrency bound")
    args = parser.parse_args()

    from local.armsim.process import start_simulator
    from local.azurite import start_azurite

    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as state, start_azurite() as azurite, start_simulator(
        state, token=token, scenario=str(ROOT / "local/scenarios/demo.json"), retry_after=0, polls=1
    ) as sim:
        os.environ.update({
            "AML_LIFECYCLE_TABLES": azurite.connection_string,
            "AML_LIFECYCLE_ARM_ENDPOINT": sim.url,
            "AML_LIFECYCLE_ARM_CA_BUNDLE": sim.ca_bundle,
            "AML_LIFECYCLE_LOCAL_TOKEN": token,
            "AML_LIFECYCLE_ALLOWED_TARGETS": SUB_PROD,
        })
        from shared.azure.clients import get_clients
        from shared.moves.request import parse_move_request
        from shared.moves.snapshot import read_snapshot

        clients = get_clients()
        group = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
        workspace = f"{group}/providers/Microsoft.MachineLearningServices/workspaces/{args.workspace}"
        target = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-ml-prod"
        request = parse_move_request({"workspaceId": workspace, "targetResourceGroupId": target})
        # Warm-up: imports, client construction, TLS connections and the table; not measured.
        for workers in (args.workers, 1):
            snapshot = read_snapshot(clients, request, max_workers=workers)
        failed = [name for name, value in vars(snapshot).items() if getattr(value, "error", None)]
        if failed:
            raise SystemExit(f"reads failed during warm-up: {failed}")

        latency = {"path": ".", "kind": "latency", "latencyMs": args.latency_ms, "count": 10**9}
        sim.control("POST", "/_sim/faults", latency)
        concurrent, sequential, calls = [], [], 0
        for _ in range(args.runs):  # interleaved so drift affects both modes alike
            seconds, calls = timed(sim, lambda: read_snapshot(clients, request, max_workers=args.workers))
            concurrent.append(seconds)
            seconds, _ = timed(sim, lambda: read_snapshot(clients, request, max_workers=1))
            sequential.append(seconds)

    wall, total = statistics.median(concurrent), statistics.median(sequential)
    print(f"preflight snapshot of {args.workspace}: {calls} ARM calls, {args.latency_ms} ms latency each, "
          f"median of {args.runs} runs")
    print(f"  concurrent (max {args.workers} workers): {wall * 1000:8.0f} ms wall")
    print(f"  sequential (1 worker, sum of calls):   {total * 1000:8.0f} ms")
    print(f"  ratio concurrent / sequential:         {wall / total:8.2f}  (speed-up x{total / wall:.1f})")


if __name__ == "__main__":
    main()
