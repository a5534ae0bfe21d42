"""Property-based tests of the running app from its OpenAPI document (schemathesis).

The whole local stack (Azurite, the ARM simulator with the demo tenant, the dev host running function_app) starts
once for this module; the schema is loaded from the dev host's own /api/openapi.yaml. For every operation
schemathesis sends the document's examples, its coverage cases (boundaries, each constraint broken once) and a
bounded number of generated valid and invalid requests, with the function key, and checks each response: never a
5xx, and the status code, content type and body are the ones the document declares. Deterministic: fixed seed,
no example database, no shrinking. The summary at the end of the run counts the cases per operation and status.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import SUB_DEV, Stack, arm, call, start_stack
from local.waiting import wait_until
from tests.api.conftest import TALLY, CaseTally

MAX_EXAMPLES = 50  # generated cases per operation (the coverage phase adds its own, bounded by the schema)
SEED = 7071
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
YEARLY = "0 0 0 1 1 *"  # keep the retention sweep and backfill timers out of the run
DELETED = ("rg-ml-dev", "ws-batch")  # a demo workspace soft-deleted before the run, so the ledger has a row
TERMINAL = {"Succeeded", "Failed", "NeedsAttention"}


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[CaseTally]:
    counts = request.config.stash.setdefault(TALLY, CaseTally())
    started = time.monotonic()
    yield counts
    counts.seconds += time.monotonic() - started


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tally: CaseTally) -> Iterator[Stack]:
    with ExitStack() as processes:
        running = start_stack(processes, state_dir=Path(tmp_path_factory.mktemp("api-stack")), devhost_port=0,
                              retry_after=0, polls=1, extra_env={"AML_LIFECYCLE_SWEEP_SCHEDULE": YEARLY,
                                                                    "AML_LIFECYCLE_BACKFILL_SCHEDULE": YEARLY},
                              log=lambda *args, **kwargs: None)
        soft_delete(running, *DELETED)
        wait_for(lambda: call(running, "GET", "retention")[1].get("value"), "the soft delete in the ledger")
        yield running


def soft_delete(stack: Stack, group: str, name: str) -> None:
    """DELETE the workspace through simulated ARM and poll its long-running operation to the end, as az would."""
    status, body = arm(stack, "DELETE", f"/subscriptions/{SUB_DEV}/resourceGroups/{group}/providers/"
                                         f"Microsoft.MachineLearningServices/workspaces/{name}")
    assert status in (200, 204), body


def wait_for(check, what: str, timeout: float = 60.0):
    return wait_until(check, what, timeout=timeout, interval=0.25)


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "base-url": stack.api,
        "headers": {"x-functions-key": stack.devhost.key},
        "request-timeout": 60,
        "generation": {
            "mode": "all",  # valid requests and requests that break the schema (those must be 4xx, not 5xx)
            "max-examples": MAX_EXAMPLES,
            "no-shrink": True,
            "database": "none",
            "with-security-parameters": False,  # the key goes in the header above, not a generated one
        },
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": False}},
    })
    return schemathesis.openapi.from_url(f"{stack.api}/openapi.yaml", config=config, timeout=30)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32.5 labels each operation's subtest through `node._nodeid`, which pytest 9.2 no longer has
    (a node keeps its id in `_id`); give it the attribute it reads and rewrites, so the lazy schema runs."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api(case: schemathesis.Case, stack: Stack, tally: CaseTally) -> None:
    response = case.call_and_validate(checks=CHECKS, timeout=60)
    tally.add(case.operation.label, response.status_code)
    if case.operation.label == "POST /moves" and response.status_code == 202:
        tally.move_ids.append(response.json()["moveId"])  # the document's example starts a real move


def test_real_rows_and_moves_match_the_document(api_schema: schemathesis.BaseSchema, stack: Stack,
                                                 tally: CaseTally) -> None:
    """Generated requests rarely name what exists: check the 200 bodies of a real ledger row and a real move."""
    key = {"x-functions-key": stack.devhost.key}
    listed = requests.get(f"{stack.api}/retention", headers=key, timeout=60)
    api_schema["/retention"]["GET"].validate_response(listed)
    assert any(row["workspaceName"] == DELETED[1] for row in listed.json()["value"]), listed.text

    one = requests.get(f"{stack.api}/retention/{SUB_DEV}/{DELETED[0]}/{DELETED[1]}", headers=key, timeout=60)
    assert one.status_code == 200, one.text
    api_schema["/retention/{subscriptionId}/{resourceGroup}/{workspaceName}"]["GET"].validate_response(one)
    assert one.json()["state"] == "SoftDeleted" and "recovery" in one.json()

    assert tally.move_ids, "the examples phase started no move (POST /moves with the document's example)"
    operation = api_schema["/moves/{moveId}"]["GET"]

    def status() -> dict | None:
        reply = requests.get(f"{stack.api}/moves/{tally.move_ids[0]}", headers=key, timeout=60)
        operation.validate_response(reply)
        return reply.json() if reply.json()["state"] in TERMINAL else None

    assert wait_for(status, f"move {tally.move_ids[0]} finished")["state"] in TERMINAL


def test_every_operation_was_exercised(api_schema: schemathesis.BaseSchema, tally: CaseTally) -> None:
    documented = {result.ok().label for result in api_schema.get_all_operations()}
    assert documented and documented <= set(tally.per_operation), (
        f"no cases for {sorted(documented - set(tally.per_operation))}")
