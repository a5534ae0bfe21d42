"""Microsoft.Resources system-topic events and their delivery to webhook subscribers (handshake, retries)."""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from . import ids
from .shapes import now_iso

log = logging.getLogger("armsim.events")

EVENT_TYPES = {
    "write": "Microsoft.Resources.ResourceWriteSuccess",
    "delete": "Microsoft.Resources.ResourceDeleteSuccess",
    "action": "Microsoft.Resources.ResourceActionSuccess",
    "writeFailure": "Microsoft.Resources.ResourceWriteFailure",  # a create or update that failed (no error text)
}
SCHEMAS = ("EventGridSchema", "CloudEventSchemaV1_0")


@dataclass(frozen=True)
class RequestInfo:
    """What an event records about the ARM request that caused it."""
    method: str
    url: str
    client_request_id: str
    client_ip: str
    correlation_id: str
    claims: dict


def claims_for(principals: dict, token: str | None, tenant_id: str) -> dict:
    """JWT-like claims of the caller: scenario principal for this token, else the default principal."""
    principal = (principals.get("byToken") or {}).get(token or "") or principals.get("default") or {}
    claims = {
        "aud": "https://management.core.windows.net/", "iss": f"https://sts.windows.net/{tenant_id}/",
        "appid": principal.get("appid", ""), "appidacr": "0", "ver": "1.0",
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant_id,
        "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
    }
    if principal.get("name"):
        claims["name"] = principal["name"]
    if principal.get("upn"):
        claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = principal["upn"]
        claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"] = principal["upn"]
    if principal.get("objectId"):
        claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = principal["objectId"]
    return claims


def build_event(kind: str, resource_id: str, operation_name: str, info: RequestInfo, tenant_id: str) -> dict:
    """One event in the Event Grid schema, shaped like the Microsoft.Resources samples."""
    sub = ids.subscription_of(resource_id) or ""
    return {
        "subject": resource_id,
        "eventType": EVENT_TYPES[kind],
        "eventTime": now_iso(),
        "id": str(uuid.uuid4()),
        "data": {
            "authorization": {"scope": resource_id, "action": operation_name, "evidence": {"role": "Owner"}},
            "claims": info.claims,
            "correlationId": info.correlation_id,
            "httpRequest": {"clientRequestId": info.client_request_id, "clientIpAddress": info.client_ip,
                            "method": info.method, "url": info.url},
            "resourceProvider": operation_name.split("/")[0],
            "resourceUri": resource_id,
            "operationName": operation_name,
            "status": "Failed" if kind == "writeFailure" else "Succeeded",
            "subscriptionId": sub,
            "tenantId": tenant_id,
        },
        "dataVersion": "2",
        "metadataVersion": "1",
        "topic": f"/subscriptions/{sub}",
    }


def to_cloud_event(event: dict) -> dict:
    return {"id": event["id"], "source": event["topic"], "subject": event["subject"], "type": event["eventType"],
            "time": event["eventTime"], "data": event["data"], "specversion": "1.0"}


@dataclass
class Subscriber:
    id: str
    endpoint: str
    schema: str
    subscription_id: str | None
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    task: asyncio.Task | None = None

    def describe(self) -> dict:
        return {"id": self.id, "endpoint": self.endpoint, "schema": self.schema, "subscriptionId": self.subscription_id}


class HandshakeFailed(Exception):
    pass


