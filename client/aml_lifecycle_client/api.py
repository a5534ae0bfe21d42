"""HTTP calls to the app: JSON in and out, the app's error shape turned into a message that says what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from aml_lifecycle_client.credentials import Connection
from aml_lifecycle_client.exits import FAILED, UNREACHABLE, USAGE, ClientError

TIMEOUT_SECONDS = 120  # the app answers within 230 s (the Functions HTTP limit); validate is bounded at 45 s


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    def __init__(self, connection: Connection, session: requests.Session | None = None) -> None:
        self.connection = connection
        self.session = session or requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.connection.endpoint}{path}"

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             accept: tuple[int, ...] = (200,)) -> Answer:
        """One request; an answer outside `accept` raises ClientError with the app's own message and a next step."""
        url = self.url(path)
        if not url.startswith(self.connection.endpoint + "/"):  # a status URL elsewhere never gets our credential
            raise ClientError(f"the app pointed at {url}, outside {self.connection.endpoint}; not following it",
                              UNREACHABLE)
        try:
            response = self.session.request(
                method, url, json=body, params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"Accept": "application/json", **self.connection.headers()}, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise ClientError(f"could not reach {self.connection.endpoint} ({type(exc).__name__})", UNREACHABLE,
                              hint="check AML_LIFECYCLE_ENDPOINT and that the app is running "
                                   "(`aml-lifecycle health`)") from None
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        answer = Answer(response.status_code, data, dict(response.headers))
        if answer.status in accept:
            return answer
        raise _error(answer, method, path)


def _error(answer: Answer, method: str, path: str) -> ClientError:
    error = (answer.body or {}).get("error") if isinstance(answer.body, dict) else None
    said = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else f"HTTP {answer.status}"
    target = error.get("target") if isinstance(error, dict) else None
    if answer.status == 401:
        return ClientError(f"the app refused the credential ({said})", USAGE,
                           hint="check AML_LIFECYCLE_FUNCTION_KEY / AML_LIFECYCLE_TOKEN (expired token?)")
    if answer.status == 403:
        return ClientError(f"not allowed: {said}", USAGE,
                           hint="ask the platform team for the role or allow-list entry named above")
    if answer.status == 404 and error is None:
        return ClientError(f"{method} {path}: the app has no such route (HTTP 404)", UNREACHABLE,
                           hint="is AML_LIFECYCLE_ENDPOINT the app's base URL, and the app up to date?")
    if answer.status in (400, 413):
        field = f" (field {target})" if target else ""
        return ClientError(f"the app refused the request{field}: {said}", USAGE)
    if answer.status >= 500 or error is None:
        return ClientError(f"the app failed: {said}", UNREACHABLE,
                           hint="retry in a minute; if it persists, `aml-lifecycle health` says which part is down")
    return ClientError(said, FAILED)


def segment(value: str) -> str:
    return quote(value, safe="")
