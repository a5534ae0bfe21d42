"""ARM calls of one durable move, end to end, by operation (simulator request log); the preflight's calls, measured
in the same run, as the baseline."""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.move_orchestration import ACTIVITIES  # noqa: E402  (after the path: bench runs as a script)
from local.seed import SUB_DEV, SUB_PROD  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default="ws-quiet", help="a seeded workspace of rg-ml-dev")
    parser.add_argument("--polls", type=int, default=2, help="202 answers the simulator gives before an LRO ends")
    args = parser.parse_args()

    from local.armsim.process import start_simulator
    from local.azurite import start_azurite

    token = secrets.token_urlsafe(24).lstrip("-")  # argparse in the simulator reads a leading '-' as an option
    with (
        tempfile.TemporaryDirectory() as state,
        start_azurite() as azurite,
        start_simulator(
            state, token=token, scenario=str(ROOT / "local/scenarios/demo.json"), retry_after=0, polls=args.polls
        ) as sim,
    ):
        os.environ.update(
            {
                "AML_LIFECYCLE_TABLES": azurite.connection_string,
                "AML_LIFECYCLE_ARM_ENDPOINT": sim.url,
                "AML_LIFECYCLE_ARM_CA_BUNDLE": sim.ca_bundle,
                "AML_LIFECYCLE_LOCAL_TOKEN": token,
                "AML_LIFECYCLE_ALLOWED_TARGETS": SUB_PROD,
            }
        )
        import function_app
        from shared.azure.clients import get_clients
        from shared.moves import validation as move_validation
        from shared.moves.launch import new_plan, record_start
        from shared.moves.plan import MoveTiming
        from shared.moves.request import parse_move_request
        from tests.moves.durable_driver import Driver, real_activities

        move_validation.ARM_POLL_SECONDS = 0.05
        functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
        group = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev"
        workspace = f"{group}/providers/Microsoft.MachineLearningServices/workspaces/{args.workspace}"
        account = f"{group}/providers/Microsoft.Storage/storageAccounts/sttrainingdata"
        body = {
            "workspaceId": workspace,
            "targetResourceGroupId": f"/subscriptions/{SUB_PROD}/resourceGroups/rg-ml-prod",
        }
        if args.workspace == "ws-quiet":
            body["includeResources"] = [account]  # its datastore's account moves along: the fix runs too
        request = parse_move_request(body, for_move=True)
        clients = get_clients()

        # Baseline: the preflight as POST /api/moves/validate runs it (checks + ARM's validation).
        sim.control("DELETE", "/_sim/requests")
        report = move_validation.validate_move(clients, clients.settings, request)
        preflight = arm_calls(sim)
        if not report.ready:
            raise SystemExit(f"{args.workspace} is not ready to move: {report.to_json()}")

        # The move as POST /api/moves runs it: the starter's preflight (no ARM validation: the orchestration's first
        # step is that), then the orchestration, which reuses the starter's fresh reads.
        sim.control("DELETE", "/_sim/requests")
        starter = move_validation.validate_move(clients, clients.settings, request, arm=False)
        plan = new_plan(request, tuple(starter.resources), timing=MoveTiming(approval_deadline_seconds=300))
        record_start(clients, plan, inventory=starter.inventory)
        start_calls = arm_calls(sim)
        sim.control("DELETE", "/_sim/requests")
        started = time.perf_counter()
        run = Driver(
            functions["move_orchestrator"].get_user_function(),
            real_activities(functions, ACTIVITIES),
            instance_id=plan.move_id[:21],  # the admission check compares it with the plan's workspace
        ).run("move_orchestrator", plan.to_json())
        seconds = time.perf_counter() - started
        move = arm_calls(sim)

    counts = collections.Counter(operation(r["method"], r["path"]) for r in move)
    width = max(len(op) for op in counts)
    print(
        f"move of {args.workspace} -> rg-ml-prod: {run.output['state']}; "
        f"simulator LROs answer 202 x{args.polls} then 204"
    )
    print(f"{'operation':<{width}}  calls")
    for op, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{op:<{width}}  {count:5d}")
    print(f"{'total (orchestration)':<{width}}  {len(move):5d}")
    print(f"{'starter (POST /api/moves preflight)':<{width}}  {len(start_calls):5d}")
    print(f"{'total per move (starter + orchestration)':<{width}}  {len(start_calls) + len(move):5d}")
    print(f"{'preflight baseline (validate_move)':<{width}}  {len(preflight):5d}")
    print(f"ratio orchestration / preflight: {len(move) / max(1, len(preflight)):.2f}")
    print(f"ratio per move / preflight: {(len(start_calls) + len(move)) / max(1, len(preflight)):.2f}")
    print(
        f"activity calls: {len(run.calls)}, durable timers: {len(run.timers)}, wall time {seconds:.2f}s "
        "(virtual clock: timers fire at once)"
    )


if __name__ == "__main__":
    main()
