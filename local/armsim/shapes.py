"""Response bodies shaped like the public REST spec examples, built from scenario or request input."""
from __future__ import annotations

import copy
import uuid
from datetime import datetime, timezone
from typing import Any

from . import ids

ML = "Microsoft.MachineLearningServices"
WS_TYPE = f"{ML}/workspaces"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def system_data(who: str = "platform.engineer@contoso.example", at: str | None = None) -> dict:
    at = at or now_iso()
    return {"createdAt": at, "createdBy": who, "createdByType": "User",
            "lastModifiedAt": at, "lastModifiedBy": who, "lastModifiedByType": "User"}


def generic(spec: dict) -> dict:
    """A top-level resource of any type (storage account, key vault, private endpoint...)."""
    rid = "/" + spec["id"].strip("/")
    body: dict[str, Any] = {"id": rid, "name": ids.name_of(rid), "type": ids.type_of(rid)}
    for field in ("location", "kind", "sku", "identity", "tags", "managedBy", "plan", "zones"):
        if spec.get(field) is not None:
            body[field] = copy.deepcopy(spec[field])
    body["properties"] = copy.deepcopy(spec.get("properties") or {})
    body["properties"].setdefault("provisioningState", "Succeeded")
    return body


IDENTITY_TYPES = {"none": "None", "systemassigned": "SystemAssigned", "userassigned": "UserAssigned",
                  "systemassigned,userassigned": "SystemAssigned,UserAssigned"}