class EventBus:
    """Fans events out to subscribers; one ordered worker per subscriber, never blocking the publisher."""

    def __init__(self, *, retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4), batch_max: int = 10,
                 timeout: float = 5.0) -> None:
        self.retry_delays = retry_delays
        self.batch_max = batch_max
        self.timeout = timeout
        self.subscribers: list[Subscriber] = []
        self.deliveries: list[dict] = []
        self.emitted: list[dict] = []
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def subscribe(self, endpoint: str, schema: str = "EventGridSchema", subscription_id: str | None = None) -> Subscriber:
        if schema not in SCHEMAS:
            raise ValueError(f"schema must be one of {', '.join(SCHEMAS)}")
        subscriber = Subscriber(str(uuid.uuid4()), endpoint, schema, subscription_id)
        await self._handshake(subscriber)
        subscriber.task = asyncio.create_task(self._worker(subscriber), name=f"eventgrid-{subscriber.id}")
        self.subscribers.append(subscriber)
        return subscriber

    async def _handshake(self, subscriber: Subscriber) -> None:
        http = await self._http()
        try:
            if subscriber.schema == "CloudEventSchemaV1_0":
                headers = {"WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120"}
                async with http.options(subscriber.endpoint, headers=headers) as resp:
                    allowed = resp.headers.get("WebHook-Allowed-Origin", "")
                    ok = resp.status == 200 and allowed in ("*", "eventgrid.azure.net")
                    self._record(subscriber, [], 1, resp.status, None, "handshake")
                    if not ok:
                        raise HandshakeFailed(f"abuse-protection handshake answered {resp.status}, "
                                              f"WebHook-Allowed-Origin={allowed!r}")
                return
            code = secrets.token_hex(16)
            event = [{"id": str(uuid.uuid4()), "topic": f"/subscriptions/{subscriber.subscription_id or 'all'}",
                      "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                      "eventTime": now_iso(), "metadataVersion": "1", "dataVersion": "1",
                      "data": {"validationCode": code, "validationUrl": None}}]
            headers = {"aeg-event-type": "SubscriptionValidation", "aeg-subscription-name": subscriber.id.upper()}
            async with http.post(subscriber.endpoint, json=event, headers=headers) as resp:
                answer: Any = await resp.json(content_type=None) if resp.status == 200 else None
                self._record(subscriber, [event[0]["id"]], 1, resp.status, None, "handshake")
                if not isinstance(answer, dict) or answer.get("validationResponse") != code:
                    raise HandshakeFailed(f"validation handshake answered {resp.status} with {answer!r}")
        except aiohttp.ClientError as exc:
            self._record(subscriber, [], 1, None, repr(exc), "handshake")
            raise HandshakeFailed(f"endpoint unreachable: {exc!r}") from exc

    def publish(self, events: list[dict]) -> None:
        self.emitted.extend(events)
        for subscriber in self.subscribers:
            for event in events:
                if subscriber.subscription_id and event["data"]["subscriptionId"].lower() != subscriber.subscription_id.lower():
                    continue
                subscriber.queue.put_nowait(event)

    async def _worker(self, subscriber: Subscriber) -> None:
        while True:
            batch = [await subscriber.queue.get()]
            if subscriber.schema == "EventGridSchema":
                while len(batch) < self.batch_max and not subscriber.queue.empty():
                    batch.append(subscriber.queue.get_nowait())
            await self._deliver(subscriber, batch)

    async def _deliver(self, subscriber: Subscriber, batch: list[dict]) -> None:
        if subscriber.schema == "EventGridSchema":
            payload: Any = batch
            headers = {"aeg-event-type": "Notification", "Content-Type": "application/json; charset=utf-8"}
        else:
            payload = to_cloud_event(batch[0])
            headers = {"Content-Type": "application/cloudevents+json; charset=utf-8"}
        headers["aeg-subscription-name"] = subscriber.id.upper()
        event_ids = [e["id"] for e in batch]
        attempts = len(self.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            headers["aeg-delivery-count"] = str(attempt - 1)
            status, error = None, None
            try:
                http = await self._http()
                async with http.post(subscriber.endpoint, json=payload, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = repr(exc)
            ok = status is not None and 200 <= status < 300
            final = ok or attempt == attempts
            outcome = "delivered" if ok else ("dropped" if final else "retrying")
            self._record(subscriber, event_ids, attempt, status, error, outcome)
            if ok or final:
                if not ok:
                    log.warning("dropping %d event(s) for %s after %d attempts", len(batch), subscriber.endpoint, attempt)
                return
            await asyncio.sleep(self.retry_delays[attempt - 1])

    def _record(self, subscriber: Subscriber, event_ids: list[str], attempt: int, status: int | None,
                error: str | None, outcome: str) -> None:
        self.deliveries.append({"subscriberId": subscriber.id, "endpoint": subscriber.endpoint, "eventIds": event_ids,
                                "attempt": attempt, "status": status, "error": error, "outcome": outcome,
                                "time": now_iso(), "monotonic": time.monotonic()})

    async def unsubscribe_all(self) -> None:
        for subscriber in self.subscribers:
            if subscriber.task:
                subscriber.task.cancel()
        for subscriber in self.subscribers:
            if subscriber.task:
                try:
                    await subscriber.task
                except (asyncio.CancelledError, Exception):
                    pass
        self.subscribers.clear()

    async def close(self) -> None:
        await self.unsubscribe_all()
        if self._session is not None:
            await self._session.close()
