"""Posting an alert's message to the incoming webhook (Teams Workflows or Slack), with bounded retries.

Delivery: azure-core's pipeline (RetryPolicy: 408, 429, 500, 502, 503, 504 and connection errors retried, Retry-After
honoured, at most 3 attempts within 30 s). A failure after that raises NotifyError, so the Event Grid trigger fails
and Event Grid redelivers on its own schedule, then dead-letters the alert to storage: the alert is never dropped
(docs/alerts.md). The webhook URL is a secret (it carries the signature or the Slack token): it is never logged
or put in an error; only its host is.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.notify.cards import payload
from shared.notify.message import message_for
from shared.settings import SettingsError

WEBHOOK_SETTING = "AML_LIFECYCLE_NOTIFY_WEBHOOK_URL"
FORMAT_SETTING = "AML_LIFECYCLE_NOTIFY_FORMAT"
PUBLIC_URL_SETTING = "AML_LIFECYCLE_PUBLIC_URL"
RUNBOOK_SETTING = "AML_LIFECYCLE_RUNBOOK_URL"
ATTEMPTS, TOTAL_SECONDS = 3, 30
log = logging.getLogger("aml_lifecycle.notify")


class NotifyError(RuntimeError):
    """The webhook did not take the message after the bounded retries; the message names the host, never the URL."""


@dataclass(frozen=True)
class NotifySettings:
    webhook_url: str = field(default="", repr=False)
    kind: str = "teams"
    api_url: str = ""
    runbook_url: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.webhook_url).hostname or "?"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "NotifySettings":
        """Empty webhook → nothing to deliver. https required (http only to a loopback address, for local tests);
        format `auto` (default: slack for hooks.slack.com, else teams), `teams` or `slack`."""
        environ = os.environ if environ is None else environ
        url = (environ.get(WEBHOOK_SETTING) or "").strip()
        kind = (environ.get(FORMAT_SETTING) or "auto").strip().lower()
        if kind not in ("auto", "teams", "slack"):
            raise SettingsError(FORMAT_SETTING, f"must be auto, teams or slack, got {kind!r}")
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
                raise SettingsError(WEBHOOK_SETTING, "must be an https URL (the incoming webhook's address)")
        if kind == "auto":
            kind = "slack" if (urlsplit(url).hostname or "").endswith("hooks.slack.com") else "teams"
        host = (environ.get("WEBSITE_HOSTNAME") or "").strip()
        api = (environ.get(PUBLIC_URL_SETTING) or "").strip() or (f"https://{host}" if host else "")
        return cls(url, kind, api, (environ.get(RUNBOOK_SETTING) or "").strip())


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def render(settings: NotifySettings, event_type: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    """The exact JSON the webhook receives for one alert."""
    return payload(message_for(event_type, subject, data, api_url=settings.api_url,
                               runbook_url=settings.runbook_url), settings.kind)


def deliver(settings: NotifySettings, event_type: str, subject: str, data: dict[str, Any], event_id: str) -> bool:
    """Post one alert; True when posted, False when no webhook is configured; NotifyError when it failed."""
    if not settings.webhook_url:
        log.info("alert %s (%s) not posted: %s is empty", event_id, event_type, WEBHOOK_SETTING)
        return False
    from azure.core import PipelineClient
    from azure.core.exceptions import AzureError
    from azure.core.pipeline.policies import HeadersPolicy, RetryPolicy
    from azure.core.rest import HttpRequest

    body = json.dumps(render(settings, event_type, subject, data)).encode()
    retry = RetryPolicy(retry_total=ATTEMPTS - 1, retry_backoff_factor=1.0, retry_backoff_max=10, timeout=TOTAL_SECONDS)
    client = PipelineClient(base_url="", policies=[HeadersPolicy({"Content-Type": "application/json"}), retry])
    try:
        with client:
            response = client.send_request(HttpRequest("POST", settings.webhook_url, content=body),
                                           connection_timeout=5, read_timeout=15)
    except AzureError as exc:
        raise NotifyError(f"the webhook at {settings.host} did not answer after {ATTEMPTS} attempts "
                          f"({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise NotifyError(f"the webhook at {settings.host} answered {response.status_code} "
                          f"(after up to {ATTEMPTS} attempts)")
    log.info("alert %s (%s) posted to the webhook at %s", event_id, event_type, settings.host)
    return True
