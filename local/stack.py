"""`make run`: Azurite + the ARM simulator (demo tenant) + the dev host running function_app, wired together."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from local.armsim.process import RunningSimulator, start_simulator
from local.azurite import RunningAzurite, start_azurite
from local.devhost.process import RunningDevHost, start_devhost
from local.seed import SCENARIO, SUB_DEV, SUB_PROD
from shared.auth import APP_ROLES

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"


@dataclass
class Stack:
    azurite: RunningAzurite
    simulator: RunningSimulator
    devhost: RunningDevHost
    env: dict[str, str]

    @property
    def api(self) -> str:
        return f"{self.devhost.url}/api"


def app_environment(azurite: RunningAzurite, simulator: RunningSimulator, token: str, topic_key: str,
                    function_key: str, extra: dict[str, str] | None = None, *, master_key: str = "") -> dict[str, str]:
    """The app settings (docs/settings.md) pointing at the local stack."""
    return {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": azurite.connection_string,
        "AML_LIFECYCLE_TABLES": azurite.connection_string,
        "AML_LIFECYCLE_ARM_ENDPOINT": simulator.url,
        "AML_LIFECYCLE_ARM_CA_BUNDLE": simulator.ca_bundle,
        "AML_LIFECYCLE_LOCAL_TOKEN": token,
        "AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT": f"{simulator.url}/_sim/topics/alerts/api/events",
        "AML_LIFECYCLE_ALERTS_TOPIC_KEY": topic_key,
        "AML_LIFECYCLE_ALLOWED_TARGETS": f"{SUB_PROD},/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev-2",
        "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": f"{SUB_DEV},{SUB_PROD}",
        "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 0 * * * *",
        "AML_LIFECYCLE_BACKFILL_SCHEDULE": "0 30 3 * * *",
        "AML_LIFECYCLE_DEV_FUNCTION_KEY": function_key,
        "AML_LIFECYCLE_DEV_MASTER_KEY": master_key or secrets.token_hex(24),
        # Entra sign-in emulated by the dev host unless the shell says keys (docs/auth.md)
        "AML_LIFECYCLE_AUTH": os.environ.get("AML_LIFECYCLE_AUTH") or "entra",
        **(extra or {}),
    }


def start_stack(stack: ExitStack, *, state_dir: Path = STATE, fresh: bool = True, devhost_port: int = 7071,
                retry_after: int = 1, polls: int = 2, extra_env: dict[str, str] | None = None,
                log=print) -> Stack:
    """Start the three processes (each stopped by PID when `stack` closes) and wait until the app is healthy."""
    if fresh and state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    token, topic_key, function_key, master_key = (secrets.token_hex(24) for _ in range(4))

    log("starting Azurite ...")
    azurite = stack.enter_context(start_azurite(str(state_dir / "azurite"), services=("blob", "queue", "table"),
                                                log_file=str(state_dir / "azurite.log")))
    log("starting the ARM simulator (demo tenant) ...")
    simulator = stack.enter_context(start_simulator(state_dir / "armsim", token=token, scenario=SCENARIO,
                                                    topic_key=topic_key, retry_after=retry_after, polls=polls))
    env = app_environment(azurite, simulator, token, topic_key, function_key,
                          {"AML_LIFECYCLE_DEV_ISSUER_FILE": str(state_dir / "devhost-issuer.json"), **(extra_env or {})},
                          master_key=master_key)
    log("starting the dev host with function_app ...")
    devhost = stack.enter_context(launch_devhost(env, state_dir, devhost_port))
    # The Event Grid subscription carries the eventgrid_extension system key, as `az eventgrid` is told to in Azure.
    webhook = f"{devhost.url}/runtime/webhooks/eventgrid?functionName=workspace_events&code={devhost.eventgrid_key}"
    simulator.control("POST", "/_sim/eventgrid/subscriptions", {"endpoint": webhook})
    running = Stack(azurite, simulator, devhost, env)
    wait_healthy(running)
    status, counts = call(running, "POST", "inventory/backfill", {})
    log(f"inventory backfill of the watched subscriptions: {status} {json.dumps(counts)[:300]}")
    return running


def launch_devhost(env: dict[str, str], state_dir: Path, port: int) -> RunningDevHost:
    """The dev host running function_app with the stack's settings (its Durable state lives in Azurite)."""
    return start_devhost("function_app:app", app_dir=ROOT, port=port, env=env,
                         log_path=str(state_dir / "devhost.log"), timeout=60)