def managed_identity(requested: dict | None, rid: str, tenant_id: str) -> dict:
    """ARM's ManagedServiceIdentity (common-types v5) as a workspace returns it: `type` None / SystemAssigned /
    UserAssigned / "SystemAssigned,UserAssigned"; a system identity gets `principalId` + `tenantId`, each user-assigned
    one `principalId` + `clientId`. No `identity` asked for: SystemAssigned (what `az ml workspace create` sends).
    Raises ValueError naming what is wrong with the request's `identity`."""
    requested = requested or {"type": "SystemAssigned"}
    kind = IDENTITY_TYPES.get(str(requested.get("type") or "").replace(" ", "").lower())
    if kind is None:
        raise ValueError(f"identity.type '{requested.get('type')}' is not one of {', '.join(IDENTITY_TYPES.values())}")
    out: dict[str, Any] = {"type": kind}
    if "SystemAssigned" in kind:
        out.update(principalId=str(uuid.uuid5(uuid.NAMESPACE_OID, ids.key(rid))), tenantId=tenant_id)
    if "UserAssigned" in kind:
        assigned = requested.get("userAssignedIdentities")
        if not isinstance(assigned, dict) or not assigned:
            raise ValueError(f"identity.type {kind} needs identity.userAssignedIdentities")
        out["userAssignedIdentities"] = {
            uid: {"principalId": str(uuid.uuid5(uuid.NAMESPACE_OID, ids.key(uid))),
                  "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, ids.key(uid)))} for uid in assigned}
    return out


def user_assigned_only(body: dict) -> bool:
    """concept-soft-delete: "Soft-deletion and recovery is not supported when a workspace uses only user-assigned
    managed identity." """
    return (body.get("identity") or {}).get("type") == "UserAssigned"


def workspace(spec: dict, tenant_id: str) -> dict:
    rid = "/" + spec["id"].strip("/")
    name = ids.name_of(rid)
    props: dict[str, Any] = {
        "friendlyName": spec.get("friendlyName", name),
        "description": spec.get("description", ""),
        "storageAccount": spec.get("storageAccount"),
        "keyVault": spec.get("keyVault"),
        "applicationInsights": spec.get("applicationInsights"),
        "containerRegistry": spec.get("containerRegistry"),
        "discoveryUrl": f"https://{spec.get('location', 'westeurope')}.api.azureml.ms/discovery",
        "hbiWorkspace": False,
        "publicNetworkAccess": spec.get("publicNetworkAccess", "Enabled"),
        "provisioningState": "Succeeded",
        "workspaceId": spec.get("workspaceId") or str(uuid.uuid5(uuid.NAMESPACE_URL, ids.key(rid))),
        "mlFlowTrackingUri": f"azureml://{spec.get('location', 'westeurope')}.api.azureml.ms/mlflow/v1.0{rid}",
        "enableSoftwareBillOfMaterials": False,
    }
    encryption = spec.get("encryption")
    if encryption:
        props["encryption"] = {
            "status": "Enabled",
            "identity": encryption.get("identity"),
            "keyVaultProperties": {
                "keyVaultArmId": encryption["keyVaultArmId"],
                "keyIdentifier": encryption["keyIdentifier"],
                "identityClientId": encryption.get("identityClientId", ""),
            },
        }
        props["serviceProvisionedResourceGroup"] = f"azureml-rg-{name}_{uuid.uuid5(uuid.NAMESPACE_URL, rid).hex[:12]}"
    for extra, value in (spec.get("properties") or {}).items():
        props.setdefault(extra, copy.deepcopy(value))
    return {
        "id": rid, "name": name, "type": WS_TYPE, "location": spec.get("location", "westeurope"),
        "identity": managed_identity(spec.get("identity"), rid, tenant_id),
        "sku": {"name": "Basic", "tier": "Basic"},
        "kind": spec.get("kind", "Default"),
        "tags": copy.deepcopy(spec.get("tags") or {}),
        "properties": props,
        "systemData": system_data(at=spec.get("createdAt")),
    }


def compute(ws_id: str, location: str, spec: dict) -> dict:
    ctype = spec.get("computeType", "AmlCompute")
    inner: dict[str, Any] = {"vmSize": spec.get("vmSize", "STANDARD_DS3_V2")}
    if ctype == "ComputeInstance":
        inner.update({"state": spec.get("state", "Running"), "applications": [], "connectivityEndpoints": {
            "publicIpAddress": "20.0.0.4", "privateIpAddress": "10.0.0.4"}})
    elif ctype == "AmlCompute":
        inner.update({"vmPriority": "Dedicated", "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0,
                      "nodeIdleTimeBeforeScaleDown": "PT5M"}, "allocationState": "Steady", "currentNodeCount": 0})
    inner.update(copy.deepcopy(spec.get("properties") or {}))
    return {
        "id": f"{ws_id}/computes/{spec['name']}", "name": spec["name"], "type": f"{WS_TYPE}/computes",
        "location": spec.get("location", location),
        "properties": {"computeType": ctype, "computeLocation": location,
                       "provisioningState": spec.get("provisioningState", "Succeeded"),
                       "createdOn": spec.get("createdOn", now_iso()), "modifiedOn": now_iso(),
                       "isAttachedCompute": False, "disableLocalAuth": True, "properties": inner},
        "systemData": system_data(),
    }


def online_endpoint(ws_id: str, location: str, spec: dict) -> dict:
    name = spec["name"]
    return {
        "id": f"{ws_id}/onlineEndpoints/{name}", "name": name, "type": f"{WS_TYPE}/onlineEndpoints",
        "location": location, "kind": "Managed", "identity": {"type": "SystemAssigned"}, "tags": {},
        "properties": {"authMode": spec.get("authMode", "Key"), "description": "",
                       "provisioningState": spec.get("provisioningState", "Succeeded"),
                       "scoringUri": f"https://{name}.{location}.inference.ml.azure.com/score",
                       "swaggerUri": f"https://{name}.{location}.inference.ml.azure.com/swagger.json",
                       "traffic": copy.deepcopy(spec.get("traffic") or {}), "publicNetworkAccess": "Enabled"},
        "systemData": system_data(),
    }


def online_deployment(endpoint_id: str, location: str, spec: dict) -> dict:
    name = spec["name"]
    return {
        "id": f"{endpoint_id}/deployments/{name}", "name": name, "type": f"{WS_TYPE}/onlineEndpoints/deployments",
        "location": location, "kind": "Managed", "sku": {"name": "Default", "capacity": spec.get("capacity", 1)},
        "properties": {"endpointComputeType": "Managed", "instanceType": spec.get("instanceType", "Standard_DS3_v2"),
                       "model": spec.get("model", "azureml:my-model:1"), "provisioningState": "Succeeded",
                       "scaleSettings": {"scaleType": "Default"}},
        "systemData": system_data(),
    }


def batch_endpoint(ws_id: str, location: str, spec: dict) -> dict:
    name = spec["name"]
    return {
        "id": f"{ws_id}/batchEndpoints/{name}", "name": name, "type": f"{WS_TYPE}/batchEndpoints",
        "location": location, "kind": "", "identity": {"type": "SystemAssigned"}, "tags": {},
        "properties": {"authMode": "AADToken", "description": "",
                       "defaults": {"deploymentName": spec.get("defaultDeployment")},
                       "provisioningState": spec.get("provisioningState", "Succeeded"),
                       "scoringUri": f"https://{name}.{location}.inference.ml.azure.com/jobs",
                       "swaggerUri": f"https://{name}.{location}.inference.ml.azure.com/swagger.json"},
        "systemData": system_data(),
    }


TERMINAL_JOB_STATES = {"Completed", "Failed", "Canceled", "NotResponding", "Paused"}


def job(ws_id: str, spec: dict) -> dict:
    props = {"jobType": spec.get("jobType", "Command"), "status": spec.get("status", "Completed"),
             "displayName": spec.get("displayName", spec["name"]), "experimentName": spec.get("experimentName", "Default"),
             "computeId": spec.get("computeId"), "isArchived": bool(spec.get("isArchived", False)),
             "description": spec.get("description", ""), "tags": {}, "properties": {}, "services": {}}
    for extra, value in (spec.get("properties") or {}).items():
        props.setdefault(extra, copy.deepcopy(value))
    return {"id": f"{ws_id}/jobs/{spec['name']}", "name": spec["name"], "type": f"{WS_TYPE}/jobs",
            "properties": props, "systemData": system_data(at=spec.get("createdAt"))}


def datastore(ws_id: str, spec: dict) -> tuple[dict, dict | None]:
    """(public body, secrets kept server side)."""
    props = copy.deepcopy(spec.get("properties") or {})
    for field in ("datastoreType", "accountName", "containerName", "endpoint", "protocol", "isDefault",
                  "subscriptionId", "resourceGroup", "description", "fileShareName", "filesystem", "storeName"):
        if field in spec:
            props[field] = copy.deepcopy(spec[field])
    props.setdefault("datastoreType", "AzureBlob")
    props.setdefault("isDefault", False)
    props.setdefault("tags", {})
    props.setdefault("properties", None)
    if props["datastoreType"] in ("AzureBlob", "AzureFile", "AzureDataLakeGen2"):
        props.setdefault("endpoint", "core.windows.net")
        props.setdefault("protocol", "https")
    props.setdefault("serviceDataAccessAuthIdentity", "None")
    credentials = copy.deepcopy(spec.get("credentials") or props.get("credentials") or {"credentialsType": "None"})
    secrets = credentials.pop("secrets", None)
    if secrets is not None:
        credentials["secrets"] = {"secretsType": secrets.get("secretsType", credentials.get("credentialsType"))}
    props["credentials"] = credentials
    body = {"id": f"{ws_id}/datastores/{spec['name']}", "name": spec["name"], "type": f"{WS_TYPE}/datastores",
            "properties": props, "systemData": system_data()}
    return body, secrets


def private_endpoint_connection(ws_id: str, spec: dict) -> dict:
    status = spec.get("status", "Approved")
    return {
        "id": f"{ws_id}/privateEndpointConnections/{spec['name']}", "name": spec["name"],
        "type": f"{WS_TYPE}/privateEndpointConnections",
        "location": spec.get("location"),
        "properties": {
            "provisioningState": "Succeeded",
            "privateEndpoint": {"id": spec["privateEndpointId"]},
            "privateLinkServiceConnectionState": {
                "status": status,
                "description": spec.get("description", "Auto-Approved" if status == "Approved" else ""),
                "actionsRequired": "None",
            },
        },
    }


def role_assignment(scope: str, spec: dict) -> dict:
    scope = "/" + scope.strip("/")
    name = spec.get("name") or str(uuid.uuid4())
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": spec["roleDefinitionId"], "principalId": spec["principalId"],
                       "principalType": spec.get("principalType", "User"), "scope": scope,
                       "condition": None, "conditionVersion": None,
                       "createdOn": spec.get("createdOn", now_iso()), "updatedOn": spec.get("createdOn", now_iso()),
                       "createdBy": spec.get("createdBy"), "updatedBy": spec.get("createdBy"),
                       "delegatedManagedIdentityResourceId": None, "description": spec.get("description")},
    }
