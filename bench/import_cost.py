"""Cold-start import cost: `function_app` imported and indexed (what the Functions worker pays on a cold start) against
the bare SDK set it stands on; with `--azure-ai-ml`, also the ML gateway choice (ours vs azure-ai-ml's MLClient)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
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


def measure(python: str, imports: str, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        out = subprocess.run([python, "-c", PROBE.format(imports=imports)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
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


def interleaved(python: str, probes: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    """Each probe once per round, rounds interleaved, so a busy machine weighs on every probe alike."""
    rounds = [{name: measure(python, imports, 1) for name, imports in probes.items()} for _ in range(runs)]
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
    args = parser.parse_args()
    probes = {"bare SDK set (imports only)": SDK_SET, "function_app imported + indexed": APP,
              "ours (azure_clients + ml_gateway)": OURS}
    python = sys.executable
    if args.azure_ai_ml:
        python = bench_python()  # one interpreter for all, so the comparison is like for like
        probes["azure-ai-ml (MLClient + entities)"] = AZURE_AI_ML_IMPORT
    rows = interleaved(python, probes, args.runs)
    print(f"{'import':42} {'median s':>9} {'min s':>7} {'RSS MB':>7} {'modules':>8}")
    for name, row in rows.items():
        print(f"{name:42} {row['median_s']:9.3f} {row['min_s']:7.3f} {row['maxrss_mb']:7.1f} {row['modules']:8d}")
    sdk, app = rows["bare SDK set (imports only)"], rows["function_app imported + indexed"]
    print(f"cold start: function_app / bare SDK set = {app['median_s'] / sdk['median_s']:.2f}x the import time "
          f"(+{(app['median_s'] - sdk['median_s']) * 1000:.0f} ms, +{app['modules'] - sdk['modules']} modules)")
    if args.azure_ai_ml:
        ours = rows["ours (azure_clients + ml_gateway)"]["median_s"]
        theirs = rows["azure-ai-ml (MLClient + entities)"]["median_s"]
        print(f"ratio azure-ai-ml / ours: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
