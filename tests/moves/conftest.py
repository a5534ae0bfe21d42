"""Fixtures for the durable move: plans for seeded workspaces, a driver over real activities, the simulator's views."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from handlers.move_orchestration import ACTIVITIES
from shared.moves.launch import new_plan, record_start
from shared.moves.plan import MovePlan, MoveTiming, instance_id_of
from shared.moves.request import parse_move_request
from tests.conftest import SUB_PROD, rg_id, ws_id
from tests.moves.durable_driver import Driver, Run, real_activities

# Virtual time: the driver fires timers at once, so only the number of approval rounds costs anything.
TEST_TIMING = MoveTiming(
    approval_interval_seconds=60, approval_deadline_seconds=300, retry_first_ms=1000, retry_attempts=3
)
PROD = rg_id(SUB_PROD, "rg-ml-prod")


def make_plan(
    workspace: str = "ws-quiet",
    target: str = PROD,
    *,
    include: tuple[str, ...] = (),
    recreate: bool = False,
    timing: MoveTiming = TEST_TIMING,
    **body: Any,
) -> MovePlan:
    request = parse_move_request(
        {"workspaceId": ws_id(workspace), "targetResourceGroupId": target, **body}, for_move=True
    )
    resources = (request.workspace.id, *(r.id for r in request.include_resources))
    return new_plan(request, resources, recreate=recreate, timing=timing)


@pytest.fixture
def move_env(app_env: dict, sim: Any, monkeypatch: pytest.MonkeyPatch) -> dict:
    """app_env, plus trust in the simulator's CA for the alerts topic (azure-eventgrid 4.22.1 drops the publisher's
    connection_verify for basic topics, reported; the CA comes in through requests' own variable), fast preflight."""
    from shared.moves.preflight import validation as move_validation

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle)
    monkeypatch.setattr(
        move_validation, "ARM_POLL_SECONDS", 0.05
    )  # the preflight's own ARM poller, as tests/preflight do
    return app_env


@pytest.fixture
def run_move(move_env: dict, functions: dict) -> Callable[..., tuple[MovePlan, Run]]:
    """Record the move's first row (as the starter does after its preflight) and drive the orchestration to its end."""
    from shared.azure.clients import get_clients

    def run(plan: MovePlan) -> Run:
        record_start(get_clients(), plan)
        handle = functions["move_orchestrator"].get_user_function()
        return Driver(handle, real_activities(functions, ACTIVITIES), instance_id=instance_id_of(plan.move_id)).run(
            "move_orchestrator", plan.to_json()
        )

    return run


@pytest.fixture
def sim_requests(sim: Any) -> Callable[[], list[dict]]:
    return lambda: sim.control("GET", "requests").json()


@pytest.fixture
def sim_state(sim: Any) -> Callable[[], dict]:
    return lambda: sim.control("GET", "state").json()


@pytest.fixture
def fast_devhost(move_env: dict, sim: Any, tmp_path: Any) -> Any:
    """The dev host serving the real app with the move's waits shrunk (tests/moves/fast_app.py)."""
    from local.devhost.process import start_devhost

    # Memory Durable store; the retention sweep and backfill timers (not under test) set to once a year.
    env = {
        **move_env,
        "REQUESTS_CA_BUNDLE": sim.ca_bundle,
        "AzureWebJobsStorage": None,
        "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
        "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 0 0 1 1 *",
    }
    with start_devhost("tests.moves.fast_app:app", app_dir=tmp_path, env=env, timeout=60) as host:
        yield host
