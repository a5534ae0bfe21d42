#!/bin/sh
# Offline IaC scan: runs checkov on infra/ (Bicep + secrets) from its own venv, .venv-iac/.
#
# checkov's dependency tree (packaging<24, python-dateutil<3 through botocore) clashes with the app's
# pins, so it never enters .venv. The venv is (re)built from infra/requirements-iac.txt when missing or
# when that file changes. The scan itself never touches the network: checkov's downloads, platform
# mapping, package scan, secret validation and update check are all switched off, and where the kernel
# allows it the scan runs in an empty network namespace (unshare -rn), which proves it.
#
# Usage: infra/scan.sh [extra checkov arguments, e.g. -o json --output-file-path DIR]
# app/app-registration.bicep is skipped: it holds only Microsoft.Graph resources (no Azure resource checkov checks)
# and checkov's Bicep parser predates the `extension` keyword the Microsoft Graph Bicep extension needs.
# Findings are fixed in the templates or skipped inline with a reason (//checkov:skip=CKV_...:reason).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
venv="${AML_IAC_VENV:-$root/.venv-iac}"
requirements="$root/infra/requirements-iac.txt"
python="${PYTHON:-python3}"

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/checkov" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null || true)" != "$want" ]; then
  echo "scan.sh: building $venv from infra/requirements-iac.txt" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements" >&2
  echo "$want" > "$venv/.requirements.sha256"
fi

export BC_SKIP_MAPPING=TRUE                    # no guideline/mapping download from the platform
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false   # no package (SCA) scan, which needs the platform
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true      # no PyPI version check in the banner
export CKV_VALIDATE_SECRETS=false              # never call out to validate a suspected secret
unset BC_API_KEY PRISMA_API_URL 2>/dev/null || true

isolate=""
if [ "${AML_IAC_NO_UNSHARE:-}" != "1" ] && unshare -rn true 2>/dev/null; then
  isolate="unshare -rn"
fi

cd "$root"
# shellcheck disable=SC2086
exec $isolate "$venv/bin/checkov" \
  --directory infra \
  --framework bicep secrets \
  --skip-download \
  --skip-path infra/app/app-registration.bicep \
  --compact \
  "$@"
