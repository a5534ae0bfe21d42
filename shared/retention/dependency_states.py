"""A missing dependency of a soft-deleted workspace: soft-deleted (recover it first), purged, or, for Application
Insights (no soft delete), deleted; and a live Application Insights whose Log Analytics workspace is soft-deleted."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceNotFoundError

from shared.errors import describe_azure_error
from shared.retention.deleted_resources import DeletedResources

if TYPE_CHECKING:
    from shared.retention.recoverability import DependencyCheck

log = logging.getLogger("aml_lifecycle.recoverability")
COMPONENTS_API = "2020-02-02"  # Microsoft.Insights components: properties.WorkspaceResourceId
LOG_ANALYTICS_API = "2025-07-01"
NO_SOFT_DELETE = ("Application Insights has no soft delete: re-create it with the same name (on its Log Analytics "
                  "workspace; if that workspace was deleted too, recover it first), then recover the workspace.")


def refine(clients: Any, checks: list["DependencyCheck"]) -> list["DependencyCheck"]:
    """Each `deleted` check told apart (soft-deleted / purged / deleted), plus the Log Analytics check if relevant."""
    lookup = DeletedResources(clients)
    out = []
    for check in checks:
        if check.status == "deleted" and check.role == "applicationInsights":
            check = replace(check, action=NO_SOFT_DELETE)
        elif check.status == "deleted" and check.resource_id:
            state = lookup.state_of(check.resource_id)
            if state is not None:
                check = replace(check, status=state.status, action=state.action, detail=state.detail)
        out.append(check)
        if check.role == "applicationInsights" and check.status == "exists" and check.resource_id:
            workspace = _log_analytics(clients, lookup, check)
            if workspace is not None:
                out.append(workspace)
    return out


def _log_analytics(clients: Any, lookup: DeletedResources, insights: "DependencyCheck") -> "DependencyCheck | None":
    """Application Insights exists: is the Log Analytics workspace it sends to still there?"""
    from shared.azure.arm_ids import ResourceId
    from shared.retention.recoverability import DependencyCheck

    try:
        resources = clients.resources(ResourceId.parse(insights.resource_id).subscription_id).resources
        component = resources.get_by_id(insights.resource_id, api_version=COMPONENTS_API)
        workspace_id = (component.properties or {}).get("WorkspaceResourceId")
        if not workspace_id:
            return None  # a classic component: no Log Analytics workspace behind it
        if resources.check_existence_by_id(workspace_id, api_version=LOG_ANALYTICS_API):
            return None
    except ResourceNotFoundError:
        return None
    except Exception as exc:  # the answer is unknown; the report says so without guessing
        log.warning("reading %s's Log Analytics workspace failed: %s", insights.resource_id, describe_azure_error(exc))
        return None
    state = lookup.state_of(workspace_id)
    status, action, detail = ("purged", NO_SOFT_DELETE, None) if state is None else (
        state.status, state.action, state.detail)
    return DependencyCheck("logAnalyticsWorkspace", workspace_id, True, status, action, detail)
