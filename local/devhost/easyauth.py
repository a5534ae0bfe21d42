"""App Service Authentication ("Easy Auth") as the platform does it in front of the app, for AML_LIFECYCLE_AUTH=entra.

What it emulates (learn.microsoft.com/azure/app-service/configure-authentication-user-identities, and the
deployment's authsettingsV2 in infra/app/auth.bicep: Microsoft provider, `unauthenticatedClientAction`
AllowAnonymous so the Event Grid webhook and /admin keep their keys):
- every client-sent `X-MS-CLIENT-PRINCIPAL*` and `X-MS-TOKEN-*` header is removed ("external requests aren't allowed
  to set these headers, so they're present only if App Service sets them");
- a bearer token is validated (signature, audience, issuer, expiry); an invalid one is answered 401 here, before the
  app; a valid one becomes `X-MS-CLIENT-PRINCIPAL` (Base64 JSON: auth_typ, claims [{typ, val}], name_typ, role_typ),
  `X-MS-CLIENT-PRINCIPAL-ID` (oid), `-NAME` and `-IDP` (`aad`);
- no token: the request goes on without a principal (the app answers 401).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt

from local.issuer import LocalIssuer

STRIPPED_PREFIXES = ("x-ms-client-principal", "x-ms-token-")
NAME_TYPE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
# App Service's default claim mapping renames these JWT claims (the rest keep their JWT names, `roles` included).
_MAPPED = {"oid": "http://schemas.microsoft.com/identity/claims/objectidentifier",
           "tid": "http://schemas.microsoft.com/identity/claims/tenantid",
           "upn": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"}


class EasyAuth:
    """Turns a request's headers into the headers the app sees, or a 401 for a bad token."""

    def __init__(self, issuer: LocalIssuer) -> None:
        self.issuer = issuer

    def filter(self, headers: dict[str, str]) -> tuple[dict[str, str] | None, str]:
        """(headers for the app, "") or (None, why the token was refused). `headers` has lower-case names."""
        kept = {k: v for k, v in headers.items() if not k.startswith(STRIPPED_PREFIXES)}
        authorization = kept.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return kept, ""
        try:
            claims = self.issuer.validate(token.strip())
        except jwt.InvalidTokenError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        kept.update(principal_headers(claims))
        return kept, ""


def principal_headers(claims: dict[str, Any]) -> dict[str, str]:
    entries = []
    for name, value in claims.items():
        for one in value if isinstance(value, list) else [value]:
            entries.append({"typ": _MAPPED.get(name, name), "val": str(one)})
    document = {"auth_typ": "aad", "claims": entries, "name_typ": NAME_TYPE, "role_typ": ROLE_TYPE}
    name = claims.get("preferred_username") or claims.get("upn") or claims.get("name") or claims.get("appid") or ""
    return {"x-ms-client-principal": base64.b64encode(json.dumps(document).encode()).decode(),
            "x-ms-client-principal-id": str(claims.get("oid", "")),
            "x-ms-client-principal-name": str(name),
            "x-ms-client-principal-idp": "aad"}
