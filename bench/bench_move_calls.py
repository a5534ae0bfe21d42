"""One durable move through the dev host's real Durable engine (HTTP in, real timers): ARM calls by operation
(simulator request log), orchestrator replays and history rows (the dev host's durable table), storage requests
(Azurite's debug log); the preflight's ARM calls, measured in the same run, as the baseline."""

from __future__ import annotations

import argparse
import collections
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.seed import SUB_DEV, SUB_PROD

# Segments after which ARM paths hold a name: replaced by {} so calls group by operation.
_NAMED = {
    "subscriptions",
    "resourcegroups",
    "workspaces",
    "datastores",
    "privateendpointconnections",
    "computes",
    "onlineendpoints",
    "batchendpoints",
    "jobs",
    "operationresults",
    "roleassignments",
    "storageaccounts",
    "deployments",
    "vaults",
    "components",
    "registries",
    "privateendpoints",
}


def operation(method: str, path: str) -> str:
    segments = path.strip("/").split("/")
    generic = [("{}" if i and segments[i - 1].lower() in _NAMED else s) for i, s in enumerate(segments)]
    text = "/".join(generic)
    for prefix in ("subscriptions/{}/resourceGroups/{}/providers/", "subscriptions/{}/resourcegroups/{}/providers/"):
        text = text.replace(prefix, "")
    return f"{method} {text.replace('Microsoft.MachineLearningServices/', 'ML/')}"


def arm_calls(sim) -> list[dict]:
    return [r for r in sim.control("GET", "/_sim/requests") if not r["path"].startswith("/_sim/")]


def storage_requests(debug_log: str) -> int:
    """Requests Azurite has served so far (one `RequestMethod=` line each in its debug log)."""
    with open(debug_log, encoding="utf-8", errors="replace") as log:
        return sum(1 for line in log if "RequestMethod=" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default="ws-quiet", help="a seeded workspace of rg-ml-dev")
    parser.add_argument("--polls", type=int, default=2, help="202 answers the simulator gives before an LRO ends")
    args = parser.parse_args()

    from azure.data.tables import TableServiceClient

    from local.armsim.process import start_simulator
    from local.azurite import start_azurite
    from local.devhost.process import start_devhost
    from local.seed import SCENARIO
    from local.stack import Stack, app_environment, call
    from local.waiting import wait_until

    token, topic_key, function_key = (secrets.token_hex(24) for _ in range(3))
    with tempfile.TemporaryDirectory() as state:
        debug_log = os.path.join(state, "azurite-debug.log")
        with (
            start_azurite(os.path.join(state, "azurite"), services=("blob", "queue", "table"),
                          debug_log=debug_log) as azurite,
            start_simulator(os.path.join(state, "armsim"), token=token, scenario=str(SCENARIO), topic_key=topic_key,
                            retry_after=0, polls=args.polls) as sim,
        ):
            env = app_environment(azurite, sim, token, topic_key, function_key)
            with start_devhost("function_app:app", app_dir=ROOT, env=env, timeout=60,
                               log_path=os.path.join(state, "devhost.log")) as devhost:
                stack = Stack(azurite, sim, devhost, env)
                group = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
                workspace = f"{group}/providers/Microsoft.MachineLearningServices/workspaces/{args.workspace}"
                body = {"workspaceId": workspace,
                        "targetResourceGroupId": f"/subscriptions/{SUB_PROD}/resourceGroups/rg-ml-prod"}
                if args.workspace == "ws-quiet":  # its datastore's account moves along: the datastore fix runs too
                    body["includeResources"] = [f"{group}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"]
                call(stack, "GET", "health")  # warm: tables, clients, worker
                sim.control("DELETE", "/_sim/requests")
                status, report = call(stack, "POST", "moves/validate", body)
                preflight = arm_calls(sim)
                if status != 200 or not report.get("ready"):
                    raise SystemExit(f"{args.workspace} is not ready to move: {status} {report}")

                sim.control("DELETE", "/_sim/requests")
                before, started = storage_requests(debug_log), time.perf_counter()
                status, started_move = call(stack, "POST", "moves", body)
                if status != 202:
                    raise SystemExit(f"the move did not start: {status} {started_move}")
                move_id = started_move["moveId"]
                final = wait_until(
                    lambda: (s := call(stack, "GET", f"moves/{move_id}")[1].get("state")) in
                    ("Succeeded", "Failed", "NeedsAttention") and s, "the move's end", timeout=600, interval=0.2)
                seconds = time.perf_counter() - started
                storage = storage_requests(debug_log) - before
                outcome = call(stack, "GET", f"moves/{move_id}")[1]
                move = arm_calls(sim)
                service = TableServiceClient.from_connection_string(azurite.connection_string)
                hub = [t.name for t in service.list_tables() if t.name.endswith("DevHost")]
                rows = [e for name in hub for e in service.get_table_client(name).list_entities()
                        if e["PartitionKey"].lower().startswith("move-")]

    episodes = [r for r in rows if r["RowKey"] not in ("instance", "engine") and not r["RowKey"].startswith("~")]
    counts = collections.Counter(operation(r["method"], r["path"]) for r in move)
    width = max(len(op) for op in counts)
    print(f"move of {args.workspace} -> rg-ml-prod through the dev host's Durable engine: {final} in {seconds:.1f}s "
          f"(simulator LROs answer 202 x{args.polls} then 204; real durable timers)")
    if final != "Succeeded":
        unfinished = [s for s in outcome.get("steps", []) if s.get("status") not in ("succeeded", "skipped")]
        print(f"  why: {json.dumps(outcome.get('error') or unfinished)[:400]}")
    print(f"{'operation':<{width}}  calls")
    for op, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{op:<{width}}  {count:5d}")
    print(f"{'ARM calls (move)':<{width}}  {len(move):5d}")
    print(f"{'ARM calls (preflight baseline, POST /api/moves/validate)':<{width}}  {len(preflight):5d}")
    print(f"ratio move / preflight ARM calls: {len(move) / max(1, len(preflight)):.2f}")
    print(f"orchestrator replays (history episodes): {len(episodes)}; durable rows of the instance: {len(rows)}; "
          f"storage requests during the move (Azurite debug log, every caller): {storage}")


if __name__ == "__main__":
    main()