def call(stack: Stack, method: str, path: str, body: object = None, *, timeout: float = 60) -> tuple[int, object]:
    """One request to the app: `path` under /api with the function key, or from the host root when it starts
    with '/' (/admin/... with the master key, as the host wants). Returns (status, decoded JSON or text)."""
    data = json.dumps(body).encode() if body is not None else None
    url = f"{stack.devhost.url}{path}" if path.startswith("/") else f"{stack.api}/{path}"
    if path.startswith("/admin/"):
        headers = {"x-functions-key": stack.devhost.master_key}
    else:  # the operator of the local stack: every app role (a token under entra, the function key under keys)
        headers = stack.devhost.caller_headers(*APP_ROLES, name="operator@contoso.com")
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def arm(stack: Stack, method: str, path: str, body: object = None, api_version: str = "2025-09-01",
        *, follow: bool = True, timeout: float = 120) -> tuple[int, object]:
    """One ARM request to the simulator with the bearer token (what a user's az CLI would do).

    With `follow`, a 202 is polled through its Location (honouring Retry-After) until the operation ends.
    """
    if path.startswith("https://"):
        url = path
    else:
        separator = "&" if "?" in path else "?"
        url = f"{stack.simulator.url}{path}{separator}api-version={api_version}"
    status, headers, payload = _arm_once(stack, method, url, body)
    deadline = time.monotonic() + timeout
    while follow and status == 202 and headers.get("Location") and time.monotonic() < deadline:
        time.sleep(float(headers.get("Retry-After") or 1))
        status, headers, payload = _arm_once(stack, "GET", headers["Location"], None)
    return status, payload


def _arm_once(stack: Stack, method: str, url: str, body: object) -> tuple[int, dict, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {stack.simulator.token}", "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=stack.simulator.ca_bundle)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    return status, headers, json.loads(raw) if raw.strip() else None


def wait_healthy(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        status, last = call(stack, "GET", "health", timeout=30)
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the app did not become healthy within {timeout:.0f}s: {last}")


def print_banner(stack: Stack) -> None:
    key = stack.devhost.key
    ws = f"/subscriptions/{SUB_DEV}/resourceGroups/rg-ml-dev/providers/Microsoft.MachineLearningServices/workspaces/ws-quiet"
    body = json.dumps({"workspaceId": ws, "targetResourceGroupId": f"/subscriptions/{SUB_PROD}/resourceGroups/rg-ml-prod",
                       "includeAssociated": True})
    if stack.devhost.auth == "entra":
        who = f"""sign-in           Microsoft Entra ID, emulated (AML_LIFECYCLE_AUTH=entra): app roles {', '.join(APP_ROLES)}
                    tokens from the local issuer ({stack.devhost.issuer_file}); function keys open no /api route"""
        auth = '-H "Authorization: Bearer $AML_LIFECYCLE_TOKEN"'
        first = """  export AML_LIFECYCLE_TOKEN=$(.venv/bin/python -m local.token --roles Retention.Read Moves.Validate \\
      Moves.Execute --name alice@contoso.com)
"""
        credential = ""
    else:
        who = f"sign-in           function keys (AML_LIFECYCLE_AUTH=keys): function key {key}"
        auth = f'-H "x-functions-key: {key}"'
        first = ""
        credential = f"  export AML_LIFECYCLE_FUNCTION_KEY={key}\n"
    print(f"""
aml-lifecycle is running locally (development host; not for production).

  app (dev host)    {stack.devhost.url}
  {who}
  dev host keys     master (/admin/*): {stack.devhost.master_key}
                    durabletask_extension (/runtime/webhooks/durabletask): {stack.devhost.durable_key}
                    eventgrid_extension (/runtime/webhooks/eventgrid): {stack.devhost.eventgrid_key}
  ARM simulator     {stack.simulator.url}     CA bundle: {stack.simulator.ca_bundle}
  Azurite           {stack.azurite.connection_string.split('TableEndpoint=')[1].rstrip(';')} (tables)
  OpenAPI           {stack.devhost.url}/api/openapi.yaml
  logs              {STATE}/*.log

The aml-lifecycle command (installed in .venv by make setup) talks to it with:
{first}  export AML_LIFECYCLE_ENDPOINT={stack.devhost.url}
{credential}  .venv/bin/aml-lifecycle health; .venv/bin/aml-lifecycle retention list; .venv/bin/aml-lifecycle move list

Or with curl:
  curl -s {auth} {stack.api}/health
  curl -s {auth} "{stack.api}/retention?state=SoftDeleted&orderby=purgeAfter"
  curl -s {auth} {stack.api}/names/{SUB_PROD}/rg-ml-prod/ws-twin
  curl -s {auth} -H "Content-Type: application/json" -X POST {stack.api}/moves/validate -d '{body}'
  curl -s -H "x-functions-key: {stack.devhost.master_key}" -X POST {stack.devhost.url}/admin/functions/retention_sweep -d '{{}}'

Ctrl-C stops everything.""", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", action="store_true", help="play the end-to-end story, then stop")
    parser.add_argument("--port", type=int, default=7071, help="dev host port (0 = any free port)")
    parser.add_argument("--keep", action="store_true", help="keep .local/ state from the last run")
    args = parser.parse_args()
    started = time.monotonic()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ExitStack() as stack:
        extra = {"AML_LIFECYCLE_DEFAULT_RETENTION_DAYS": "7"} if args.demo else None
        running = start_stack(stack, fresh=not args.keep, devhost_port=args.port, extra_env=extra)
        print(f"healthy after {time.monotonic() - started:.1f}s", flush=True)
        if args.demo:
            from local.demo import play

            sys.exit(play(running))
        print_banner(running)
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        print("stopping ...", flush=True)


if __name__ == "__main__":
    main()
