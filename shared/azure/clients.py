"""Builds the credential and every Azure client the app uses, honouring the ARM endpoint setting."""

from __future__ import annotations

import threading
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential
from azure.core.pipeline import policies
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

from shared.azure.bounded_retry import BoundedRetryPolicy
from shared.settings import Settings

SDK_MONIKER = "aml-lifecycle/1.0"
# Bounded retries: azure-core's RetryPolicy honours Retry-After on 429/503 and backs off on 5xx and timeouts;
# BoundedRetryPolicy (every ARM client) also refuses to wait for a Retry-After past its cap.
RETRY_KWARGS: dict[str, Any] = {
    "retry_total": 4,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 30,
}
TIMEOUT_KWARGS: dict[str, Any] = {"connection_timeout": 10, "read_timeout": 60}


class StaticTokenCredential:
    """A fixed bearer token, only ever built for a loopback ARM endpoint (the local simulator)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "StaticTokenCredential(<redacted>)"


def build_credential(settings: Settings) -> TokenCredential:
    """Managed identity / developer login in Azure; the static token only for the loopback simulator."""
    if settings.local_token:
        if not settings.arm_is_loopback:  # Settings.from_env refuses this too; keep the guard where it matters.
            raise ValueError("AML_LIFECYCLE_LOCAL_TOKEN is only allowed with a loopback ARM endpoint")
        return StaticTokenCredential(settings.local_token)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


class AzureClients:
    """One place that builds and caches the Azure SDK clients for the configured ARM endpoint."""

    def __init__(self, settings: Settings, credential: TokenCredential | None = None) -> None:
        self.settings = settings
        self.credential = credential if credential is not None else build_credential(settings)
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    @property
    def scope(self) -> str:
        return f"{self.settings.arm_endpoint}/.default"

    def common_kwargs(self) -> dict[str, Any]:
        """Endpoint, token scope, TLS trust, retries and timeouts shared by every ARM client."""
        return {
            "base_url": self.settings.arm_endpoint,
            "credential_scopes": [self.scope],
            "connection_verify": self.settings.arm_ca_bundle or True,
            "retry_policy": BoundedRetryPolicy(**RETRY_KWARGS),
            **TIMEOUT_KWARGS,
        }

    def _cached(self, kind: str, key: str, factory: Any) -> Any:
        with self._lock:
            client = self._cache.get((kind, key))
            if client is None:
                client = self._cache[(kind, key)] = factory()
            return client

    def resources(self, subscription_id: str):  # -> ResourceManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._cached(
            "resources",
            subscription_id.lower(),
            lambda: ResourceManagementClient(self.credential, subscription_id, polling_interval=5, **self.common_kwargs()),
        )

    def subscriptions(self):  # -> SubscriptionClient
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return self._cached("subscriptions", "", lambda: SubscriptionClient(self.credential, **self.common_kwargs()))

    def authorization(self, subscription_id: str):  # -> AuthorizationManagementClient
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._cached(
            "authorization",
            subscription_id.lower(),
            lambda: AuthorizationManagementClient(self.credential, subscription_id, **self.common_kwargs()),
        )

    def databricks(self, subscription_id: str):  # -> AzureDatabricksManagementClient
        from azure.mgmt.databricks import AzureDatabricksManagementClient

        return self._cached(
            "databricks",
            subscription_id.lower(),
            lambda: AzureDatabricksManagementClient(self.credential, subscription_id, **self.common_kwargs()),
        )

    def eventgrid(self, subscription_id: str):  # -> EventGridManagementClient
        from azure.mgmt.eventgrid import EventGridManagementClient

        return self._cached(
            "eventgrid",
            subscription_id.lower(),
            lambda: EventGridManagementClient(self.credential, subscription_id, **self.common_kwargs()),
        )

    def management_groups(self):  # -> ManagementGroupsMgmtClient
        from azure.mgmt.managementgroups import ManagementGroupsMgmtClient

        return self._cached("managementgroups", "",
                            lambda: ManagementGroupsMgmtClient(self.credential, **self.common_kwargs()))

    def arm_pipeline(self) -> ARMPipelineClient:
        """The plain ARM pipeline (auth, retries, logging) for providers without a current SDK."""
        return self._cached("pipeline", "", self._build_pipeline)

    def _build_pipeline(self) -> ARMPipelineClient:
        kwargs = {**RETRY_KWARGS, **TIMEOUT_KWARGS, "connection_verify": self.settings.arm_ca_bundle or True}
        pipeline_policies = [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(sdk_moniker=SDK_MONIKER),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            policies.RedirectPolicy(),
            BoundedRetryPolicy(**RETRY_KWARGS),
            ARMChallengeAuthenticationPolicy(self.credential, self.scope),
            policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(),
            policies.DistributedTracingPolicy(),
            ARMHttpLoggingPolicy(),
        ]
        return ARMPipelineClient(base_url=self.settings.arm_endpoint, policies=pipeline_policies, **kwargs)

    def tables(self):  # -> TableServiceClient
        from azure.data.tables import TableServiceClient

        def build():
            if self.settings.tables_is_connection_string:
                return TableServiceClient.from_connection_string(self.settings.tables, **RETRY_KWARGS)
            from azure.identity import DefaultAzureCredential

            credential = self.credential if self.settings.local_token is None else DefaultAzureCredential()
            return TableServiceClient(endpoint=self.settings.tables, credential=credential, **RETRY_KWARGS)

        return self._cached("tables", "", build)

    def alerts_publisher(self):  # -> EventGridPublisherClient | None
        if not self.settings.alerts_topic_endpoint:
            return None
        from azure.core.credentials import AzureKeyCredential
        from azure.eventgrid import EventGridPublisherClient

        def build():
            if self.settings.alerts_topic_key:
                credential: Any = AzureKeyCredential(self.settings.alerts_topic_key)
            else:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
            # azure-eventgrid 4.x drops constructor transport options for a basic topic: see alerts_send_options().
            return EventGridPublisherClient(self.settings.alerts_topic_endpoint, credential)

        return self._cached("alerts", "", build)


    def alerts_send_options(self) -> dict[str, Any]:
        """Per-send transport options for the alerts publisher: bounded retries and the extra CA bundle."""
        options: dict[str, Any] = dict(RETRY_KWARGS)
        if self.settings.arm_ca_bundle:
            options["connection_verify"] = self.settings.arm_ca_bundle
        return options


_clients_lock = threading.Lock()
_clients: AzureClients | None = None


def get_clients() -> AzureClients:
    """The process-wide clients, built from :func:`shared.settings.get_settings` on first use."""
    global _clients
    with _clients_lock:
        if _clients is None:
            from shared.settings import get_settings

            _clients = AzureClients(get_settings())
        return _clients


def reset_clients() -> None:
    """Forget the process-wide clients and settings (tests and the dev host change the environment)."""
    global _clients
    from shared.settings import get_settings

    with _clients_lock:
        _clients = None
    get_settings.cache_clear()
