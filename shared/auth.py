"""Who calls: the sign-in mode (AML_LIFECYCLE_AUTH), the app roles, and the caller from App Service Authentication.

With `entra` the platform (App Service Authentication, "Easy Auth") validates the bearer token and hands the app the
principal in `X-MS-CLIENT-PRINCIPAL*` headers; external requests cannot set those headers, so they are present only
if App Service sets them (learn.microsoft.com/azure/app-service/configure-authentication-user-identities). The app
believes them only where the platform says authentication is on: `WEBSITE_AUTH_ENABLED`, "read-only, injected into
a Windows or Linux app to indicate whether App Service authentication is enabled"
(learn.microsoft.com/azure/app-service/reference-app-settings). Roles are the token's `roles` claim (app roles
assigned to the user or to the pipeline's service principal). Docs: docs/auth.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ApiError, SettingsError

AUTH_SETTING = "AML_LIFECYCLE_AUTH"
ENTRA, KEYS = "entra", "keys"
PLATFORM_AUTH_SETTING = "WEBSITE_AUTH_ENABLED"

RETENTION_READ = "Retention.Read"
RETENTION_PURGE = "Retention.Purge"
MOVES_VALIDATE = "Moves.Validate"
MOVES_EXECUTE = "Moves.Execute"
INVENTORY_BACKFILL = "Inventory.Backfill"
APP_ROLES = (RETENTION_READ, MOVES_VALIDATE, MOVES_EXECUTE, RETENTION_PURGE, INVENTORY_BACKFILL)

PRINCIPAL = "x-ms-client-principal"
PRINCIPAL_ID = "x-ms-client-principal-id"
PRINCIPAL_NAME = "x-ms-client-principal-name"
PRINCIPAL_IDP = "x-ms-client-principal-idp"
# Claim types as App Service's claim mapping writes them for Microsoft Entra tokens.
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
APPID_CLAIMS = ("appid", "azp")
NAME_CLAIMS = ("preferred_username", "name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn")


def auth_mode(environ: Mapping[str, str] | None = None) -> str:
    """`entra` (also when unset: fail closed) or `keys`; anything else raises SettingsError naming the setting."""
    environ = os.environ if environ is None else environ
    value = (environ.get(AUTH_SETTING) or ENTRA).strip().lower()
    if value not in (ENTRA, KEYS):
        raise SettingsError(AUTH_SETTING, f"must be {ENTRA!r} (Microsoft Entra sign-in with app roles) or {KEYS!r} "
                                          f"(function keys), got {value!r}")
    return value


@dataclass(frozen=True)
class Caller:
    """The signed-in principal (`via` entra) or the anonymous holder of a function key (`via` functionKey)."""

    via: str
    object_id: str | None = None
    name: str | None = None
    app_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def function_key(cls) -> "Caller":
        return cls("functionKey")

    def record(self) -> dict[str, Any]:
        """What audit fields store: `{"via", "objectId", "name", "appId"}` (absent values left out). A function key
        names nobody: `{"via": "functionKey"}` only."""
        found = {"via": self.via, "objectId": self.object_id, "name": self.name, "appId": self.app_id}
        return {k: v for k, v in found.items() if v}

    def label(self) -> str:
        """One readable name for logs and messages: the name, else the app id, else the object id."""
        if self.via != ENTRA:
            return "a function-key holder"
        return self.name or (f"app {self.app_id}" if self.app_id else None) or self.object_id or "an unnamed principal"


def platform_principal(headers: Mapping[str, str], environ: Mapping[str, str] | None = None) -> Caller | None:
    """The caller from the platform's principal headers (lower-case names), or None when there is none.

    Raises SettingsError when the platform's authentication is off (WEBSITE_AUTH_ENABLED not true): then nothing
    strips client-sent copies, so no such header can be believed."""
    environ = os.environ if environ is None else environ
    if (environ.get(PLATFORM_AUTH_SETTING) or "").strip().lower() != "true":
        raise SettingsError(AUTH_SETTING, "is 'entra' but App Service Authentication is not enabled on this app "
                                          f"({PLATFORM_AUTH_SETTING} is not true); enable it (docs/auth.md) or set "
                                          f"{AUTH_SETTING}=keys")
    encoded = headers.get(PRINCIPAL)
    if not encoded:
        return None
    try:
        document = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    claims = document.get("claims") if isinstance(document, dict) else None
    if not isinstance(claims, list):
        return None
    role_types = {*ROLE_CLAIMS, str(document.get("role_typ") or "")}
    values: dict[str, list[str]] = {}
    for claim in claims:
        if isinstance(claim, dict) and isinstance(claim.get("typ"), str) and isinstance(claim.get("val"), str):
            values.setdefault(claim["typ"], []).append(claim["val"])
    roles = frozenset(v for t in role_types for v in values.get(t, ()))
    object_id = headers.get(PRINCIPAL_ID) or _first(values, OID_CLAIMS)
    app_id = _first(values, APPID_CLAIMS)
    name = _first(values, NAME_CLAIMS) or headers.get(PRINCIPAL_NAME) or None
    if name and app_id and name == app_id:
        name = None
    return Caller(ENTRA, object_id, name, app_id, roles)


def _first(values: dict[str, list[str]], types: tuple[str, ...]) -> str | None:
    return next((values[t][0] for t in types if values.get(t)), None)


def require_role(caller: Caller | None, role: str | tuple[str, ...] | None, *, key_presented: bool = False) -> Caller:
    """The caller if it holds `role` (or one of a tuple of roles); ApiError 401 without a principal, 403 naming the
    role without it. `role` None means the route declared none: refused (403), so an undeclared route fails closed."""
    if caller is None:
        hint = (f" (function keys are not accepted while {AUTH_SETTING}=entra)" if key_presented else "")
        raise ApiError(401, "Unauthenticated", "sign in with Microsoft Entra ID: send 'Authorization: Bearer <token>' "
                                               f"for this app's registration{hint}; docs/auth.md", "Authorization")
    if role is None:
        raise ApiError(403, "RoleRequired", "this route declares no app role, so it is refused for everyone", "role")
    wanted = (role,) if isinstance(role, str) else tuple(role)
    if not caller.roles.intersection(wanted):
        needed = f"the app role {wanted[0]}" if len(wanted) == 1 else f"one of the app roles {', '.join(wanted)}"
        raise ApiError(403, "RoleRequired", f"{caller.label()} lacks {needed}; ask an owner of the app registration "
                                            "to assign it (docs/auth.md)", "role")
    return caller
