"""Datastores after a move, fixed the way the move page says: empty location fields are filled in place ("Update
authentication"); fields still naming the source mean: unregister the datastore and register it again (same name,
type and settings) at the new location. Secrets come from listSecrets and stay in memory."""

from __future__ import annotations

import copy
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.azure.arm_ids import ResourceGroupId
from shared.azure.ml_gateway import Datastore, MlGateway
from shared.errors import describe_azure_error
from shared.moves.plan import MovePlan
from shared.moves.premove_inventory import DatastoreInfo, Inventory

# Settings a person needs to register a datastore again by hand (never a secret).
_REDO_FIELDS = ("datastoreType", "accountName", "containerName", "fileShareName", "filesystem", "storeName",
                "endpoint", "protocol", "serviceDataAccessAuthIdentity", "description")


def check_datastores(ml: MlGateway, plan: MovePlan, inventory: Inventory) -> list[dict[str, Any]]:
    """One entry per non-default datastore: `{"name", "id", "accountId", "before", "status", "message", "redo"?}`;
    status ok | unchanged | needs-fix | fixed | recreated | fix-failed | recreate-failed | missing."""
    results = []
    for info in inventory.datastores:
        entry: dict[str, Any] = {
            "name": info.name,
            "id": plan.moved_id(info.id),
            "accountId": info.account_id,
            "before": {"subscriptionId": info.subscription_id, "resourceGroup": info.resource_group},
        }
        try:
            current = ml.get_datastore(entry["id"])
        except ResourceNotFoundError:  # e.g. a crash between unregistering and registering it again
            where = account_location(plan, info)
            missing = {**entry, "status": "missing", "message": "the datastore is not in the moved workspace"}
            if where is not None:
                missing["redo"] = {"name": info.name, "datastoreType": info.datastore_type,
                                   "accountName": info.account_name, "subscriptionId": where.subscription_id,
                                   "resourceGroup": where.name, "credentialsType": info.credentials_type}
            results.append(missing)
            continue
        results.append({**entry, **_fix_one(ml, plan, info, current)})
    return results


def account_location(plan: MovePlan, info: DatastoreInfo) -> ResourceGroupId | None:
    """Where the datastore's storage account is now: the target if it moved along, else where it was."""
    account = info.account_id
    if account is None:
        return None
    if plan.moves(account):
        return plan.target
    return ResourceGroupId.parse(f"/subscriptions/{info.subscription_id}/resourceGroups/{info.resource_group}")


def _fix_one(ml: MlGateway, plan: MovePlan, info: DatastoreInfo, current: Datastore) -> dict[str, Any]:
    where = account_location(plan, info)
    if where is None or current.names_location(where):
        named = f"{current.subscription_id}/{current.resource_group}" if current.resource_group else "no location"
        return {"status": "ok" if where is None or plan.moves(info.account_id or "") else "unchanged",
                "message": f"names {named}, where its storage account is; nothing to change"}
    empty = not (current.subscription_id or "").strip() and not (current.resource_group or "").strip()
    if not plan.request.fix_datastores:
        how = "set them" if empty else "unregister it and register it again with the same name and settings"
        return {"status": "needs-fix", "message": f"its subscription / resource group are "
                f"{'empty' if empty else 'still the source'}; {how} to {where.id} (fixDatastores was false)",
                "redo": redo(current, where)}
    if empty:
        return _update_in_place(ml, current, where)
    return _recreate(ml, current, where)


def _update_in_place(ml: MlGateway, current: Datastore, where: ResourceGroupId) -> dict[str, Any]:
    try:
        _put(ml, current, where)
        after = ml.get_datastore(current.id)
    except HttpResponseError as exc:
        return {"status": "fix-failed", "message": f"filling its subscription / resource group failed: "
                f"{describe_azure_error(exc)}", "redo": redo(current, where)}
    if after.names_location(where):
        return {"status": "fixed", "message": f"its empty subscription / resource group now name {where.id}"}
    return {"status": "fix-failed", "message": "the update was accepted but the datastore still does not name "
            f"{where.id}", "redo": redo(current, where)}


def _recreate(ml: MlGateway, current: Datastore, where: ResourceGroupId) -> dict[str, Any]:
    """Unregister, then register again at the new location; a failed registration puts the old one back."""
    try:
        secrets = _secrets(ml, current)
        ml.delete_datastore(current.id)
    except HttpResponseError as exc:
        return {"status": "recreate-failed", "message": f"unregistering it failed, it is unchanged: "
                f"{describe_azure_error(exc)}", "redo": redo(current, where)}
    try:
        _put(ml, current, where, secrets)
        after = ml.get_datastore(current.id)
        if after.names_location(where):
            return {"status": "recreated", "message": f"unregistered and registered again naming {where.id}"}
        why = "the registration was accepted but does not name the new location"
    except HttpResponseError as exc:
        why = describe_azure_error(exc)
    try:
        _put(ml, current, None, secrets)
        kept = "the old registration was put back"
    except HttpResponseError as exc:
        kept = f"putting the old registration back failed too ({describe_azure_error(exc)}): register it by hand"
    finally:
        secrets = None
    return {"status": "recreate-failed", "message": f"registering it again failed: {why}; {kept}",
            "redo": redo(current, where)}


def _secrets(ml: MlGateway, datastore: Datastore) -> dict[str, Any] | None:
    credentials = (datastore.raw.get("properties") or {}).get("credentials") or {}
    return ml.list_datastore_secrets(datastore.id) if credentials.get("secrets") is not None else None


def _put(ml: MlGateway, datastore: Datastore, where: ResourceGroupId | None, secrets: Any = "read") -> None:
    """PUT the datastore's own properties, naming `where` (None: as they were); secrets only in this call."""
    properties = copy.deepcopy(datastore.raw.get("properties") or {})
    if where is not None:
        properties["subscriptionId"] = where.subscription_id
        properties["resourceGroup"] = where.name
    credentials = properties.get("credentials") or {}
    try:
        if credentials.get("secrets") is not None:
            credentials["secrets"] = _secrets(ml, datastore) if secrets == "read" else secrets
        ml.put_datastore(datastore.id, {"properties": properties})
    finally:
        credentials.pop("secrets", None)


def redo(datastore: Datastore, where: ResourceGroupId) -> dict[str, Any]:
    """Everything needed to register the datastore again by hand, secret-free (the credentials' type only)."""
    props = datastore.raw.get("properties") or {}
    found = {k: props[k] for k in _REDO_FIELDS if props.get(k) not in (None, "")}
    return {"name": datastore.name, **found, "subscriptionId": where.subscription_id, "resourceGroup": where.name,
            "credentialsType": datastore.credentials_type}
