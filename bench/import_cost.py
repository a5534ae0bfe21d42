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
{imports}
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "modules": len(sys.modules)}}))
"""

OURS = "from shared.azure.clients import AzureClients\nfrom shared.azure.ml_gateway import MlGateway"
# What a cold start really pays: the worker imports the script and indexes its functions.
APP = "import function_app\nfunctions = function_app.app.get_functions()"
# The bare SDK set any Durable Functions Python app imports at start (the app loads the rest lazily, on first use).
SDK_SET = "import azure.functions, azure.durable_functions, azure.core"
AZURE_AI_ML_IMPORT = "from azure.ai.ml import MLClient\nfrom azure.ai.ml.entities import Workspace"


FUNCTION_APP = "import function_app"
# A well-formed connection string to an address nothing listens on: configure_azure_monitor() runs, nothing is sent.
TELEMETRY_ON = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                "IngestionEndpoint=https://127.0.0.1:9/", "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true"}


def probe(python: str, imports: str, cwd: Path, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS_")}
    env.update(extra_env or {})
    out = subprocess.run([python, "-c", PROBE.format(imports=imports)], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def function_app_rows(python: str, runs: int, baseline_ref: str) -> dict[str, list[float]]:
    """Seconds per round for function_app: baseline ref, this tree with telemetry off, and on (interleaved)."""
    # Both trees are unpacked side by side, so the imports search the same kind of directory (cwd is sys.path[0]).
    current = subprocess.run(["git", "stash", "create"], cwd=ROOT, check=True, capture_output=True, text=True)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for name, ref in (("baseline", baseline_ref), ("current", current.stdout.strip() or "HEAD")):
            trees[name] = Path(tmp, name)
            trees[name].mkdir()
            archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(trees[name])], input=archive, check=True)
        cases = {f"function_app at {baseline_ref}": (trees["baseline"], None),
                 "function_app, telemetry off": (trees["current"], None),
                 "function_app, telemetry on": (trees["current"], TELEMETRY_ON)}
        rows: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_number in range(runs):  # interleaved, and rotated so no case always follows the same one
            for name in names[round_number % 3:] + names[:round_number % 3]:
                cwd, env = cases[name]
                rows[name].append(probe(python, FUNCTION_APP, cwd, env)["seconds"])
    return rows


def measure(python: str, imports: str, runs: int, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    samples = [probe(python, imports, ROOT, extra_env) for _ in range(runs)]
    return {
        "median_s": statistics.median(s["seconds"] for s in samples),
        "min_s": min(s["seconds"] for s in samples),
        "maxrss_mb": statistics.median(s["maxrss_mb"] for s in samples),
        "modules": samples[-1]["modules"],
    }


def bench_python() -> str:
    """A separate venv with the app's pins plus azure-ai-ml, so the app's own venv stays lean."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt"),
                        AZURE_AI_ML], check=True)
    return str(python)


def interleaved(python: str, probes: dict[str, tuple[str, dict[str, str] | None]],
                runs: int) -> dict[str, dict[str, float]]:
    """Each probe (imports, extra environment) once per round, rounds interleaved, so a busy machine weighs on every
    probe alike."""
    rounds = [{name: measure(python, imports, 1, env) for name, (imports, env) in probes.items()} for _ in range(runs)]
    result = {}
    for name in probes:
        samples = [r[name] for r in rounds]
        result[name] = {"median_s": statistics.median(s["median_s"] for s in samples),
                        "min_s": min(s["min_s"] for s in samples),
                        "maxrss_mb": statistics.median(s["maxrss_mb"] for s in samples),
                        "modules": samples[-1]["modules"]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
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
    rows = interleaved(python, probes, args.runs)
    print(f"{'import':42} {'median s':>9} {'min s':>7} {'RSS MB':>7} {'modules':>8}")
    for name, row in rows.items():
        print(f"{name:42} {row['median_s']:9.3f} {row['min_s']:7.3f} {row['maxrss_mb']:7.1f} {row['modules']:8d}")
    sdk = rows["bare SDK set (imports only)"]
    for mode in ("off", "on"):
        app = rows[f"function_app + index, telemetry {mode}"]
        print(f"cold start, telemetry {mode}: function_app / bare SDK set = {app['median_s'] / sdk['median_s']:.2f}x the "
              f"import time (+{(app['median_s'] - sdk['median_s']) * 1000:.0f} ms, +{app['modules'] - sdk['modules']} modules)")
    if args.azure_ai_ml:
        ours = rows["ours (azure_clients + ml_gateway)"]["median_s"]
        theirs = rows["azure-ai-ml (MLClient + entities)"]["median_s"]
        print(f"ratio azure-ai-ml / ours: {theirs / ours:.1f}x")
    if args.baseline_ref:
        print_function_app(python, args.runs, args.baseline_ref)


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
    main()
