"""Cold-start import cost of the ML gateway choice: our thin ARM-pipeline gateway vs azure-ai-ml's MLClient."""

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
AZURE_AI_ML_IMPORT = "from azure.ai.ml import MLClient\nfrom azure.ai.ml.entities import Workspace"
# What every cold start pays anyway (the Functions library + Durable SDK + azure-core), for context.
BASELINE = "import azure.functions, azure.durable_functions, azure.core"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = bench_python()  # one interpreter for all three, so the comparison is like for like
    rows = {
        "baseline (functions + durable + core)": measure(python, BASELINE, args.runs),
        "ours (azure_clients + ml_gateway)": measure(python, OURS, args.runs),
        "azure-ai-ml (MLClient + entities)": measure(python, AZURE_AI_ML_IMPORT, args.runs),
    }
    print(f"{'import':42} {'median s':>9} {'min s':>7} {'RSS MB':>7} {'modules':>8}")
    for name, row in rows.items():
        print(f"{name:42} {row['median_s']:9.3f} {row['min_s']:7.3f} {row['maxrss_mb']:7.1f} {row['modules']:8d}")
    ours = rows["ours (azure_clients + ml_gateway)"]["median_s"]
    theirs = rows["azure-ai-ml (MLClient + entities)"]["median_s"]
    print(f"ratio azure-ai-ml / ours: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
