"""GET /api/coverage over a fleet: ARM calls per subscription and wall time with the parallel reads (MAX_PARALLEL)
against one-at-a-time, interleaved rounds in the same run, with a simulated ARM latency on every Event Grid read."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FUNCTION_ID = ("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.Web/"
               "sites/func-api/functions/workspace_events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=24, help="subscriptions vended on top of the demo ones")
    parser.add_argument("--latency-ms", type=int, default=40, help="added to every Event Grid read")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from local.armsim.process import start_simulator
    from local.azurite import start_azurite

    logging.getLogger("aml_lifecycle").setLevel(logging.ERROR)  # the report's own warning names every gap
    token = secrets.token_hex(24)
    with (
        tempfile.TemporaryDirectory() as state,
        start_azurite() as azurite,
        start_simulator(state, token=token, scenario=str(ROOT / "local/scenarios/demo.json"), retry_after=0,
                        polls=1) as sim,
    ):
        os.environ.update({"AML_LIFECYCLE_TABLES": azurite.connection_string, "AML_LIFECYCLE_ARM_ENDPOINT": sim.url,
                           "AML_LIFECYCLE_ARM_CA_BUNDLE": sim.ca_bundle, "AML_LIFECYCLE_LOCAL_TOKEN": token,
                           "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": "*"})
        from azure.mgmt.eventgrid.models import (
            AzureFunctionEventSubscriptionDestination,
            EventSubscription,
            SystemTopic,
        )

        from shared.azure.clients import get_clients
        from shared.retention import coverage

        clients = get_clients()
        for i in range(args.subscriptions):
            sub = str(uuid.UUID(int=0x66660000_0000_4000_8000_000000000000 + i))
            sim.control("POST", "/_sim/subscriptions", {"subscriptionId": sub, "displayName": f"vended-{i}"})
            clients.resources(sub).resource_groups.create_or_update("rg-aml-events", {"location": "westeurope"})
            eventgrid = clients.eventgrid(sub)
            eventgrid.system_topics.begin_create_or_update("rg-aml-events", "egst", SystemTopic(
                location="global", source=f"/subscriptions/{sub}", topic_type="Microsoft.Resources.Subscriptions"),
                polling_interval=0).result()
            if i % 2 == 0:
                eventgrid.system_topic_event_subscriptions.begin_create_or_update(
                    "rg-aml-events", "egst", "aml-workspace-events",
                    EventSubscription(destination=AzureFunctionEventSubscriptionDestination(resource_id=FUNCTION_ID)),
                    polling_interval=0).result()
        sim.control("POST", "/_sim/faults", {"path": "Microsoft.EventGrid", "kind": "latency",
                                             "latencyMs": args.latency_ms, "count": 1_000_000})

        def run(parallel: int) -> tuple[float, dict]:
            coverage.MAX_PARALLEL = parallel
            started = time.perf_counter()
            report = coverage.coverage_report(clients, clients.settings, now=datetime.now(timezone.utc))
            return time.perf_counter() - started, report

        sim.control("DELETE", "/_sim/requests")
        _, report = run(8)
        calls = [r for r in sim.control("GET", "/_sim/requests") if "Microsoft.EventGrid" in r["path"]]
        timings: dict[int, list[float]] = {1: [], 8: []}
        for _ in range(args.rounds):
            for parallel in (1, 8):  # interleaved: both see the same machine load
                timings[parallel].append(run(parallel)[0])

    watched = len(report["subscriptions"])
    sequential, parallel = statistics.median(timings[1]), statistics.median(timings[8])
    print(f"subscriptions watched: {watched} (wired {len(report['wired'])}, missing {len(report['missing'])})")
    print(f"Event Grid reads per subscription: {len(calls) / watched:.2f} (one topic list, one event-subscription "
          f"list where a topic exists)")
    print(f"median of {args.rounds} rounds, {args.latency_ms} ms added per read: one at a time {sequential:.2f}s, "
          f"{8} in parallel {parallel:.2f}s, ratio {sequential / parallel:.1f}x")


if __name__ == "__main__":
    main()
