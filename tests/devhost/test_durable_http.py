"""Durable Functions through the dev host: the real SDK client and starter against the Durable HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import azure.durable_functions as df

from tests.devhost.conftest import DevHostUnderTest, http


def test_starter_check_status_response_and_completion(devhost: DevHostUnderTest) -> None:
    reply = devhost.start("hello_sequence", "Tokyo")
    assert reply.status == 202
    payload = reply.json()
    instance_id = payload["id"]
    assert reply.headers["location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith(f"{devhost.url}/runtime/webhooks/durabletask/instances/{instance_id}?")
    assert f"code={devhost.durable_key}" in payload["statusQueryGetUri"]  # the durabletask system key, as the host
    assert http("GET", payload["statusQueryGetUri"].replace(f"code={devhost.durable_key}", "code=bad")).status == 401
    assert http("GET", payload["statusQueryGetUri"].replace(devhost.durable_key, devhost.key)).status == 401

    devhost.wait_status(instance_id)
    final = http("GET", payload["statusQueryGetUri"])
    assert final.status == 200

    status = devhost.client(lambda client: client.get_status(instance_id))
    assert status.runtime_status == df.OrchestrationRuntimeStatus.Completed
    assert status.name == "hello_sequence" and status.input_ == "Tokyo"
    assert status.output == {"first": "Hello Tokyo", "parallel": ["Hello Tokyo-0", "Hello Tokyo-1", "Hello Tokyo-2"]}
    assert status.custom_status == {"step": "timer"}


def test_retry_history_has_the_dtfx_shape(devhost: DevHostUnderTest) -> None:
    key = uuid.uuid4().hex
    instance_id = devhost.start("retrying", {"key": key, "succeed_on": 3}).json()["id"]
    assert devhost.wait_status(instance_id)["output"] == {"attempts": 3}
    history = devhost.status(instance_id, showHistory="true", showHistoryOutput="true").json()["historyEvents"]
    assert [e["EventType"] for e in history] == [
        "ExecutionStarted", "TaskFailed", "TimerCreated", "TimerFired", "TaskFailed", "TimerCreated", "TimerFired",
        "TaskCompleted", "ExecutionCompleted"]
    assert history[1]["Reason"] == "Activity function 'flaky' failed: attempt 1 failed"
    assert history[-2]["Result"] == '{"attempts": 3}' and history[-2]["FunctionName"] == "flaky"

    exhausted = devhost.start("retrying", {"key": uuid.uuid4().hex, "succeed_on": 9}).json()["id"]
    failed = devhost.wait_status(exhausted)
    assert failed["runtimeStatus"] == "Failed"
    assert "attempt 3 failed" in failed["output"]


def test_activity_failure_fails_the_orchestration(devhost: DevHostUnderTest) -> None:
    instance_id = devhost.start("failing").json()["id"]
    status = devhost.wait_status(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("Orchestrator function 'failing' failed: Activity function 'explode' failed: "
                                       "exploded: boom")
    assert devhost.status(instance_id, returnInternalServerErrorOnFailure="true").status == 500


def test_external_event_and_duplicate_start(devhost: DevHostUnderTest) -> None:
    instance_id = f"approval-{uuid.uuid4().hex[:8]}"
    assert devhost.start("approval", instance_id=instance_id).status == 202
    running = devhost.wait_status(instance_id, "Running")
    assert running["customStatus"] == "waiting"
    assert devhost.status(instance_id).status == 202

    conflict = http("POST", f"{devhost.url}/runtime/webhooks/durabletask/orchestrators/approval/{instance_id}"
                            f"?code={devhost.durable_key}")
    assert conflict.status == 409
    assert conflict.json() == {"Message": "An Orchestration instance with the status Running already exists."}
    assert devhost.start("approval", instance_id=instance_id).status == 500  # the SDK's start_new raises on 409

    devhost.client(lambda client: client.raise_event(instance_id, "Approval", {"by": "ana", "ok": True}))
    assert devhost.wait_status(instance_id)["output"] == {"decision": {"by": "ana", "ok": True}}

    replaced = devhost.start("approval", instance_id=instance_id)  # a terminal instance is replaced
    assert replaced.status == 202
    devhost.wait_status(instance_id, "Running")
    devhost.client(lambda client: client.raise_event(instance_id, "Approval", "again"))
    assert devhost.wait_status(instance_id)["output"] == {"decision": "again"}


def test_terminate_and_gone(devhost: DevHostUnderTest) -> None:
    instance_id = devhost.start("approval").json()["id"]
    devhost.wait_status(instance_id, "Running")
    devhost.client(lambda client: client.terminate(instance_id, "no longer needed"))
    status = devhost.wait_status(instance_id, "Terminated")
    assert status["output"] == "no longer needed"
    terminate_url = f"{devhost.url}/runtime/webhooks/durabletask/instances/{instance_id}/terminate?code={devhost.durable_key}"
    assert http("POST", terminate_url).status == 410
    raise_url = f"{devhost.url}/runtime/webhooks/durabletask/instances/{instance_id}/raiseEvent/Approval?code={devhost.durable_key}"
    assert http("POST", raise_url, body="late").status == 410
    missing = f"{devhost.url}/runtime/webhooks/durabletask/instances/nope/terminate?code={devhost.durable_key}"
    assert http("POST", missing).status == 404


def test_sub_orchestration_and_continue_as_new(devhost: DevHostUnderTest) -> None:
    parent = devhost.start("parent").json()["id"]
    counter = devhost.start("counter", 0).json()["id"]
    assert devhost.wait_status(parent)["output"] == {"child": {"first": "Hello child", "parallel": [
        "Hello child-0", "Hello child-1", "Hello child-2"]}}
    child = devhost.status(f"{parent}:0").json()
    assert child["runtimeStatus"] == "Completed" and child["input"] == "child"
    status = devhost.wait_status(counter)
    assert (status["runtimeStatus"], status["output"], status["input"]) == ("Completed", 3, 3)


def test_query_and_purge(devhost: DevHostUnderTest) -> None:
    done = devhost.start("hello_sequence", "purge-me").json()["id"]
    waiting = devhost.start("approval").json()["id"]
    devhost.wait_status(done)
    devhost.wait_status(waiting, "Running")

    def query(client: df.DurableOrchestrationClient):
        return client.get_status_by(runtime_status=[df.OrchestrationRuntimeStatus.Running])

    running_ids = {s.instance_id for s in devhost.client(query)}
    assert waiting in running_ids and done not in running_ids
    every = devhost.client(lambda client: client.get_status_all())
    assert {done, waiting} <= {s.instance_id for s in every}

    purge_running = http("DELETE", f"{devhost.url}/runtime/webhooks/durabletask/instances/{waiting}?code={devhost.durable_key}")
    assert purge_running.status == 412
    result = devhost.client(lambda client: client.purge_instance_history(done))
    assert result.instances_deleted == 1
    assert devhost.status(done).status == 404
    assert devhost.client(lambda client: client.purge_instance_history(done)).instances_deleted == 0

    failed = devhost.start("failing").json()["id"]
    devhost.wait_status(failed)
    since = datetime.now(timezone.utc) - timedelta(minutes=10)
    purged = devhost.client(lambda client: client.purge_instance_history_by(
        created_time_from=since, runtime_status=[df.OrchestrationRuntimeStatus.Failed]))
    assert purged.instances_deleted >= 1
    assert devhost.status(failed).status == 404
    assert devhost.status(waiting).json()["runtimeStatus"] == "Running"
    devhost.client(lambda client: client.terminate(waiting, "cleanup"))


def test_client_start_new_through_the_rpc_endpoint(devhost: DevHostUnderTest) -> None:
    async def start(client: df.DurableOrchestrationClient) -> str:
        return await client.start_new("hello_sequence", None, "rpc")

    instance_id = devhost.client(start)
    assert devhost.wait_status(instance_id)["output"]["first"] == "Hello rpc"


def test_the_rpc_path_is_not_served_on_the_public_listener_and_no_answer_carries_a_system_key(
        devhost: DevHostUnderTest) -> None:
    # As the host: the Durable RPC endpoint is a loopback listener of its own, not a path of the public one.
    public = http("POST", f"{devhost.url}/durabletask/orchestrators/hello_sequence", body="x")
    assert public.status in (401, 404), public.status
    rpc = devhost.host.rpc_url
    assert rpc and not rpc.startswith(devhost.url)
    started = http("POST", f"{rpc}orchestrators/hello_sequence", body="x")
    assert started.status == 202 and started.json()["id"]
    text = started.body.decode() + str(started.headers)
    assert all(key not in text for key in [*devhost.host.system_keys.values(), devhost.host.master_key])
