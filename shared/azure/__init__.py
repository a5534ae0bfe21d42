"""Gateways to Azure and their plumbing: credential and clients, the ML gateway, ARM ids, tables and paging, alerts.

Everything here talks to Azure (or parses what Azure names); the domain packages call it, never the reverse.
"""

from typing import Any

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, ResourceId, SubscriptionId

__all__ = ["ArmIdError", "AzureClients", "ResourceGroupId", "ResourceId", "SubscriptionId", "get_clients"]


def __getattr__(name: str) -> Any:
    # The clients import the settings, which parse ARM ids from here: loaded on first use to keep that cycle open.
    if name in ("AzureClients", "get_clients"):
        from shared.azure import clients

        return getattr(clients, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
