"""The quiesce snapshot: each compute, online endpoint, deployment and traffic split as a re-appliable ARM
definition (read-only fields and secrets dropped), plus the active jobs to cancel; one JSON list of items."""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from shared.azure.ml_workload import WorkloadGateway

# Read-only fields (marked readOnly in the 2025-09-01 spec: machineLearningServices.json `Compute`,
# `ComputeInstanceProperties`, `AmlComputeProperties`; mfe.json `OnlineEndpointProperties`,
# `OnlineDeploymentProperties`) that a PUT must not carry.
_TOP_READ_ONLY = ("id", "name", "type", "systemData", "etag")
_COMPUTE_READ_ONLY = ("provisioningState", "createdOn", "modifiedOn", "provisioningErrors", "isAttachedCompute")
_INNER_READ_ONLY = (
    "state", "applications", "connectivityEndpoints", "errors", "lastOperation", "osImageMetadata", "createdBy",
    "dataDisks", "dataMounts", "versions", "allocationState", "allocationStateTransitionTime", "currentNodeCount",
    "targetNodeCount", "nodeStateCounts",
)
_ENDPOINT_READ_ONLY = ("provisioningState", "scoringUri", "swaggerUri")
# Names of fields that hold secrets anywhere in a definition: never stored, never re-sent (keys are regenerated).
# Environment variable names count too (API_KEY, DB_PASSWORD, HF_TOKEN): they are dict keys like any field.
_SECRET = re.compile(
    r"(password|passwd|secret|primarykey|secondarykey|^keys?$|[_-]key$|apikey|sastoken|"
    r"connectionstring|accountkey|privatekey|certificate$|token$|credential$)",
    re.IGNORECASE,
)
# computeType values that attach an existing resource rather than create one.
ATTACHED_TYPES = frozenset({"aks", "kubernetes", "virtualmachine", "hdinsight", "datafactory", "databricks",
                            "datalakeanalytics", "synapsespark"})
MAX_COMPUTE_NAME = 24  # compute names: 3-24 letters, digits and hyphens, starting with a letter


def take_workload(gw: WorkloadGateway, workspace_id: str, *, cancel_jobs: bool) -> list[dict[str, Any]]:
    """Items `{"kind", "name", "state": "present", ...}`: computes, endpoints, their deployments and traffic split,
    and (when `cancel_jobs`) the active jobs. Each definition carries no secret (`droppedSecrets` names the paths)."""
    items: list[dict[str, Any]] = []
    for body in gw.computes(workspace_id):
        props = body.get("properties") or {}
        ctype = str(props.get("computeType") or "Unknown")
        definition, dropped = clean_definition(body, "compute")
        items.append({"kind": "compute", "name": body["name"], "computeType": ctype,
                      "attached": ctype.lower() in ATTACHED_TYPES, "resourceId": props.get("resourceId"),
                      "definition": definition, "droppedSecrets": dropped, "state": "present"})
    for body in gw.online_endpoints(workspace_id):
        definition, dropped = clean_definition(body, "endpoint")
        traffic = dict((definition.get("properties") or {}).pop("traffic", None) or {})
        mirror = (definition.get("properties") or {}).pop("mirrorTraffic", None)
        items.append({"kind": "endpoint", "name": body["name"], "definition": definition, "droppedSecrets": dropped,
                      "state": "present"})
        for deployment in gw.deployments(body["id"]):
            spec, hidden = clean_definition(deployment, "deployment")
            items.append({"kind": "deployment", "endpoint": body["name"], "name": deployment["name"],
                          "definition": spec, "droppedSecrets": hidden, "state": "present"})
        items.append({"kind": "traffic", "endpoint": body["name"], "name": body["name"], "traffic": traffic,
                      "mirrorTraffic": mirror or {}, "state": "present"})
    if cancel_jobs:
        for job in gw.active_jobs(workspace_id):
            items.append({"kind": "job", "name": job["name"], "jobType": (job.get("properties") or {}).get("jobType"),
                          "state": "present"})
    return items


def clean_definition(body: dict[str, Any], kind: str) -> tuple[dict[str, Any], list[str]]:
    """A PUT-able copy of an ARM body: read-only fields and identity ids dropped, secrets removed (their paths
    returned, so a person knows what to supply by hand)."""
    out = {k: copy.deepcopy(v) for k, v in body.items() if k not in _TOP_READ_ONLY}
    identity = out.get("identity")
    if isinstance(identity, dict):
        identity.pop("principalId", None)
        identity.pop("tenantId", None)
        if isinstance(identity.get("userAssignedIdentities"), dict):
            identity["userAssignedIdentities"] = {k: {} for k in identity["userAssignedIdentities"]}
    props = out.get("properties") or {}
    if kind == "compute":
        for name in _COMPUTE_READ_ONLY:
            props.pop(name, None)
        inner = props.get("properties")
        if isinstance(inner, dict):
            for name in _INNER_READ_ONLY:
                inner.pop(name, None)
            for schedule in ((inner.get("schedules") or {}).get("computeStartStop") or []):
                if isinstance(schedule, dict):
                    schedule.pop("provisioningStatus", None)
                    schedule.pop("id", None)
    else:
        for name in _ENDPOINT_READ_ONLY:
            props.pop(name, None)
    dropped: list[str] = []
    _drop_secrets(out, "", dropped)
    return out, dropped


def _drop_secrets(value: Any, path: str, dropped: list[str]) -> None:
    if isinstance(value, dict):
        for key in list(value):
            where = f"{path}.{key}" if path else key
            if _SECRET.search(key) and value[key] not in (None, "", {}, []):
                value.pop(key)
                dropped.append(where)
            else:
                _drop_secrets(value[key], where, dropped)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _drop_secrets(item, f"{path}[{index}]", dropped)


def new_instance_name(name: str, move_id: str) -> str:
    """The compute instance's name after the move: its old name cannot be used again (known issue
    `workspace-move-compute-instance-same-name`). Derived from the move, so a replay picks the same one."""
    suffix = hashlib.sha256(f"{move_id}|{name.lower()}".encode()).hexdigest()[:5]
    base = name[: MAX_COMPUTE_NAME - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}"
