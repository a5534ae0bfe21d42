"""Where the command gets its endpoint and credential: flags, then the environment; the one place that chooses.

- `AML_LIFECYCLE_ENDPOINT` / `--endpoint`: the app's base URL (`https://<app>.azurewebsites.net`, or the local
  stack's `http://127.0.0.1:<port>` printed by `make run`).
- `AML_LIFECYCLE_FUNCTION_KEY` / `--function-key`: sent as `x-functions-key` (the Functions host's key header).
- A bearer token for an app that requires sign-in: `AML_LIFECYCLE_TOKEN` / `--token` as given (for example from the
  local stack's token helper), else, when `AML_LIFECYCLE_SCOPE` / `--scope` names the app's scope
  (`api://<app id>/.default`), one acquired with azure-identity's DefaultAzureCredential (az login, a managed
  identity, workload identity federation in a pipeline).
Both headers go out when both are configured (a key for the host, a token for the app).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aml_lifecycle_client.exits import USAGE, ClientError

ENDPOINT, FUNCTION_KEY, TOKEN, SCOPE = (
    "AML_LIFECYCLE_ENDPOINT", "AML_LIFECYCLE_FUNCTION_KEY", "AML_LIFECYCLE_TOKEN", "AML_LIFECYCLE_SCOPE")


@dataclass(frozen=True)
class Connection:
    endpoint: str  # no trailing slash
    function_key: str | None = None
    token: str | None = None
    scope: str | None = None

    def headers(self) -> dict[str, str]:
        """The request headers carrying the credential (never logged, never printed)."""
        headers = {}
        if self.function_key:
            headers["x-functions-key"] = self.function_key
        token = self.token or (_acquire(self.scope) if self.scope else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in anything the command prints."""
        return tuple(s for s in (self.function_key, self.token) if s)


def connect(endpoint: str | None, function_key: str | None, token: str | None, scope: str | None) -> Connection:
    """The connection from flags (first) and the environment; ClientError(USAGE) saying what to set."""
    endpoint = (endpoint or os.environ.get(ENDPOINT) or "").strip()
    if not endpoint:
        raise ClientError(f"no endpoint: set {ENDPOINT} to the app's base URL (or pass --endpoint)", USAGE,
                          hint="`make run` prints the value for the local stack")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientError(f"{ENDPOINT} must be an http(s) URL such as https://<app>.azurewebsites.net", USAGE)
    if parts.scheme == "http" and (parts.hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        raise ClientError("refusing to send a credential over plain http to a remote host; use https", USAGE)
    key = function_key or os.environ.get(FUNCTION_KEY) or None
    token = token or os.environ.get(TOKEN) or None
    scope = scope or os.environ.get(SCOPE) or None
    if not (key or token or scope):
        raise ClientError(
            f"no credential: set {FUNCTION_KEY} (a function key), {TOKEN} (a bearer token) or {SCOPE} "
            "(the app's scope, to sign in with azure-identity)", USAGE)
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if base.endswith("/api"):
        base = base[: -len("/api")]
    return Connection(base, key, token, scope)


_TOKENS: dict[str, Any] = {}  # scope -> the last AccessToken: reused until 5 minutes before it expires
_CREDENTIAL: list[Any] = []  # one DefaultAzureCredential per process (it remembers which source worked)


def _acquire(scope: str) -> str:
    """A bearer token for `scope`, fresh enough for the request about to go out (a `--wait` of hours asks again
    when the previous token nears its expiry, so a pipeline's sign-in is used, not a token captured at the start)."""
    try:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import DefaultAzureCredential
    except ImportError:  # pragma: no cover - azure-identity is a dependency of the package
        raise ClientError("azure-identity is not installed: reinstall aml-lifecycle-client", USAGE) from None
    cached = _TOKENS.get(scope)
    if cached is not None and cached.expires_on - 300 > time.time():
        return cached.token
    try:
        if not _CREDENTIAL:
            _CREDENTIAL.append(DefaultAzureCredential(exclude_interactive_browser_credential=True))
        _TOKENS[scope] = _CREDENTIAL[0].get_token(scope)
        return _TOKENS[scope].token
    except ClientAuthenticationError:
        raise ClientError(f"could not get a token for {scope}: sign in first (`az login`), or set {TOKEN}",
                          USAGE) from None
