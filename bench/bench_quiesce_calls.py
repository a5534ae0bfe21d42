"""ARM calls, activity calls and durable timers of a quiesced move of a busy workspace (a compute instance, a
cluster, an endpoint with two deployments at 80/20), against a plain move of the same workspace when quiet,
measured in the same run as the baseline."""

from __future__ import annotations

import argparse
import collections
import os
import re
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_move_calls import arm_calls, operation
from handlers.move_orchestration import ACTIVITIES
from local.seed import SUB_DEV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=2, help="in-progress answers the simulator gives before an LRO ends")
    args = parser.parse_args()

    from local.armsim.process import start_simulator
    from local.azurite import start_azurite

    token = secrets.token_urlsafe(24).lstrip("-")
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
                "AML_LIFECYCLE_ALLOWED_TARGETS": SUB_DEV,
            }
        )
        import function_app
        from shared.azure.clients import get_clients
        from shared.moves.launch import new_plan, record_start
        from shared.moves.plan import MoveTiming, instance_id_of
        from shared.moves.request import parse_move_request
        from tests.moves.busy_workspace import make_busy
        from tests.moves.durable_driver import Driver, real_activities

        functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
        clients = get_clients()

        def move(source_group: str, target_group: str, **options: bool) -> tuple[list[dict], object]:
            workspace = (f"/subscriptions/{SUB_DEV}/resourceGroups/{source_group}/providers/"
                         "Microsoft.MachineLearningServices/workspaces/ws-twin")
            request = parse_move_request(
                {"workspaceId": workspace, "targetResourceGroupId": f"/subscriptions/{SUB_DEV}/resourceGroups/"
                 f"{target_group}", **options}, for_move=True)
            plan = new_plan(request, (workspace,), timing=MoveTiming(approval_deadline_seconds=300))
            record_start(clients, plan)
            sim.control("DELETE", "/_sim/requests")
            run = Driver(functions["move_orchestrator"].get_user_function(), real_activities(functions, ACTIVITIES),
                         instance_id=instance_id_of(plan.move_id),  # the admission check compares them
                         ).run("move_orchestrator", plan.to_json())
            return arm_calls(sim), run

        plain, plain_run = move("rg-ml-dev", "rg-ml-dev-2")
        make_busy(f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev-2/providers/"
                  "Microsoft.MachineLearningServices/workspaces/ws-twin")
        quiesced, run = move("rg-ml-dev-2", "rg-ml-dev", quiesce=True)

    # Operation status URLs end in an operation id: grouped as {} like the other names.
    counts = collections.Counter(re.sub(r"/[0-9a-f]{32}$", "/{}", operation(r["method"], r["path"])) for r in quiesced)
    width = max(len(op) for op in counts)
    print(f"quiesced move of busy ws-twin: {run.output['state']}; plain move of quiet ws-twin: "
          f"{plain_run.output['state']}; simulator LROs answer in progress x{args.polls}")
    print(f"{'operation (quiesced move)':<{width}}  calls")
    for op, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{op:<{width}}  {count:5d}")
    print(f"{'total ARM calls, quiesced':<{width}}  {len(quiesced):5d}")
    print(f"{'total ARM calls, plain (baseline)':<{width}}  {len(plain):5d}")
    print(f"ratio ARM calls quiesced / plain: {len(quiesced) / max(1, len(plain)):.2f}")
    print(f"ratio activity calls quiesced / plain: {len(run.calls) / max(1, len(plain_run.calls)):.2f} "
          f"({len(run.calls)} / {len(plain_run.calls)}); durable timers {len(run.timers)} / {len(plain_run.timers)}")


if __name__ == "__main__":
    main()
