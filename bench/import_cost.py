"""Cold-start import cost: `function_app` imported and indexed (what the Functions worker pays on a cold start),
with telemetry off (no Application Insights connection string, the default) and on, against the bare SDK set it
stands on; `--baseline-ref` also compares with another commit's `function_app`; `--azure-ai-ml` adds the ML
gateway choice (ours vs azure-ai-ml's MLClient)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
AZURE_AI_ML = "azure-ai-ml==1.35.2"

PROBE = """
import json, resource, sys, time
t = time.perf_counter()
sdk_done = None
{imports}
elapsed = time.perf_counter() - t
{after}
print(json.dumps({{"seconds": elapsed, "ready_s": ready, "modules": len(sys.modules),
                  "sdk_s": None if sdk_done is None else sdk_done - t,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
# After the import: when everything the process loads at start is loaded (telemetry configures on its own thread).
NOTHING_AFTER = "ready = elapsed"
TELEMETRY_READY = "from shared import telemetry\ntelemetry.wait_until_ready()\nready = time.perf_counter() - t"

OURS = "from shared.azure.clients import AzureClients\nfrom shared.azure.ml_gateway import MlGateway"
# What a cold start really pays: the worker imports the script and indexes its functions.
# The bare SDK set any Durable Functions Python app imports at start (the app loads the rest lazily, on first use).
SDK_SET = "import azure.functions, azure.durable_functions, azure.core"
# What a cold start really pays: the worker imports the script and indexes its functions. The SDK set first, timed
# on its own, so each process gives its own ratio (the app's imports of it then cost nothing more).
APP = SDK_SET + "\nsdk_done = time.perf_counter()\nimport function_app\nfunctions = function_app.app.get_functions()"
AZURE_AI_ML_IMPORT = "from azure.ai.ml import MLClient\nfrom azure.ai.ml.entities import Workspace"


FUNCTION_APP = "import function_app"
# The package is read-only on Flex Consumption: no bytecode is written, so every cold start compiles the app's modules.
AS_DEPLOYED = {"PYTHONDONTWRITEBYTECODE": "1"}
# Issue 26's goals for a cold start: function_app import + index over the bare SDK set's import time.
GOALS = {"off": 1.2, "on": 1.5}
# A well-formed connection string to an address nothing listens on: configure_azure_monitor() runs, nothing is sent.
TELEMETRY_ON = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                "IngestionEndpoint=https://127.0.0.1:9/", "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true"}


def probe(python: str, imports: str, cwd: Path, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS_")}
    env.update(extra_env or {})
    after = TELEMETRY_READY if env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") and imports == APP else NOTHING_AFTER
    out = subprocess.run([python, "-c", PROBE.format(imports=imports, after=after)], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def unpack(ref: str, dest: Path) -> Path:
    """The tree at `ref` as the deployment package has it: sources only, no `__pycache__` (`.funcignore` drops it, and
    the package is mounted read-only, so every cold start compiles the app's modules)."""
    dest.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def working_tree_ref() -> str:
    """A commit of the working tree as it is (uncommitted changes included), for `git archive`."""
    stash = subprocess.run(["git", "stash", "create"], cwd=ROOT, check=True, capture_output=True, text=True)
    return stash.stdout.strip() or "HEAD"


def function_app_rows(python: str, runs: int, baseline_ref: str) -> dict[str, list[float]]:
    """Seconds per round for function_app: baseline ref, this tree with telemetry off, and on (interleaved)."""
    # Both trees are unpacked side by side, so the imports search the same kind of directory (cwd is sys.path[0]).
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"baseline": unpack(baseline_ref, Path(tmp, "baseline")),
                 "current": unpack(working_tree_ref(), Path(tmp, "current"))}
        cases = {f"function_app at {baseline_ref}": (trees["baseline"], None),
                 "function_app, telemetry off": (trees["current"], None),
                 "function_app, telemetry on": (trees["current"], TELEMETRY_ON)}
        rows: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_number in range(runs):  # interleaved, and rotated so no case always follows the same one
            for name in names[round_number % 3:] + names[:round_number % 3]:
                cwd, env = cases[name]
                rows[name].append(probe(python, FUNCTION_APP, cwd, {**AS_DEPLOYED, **(env or {})})["seconds"])
    return rows


def measure(python: str, imports: str, cwd: Path, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    return probe(python, imports, cwd, {**AS_DEPLOYED, **(extra_env or {})})


def bench_python() -> str:
    """A separate venv with the app's pins plus azure-ai-ml, so the app's own venv stays lean."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt"),
                        AZURE_AI_ML], check=True)
    return str(python)


def interleaved(python: str, probes: dict[str, tuple[str, dict[str, str] | None]], runs: int,
                cwd: Path) -> dict[str, dict[str, float]]:
    """Each probe (imports, extra environment) once per round in `cwd`, rounds interleaved, so a busy machine weighs
    on every probe alike; medians of the import time, the time until start-up work is done, RSS, and modules."""
    rounds = [{name: measure(python, imports, cwd, env) for name, (imports, env) in probes.items()}
              for _ in range(runs)]
    result = {}
    for name in probes:
        samples = [r[name] for r in rounds]
        result[name] = {"median_s": statistics.median(s["seconds"] for s in samples),
                        "min_s": min(s["seconds"] for s in samples),
                        "ready_s": statistics.median(s["ready_s"] for s in samples),
                        "maxrss_mb": statistics.median(s["maxrss_mb"] for s in samples),
                        "modules": samples[-1]["modules"],
                        "ratios": [s["seconds"] / s["sdk_s"] for s in samples if s.get("sdk_s")],
                        "extra_s": [s["seconds"] - s["sdk_s"] for s in samples if s.get("sdk_s")],
                        "ready_ratios": [s["ready_s"] / s["sdk_s"] for s in samples if s.get("sdk_s")]}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--azure-ai-ml", action="store_true",
                        help="also compare with azure-ai-ml (installs it into a separate .venv-bench)")
    parser.add_argument("--baseline-ref", help="also compare function_app with this git ref's (e.g. a commit before a change)")
    args = parser.parse_args()
    probes = {"bare SDK set (imports only)": (SDK_SET, None), "function_app + index, telemetry off": (APP, None),
              "function_app + index, telemetry on": (APP, TELEMETRY_ON), "ours (azure_clients + ml_gateway)": (OURS, None)}
    python = sys.executable
    if args.azure_ai_ml:
        python = bench_python()  # one interpreter for all, so the comparison is like for like
        probes["azure-ai-ml (MLClient + entities)"] = (AZURE_AI_ML_IMPORT, None)
    with tempfile.TemporaryDirectory() as tmp:
        rows = interleaved(python, probes, args.runs, unpack(working_tree_ref(), Path(tmp, "package")))
    print(f"{'import':42} {'median s':>9} {'min s':>7} {'RSS MB':>7} {'modules':>8}")
    for name, row in rows.items():
        print(f"{name:42} {row['median_s']:9.3f} {row['min_s']:7.3f} {row['maxrss_mb']:7.1f} {row['modules']:8d}")
    missed = cold_start_ratios(rows)
    if args.azure_ai_ml:
        ours = rows["ours (azure_clients + ml_gateway)"]["median_s"]
        theirs = rows["azure-ai-ml (MLClient + entities)"]["median_s"]
        print(f"ratio azure-ai-ml / ours: {theirs / ours:.1f}x")
    if args.baseline_ref:
        print_function_app(python, args.runs, args.baseline_ref)
    return 1 if missed else 0


def cold_start_ratios(rows: dict[str, dict[str, float]]) -> list[str]:
    """Prints each cold-start ratio (the median over the rounds of each process's total import time over its own
    SDK-set import) against its goal, with the time, module and RSS deltas; returns the missed."""
    sdk = rows["bare SDK set (imports only)"]
    missed = []
    for mode, goal in GOALS.items():
        app = rows[f"function_app + index, telemetry {mode}"]
        # In one process: its SDK-set import, then function_app and the index (a busy moment weighs on both).
        ratio = statistics.median(app["ratios"])
        verdict = "met" if ratio <= goal else "MISSED"
        print(f"cold start, telemetry {mode}: function_app + index / bare SDK set = {ratio:.2f}x the import time "
              f"(goal <= {goal}x: {verdict}; {statistics.median(app['extra_s']) * 1000:+.0f} ms, "
              f"+{app['modules'] - sdk['modules']} modules, RSS +{app['maxrss_mb'] - sdk['maxrss_mb']:.1f} MB)")
        if ratio > goal:
            missed.append(mode)
    on = rows["function_app + index, telemetry on"]
    print(f"telemetry on: Azure Monitor configured on its own thread, ready {on['ready_s']:.3f} s after the import "
          f"began ({statistics.median(on['ready_ratios']):.2f}x the bare SDK set; an invocation before then waits for it; "
          f"modules and RSS above are counted then)")
    return missed


def print_function_app(python: str, runs: int, baseline_ref: str) -> None:
    rows = function_app_rows(python, runs, baseline_ref)
    medians = {name: statistics.median(values) for name, values in rows.items()}
    print(f"\n{'import function_app':42} {'median s':>9} {'min s':>7}")
    for name, values in rows.items():
        print(f"{name:42} {medians[name]:9.3f} {min(values):7.3f}")
    baseline = medians[f"function_app at {baseline_ref}"]
    print(f"ratio telemetry off / {baseline_ref}: {medians['function_app, telemetry off'] / baseline:.2f}x (budget 1.2x)")
    print(f"ratio telemetry on / {baseline_ref}: {medians['function_app, telemetry on'] / baseline:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
