"""A cold start indexes every function while importing only what registration needs; the domain loads on first run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK = "import azure.functions, azure.durable_functions, azure.core"

# What handlers/http.py and handlers/telemetry.py need, and the durable names the registrations use.
ALLOWED_SHARED = {
    "shared", "shared.auth", "shared.errors", "shared.telemetry", "shared.untrusted_input", "shared.moves",
    "shared.moves.orchestrations",
}
# The registrations function_app.py imports (read from it below) and these helpers of theirs.
ALLOWED_HANDLERS = {"handlers", "handlers.http", "handlers.telemetry", "handlers.cold_start"}

FUNCTIONS = {
    "alert_notifier", "coverage", "health", "inventory_backfill", "inventory_backfill_daily", "move_admit",
    "move_approve_private_endpoints", "move_cancel", "move_check_datastores", "move_check_role_assignments",
    "move_finish", "move_locate", "move_orchestrator", "move_poll", "move_snapshot", "move_start",
    "move_start_validation", "move_status", "move_validation_admit", "move_validation_finish",
    "move_validation_orchestrator", "move_validation_poll", "move_validation_status", "move_workload_snapshot",
    "move_workload_step", "moves_list", "moves_start", "moves_validate", "name_check", "retention_get",
    "retention_list", "retention_purge", "retention_sweep", "workspace_events",
}

INDEX = """
import sys
import function_app
names = sorted(f.get_function_name() for f in function_app.app.get_functions())
print("FUNCTIONS", *names)
print("MODULES", *sorted(sys.modules))
"""


def cold_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh worker: no Application Insights, the suite's auth mode (tests/conftest.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_", "AML_LIFECYCLE_"))}
    env.update(AML_LIFECYCLE_AUTH=os.environ["AML_LIFECYCLE_AUTH"], PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(code: str, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, env=env or cold_env(), check=True,
                          capture_output=True, text=True, timeout=120)


def registrations() -> set[str]:
    tree = ast.parse((ROOT / "function_app.py").read_text())
    return {f"handlers.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "handlers"
            for a in n.names}


def importers(importtime: str) -> dict[str, str]:
    """Module → the module whose import pulled it in, from `python -X importtime` (children print before parents,
    two more spaces deep)."""
    parent: dict[str, str] = {}
    pending: list[tuple[int, str]] = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or line.rstrip().endswith("imported package"):
            continue
        field = line.rsplit("|", 1)[1]
        name = field.strip()
        depth = len(field) - len(field.lstrip(" "))
        while pending and pending[-1][0] > depth:
            parent[pending.pop()[1]] = name
        pending.append((depth, name))
    return parent


def pulled_by(module: str, parent: dict[str, str]) -> str:
    """`handlers.names -> shared.retention.names`: the handler (or the indexing) and what it imported directly."""
    while module not in parent and "." in module:  # an alias set in sys.modules (requests.packages.*): its package
        module = module.rsplit(".", 1)[0]
    chain = [module]
    while chain[-1] in parent:
        chain.append(parent[chain[-1]])
    at = next((i for i, m in enumerate(chain) if m.startswith("handlers.") or m == "function_app"), None)
    if at is None:
        return f"the indexing (app.get_functions()) -> {chain[-1]}"
    if at == 0:  # a handler module itself, e.g. a flow module imported at indexing
        return f"{parent.get(module, 'the indexing')} -> {module}"
    return f"{chain[at]} -> {chain[at - 1]}"


def report(offenders: list[str], parent: dict[str, str]) -> str:
    by_source: dict[str, list[str]] = {}
    for module in offenders:
        by_source.setdefault(pulled_by(module, parent), []).append(module)
    return "indexing imported what only a running function needs (import it in the function body):\n" + "\n".join(
        f"  {source} pulled {len(found)}: {', '.join(found[:6])}{', ...' if len(found) > 6 else ''}"
        for source, found in sorted(by_source.items()))


def test_indexing_imports_only_what_registration_needs_and_indexes_every_function():
    sdk = set(run(f"import sys; {SDK}; print(*sys.modules)").stdout.split())
    indexed = run(INDEX, "-X", "importtime")
    lines = dict(line.split(" ", 1) for line in indexed.stdout.splitlines() if " " in line)
    assert set(lines["FUNCTIONS"].split()) == FUNCTIONS

    allowed = ALLOWED_SHARED | ALLOWED_HANDLERS | registrations() | {"function_app"}
    stdlib = sys.stdlib_module_names
    loaded = set(lines["MODULES"].split()) - sdk
    offenders = sorted(m for m in loaded if m not in allowed and m.split(".")[0] not in stdlib)
    parent = importers(indexed.stderr)
    assert not offenders, report(offenders, parent)


CONCURRENT_FIRST_RUNS = """
import sys, threading
import azure.functions as func
import function_app

functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
class Timer:
    past_due = False
def request(route: str) -> func.HttpRequest:
    return func.HttpRequest(method="GET", url=f"http://localhost/api/{route}", body=b"", params={}, route_params={})
calls = {name: (lambda f=f: f({})) for name, f in functions.items()
         if name.startswith("move_") and "orchestrator" not in name and name not in ("move_cancel", "move_status",
                                                                                      "move_validation_status")}
calls["workspace_events"] = lambda: functions["workspace_events"]("{}")
calls["retention_sweep"] = lambda: functions["retention_sweep"](Timer())
calls["inventory_backfill_daily"] = lambda: functions["inventory_backfill_daily"](Timer())
for name in ("retention_list", "retention_get", "name_check", "coverage", "health", "moves_list", "move_status"):
    calls[name] = lambda f=functions[name], n=name: f(request(n))

sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy instance: overlapping imports show up
start = threading.Barrier(len(calls))
outcomes = {}
def first_run(name, call):
    start.wait()
    try:
        answer = call()
        outcomes[name] = answer.get_body().decode() if hasattr(answer, "get_body") else "returned"
    except BaseException as exc:
        outcomes[name] = f"{type(exc).__name__}: {exc}"
threads = [threading.Thread(target=first_run, args=item) for item in calls.items()]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for name, outcome in sorted(outcomes.items()):
    print(name, "|", outcome.replace("\\n", " ")[:300])
"""


def test_functions_running_for_the_first_time_at_once_all_get_their_modules():
    # The worker runs sync functions on a thread pool: on a cold instance several may import the domain at once.
    # Without storage settings each one stops at its first settings read (or its input): never at an import.
    # Overlaps are a matter of timing: three cold instances.
    for _ in range(3):
        answers = dict(line.split(" | ", 1) for line in run(CONCURRENT_FIRST_RUNS).stdout.splitlines())
        assert len(answers) >= 20
        broken = {n: a for n, a in answers.items() if "ImportError" in a or "InternalError" in a or "deadlock" in a}
        assert broken == {}
        reached = ("setting AML_LIFECYCLE_TABLES: is required", "KeyError: 'plan'", '"code": "MoveNotFound"')
        assert {n: a for n, a in answers.items() if not any(r in a for r in reached)} == {}
