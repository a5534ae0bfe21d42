"""The local token issuer: an RSA signing key generated when the dev host starts, and tokens shaped like Entra's.

Tokens carry what a Microsoft Entra ID v2.0 access token for this app carries (`aud`, `iss`, `iat`, `nbf`, `exp`,
`tid`, `oid`, `sub`, `roles`, and `preferred_username`/`name` for a user or `azp`/`appid`/`idtyp=app` for an
application; learn.microsoft.com/entra/identity-platform/access-token-claims-reference), signed RS256 with PyJWT.
The issuer file holds the private key (mode 0600, under .local/): it exists only for the dev host's lifetime use.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
ISSUER_FILE_SETTING = "AML_LIFECYCLE_DEV_ISSUER_FILE"
DEFAULT_ISSUER_FILE = ROOT / ".local" / "devhost-issuer.json"
LOCAL_TENANT = "7e57a0e1-0000-4000-8000-00000000a11c"
AUDIENCE = "api://aml-lifecycle-local"
ISSUER = f"https://login.devhost.localhost/{LOCAL_TENANT}/v2.0"
_NAMES = uuid.UUID("5b0e7c1a-8f7e-4b52-9a43-1f1e6d0c2a77")


def issuer_file(environ: dict | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ISSUER_FILE_SETTING) or DEFAULT_ISSUER_FILE)


@dataclass(frozen=True)
class LocalIssuer:
    """One signing key, its key id, the issuer and the audience the dev host accepts."""

    private_pem: bytes
    kid: str
    issuer: str = ISSUER
    audience: str = AUDIENCE

    @classmethod
    def generate(cls) -> "LocalIssuer":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return cls(pem, secrets.token_hex(8))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "LocalIssuer":
        """The issuer a running dev host wrote; FileNotFoundError names the file when no dev host wrote one."""
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(document["privateKeyPem"].encode(), document["kid"], document["issuer"], document["audience"])

    def write(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"issuer": self.issuer, "audience": self.audience, "kid": self.kid,
                    "privateKeyPem": self.private_pem.decode()}
        descriptor = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.chmod(path, 0o600)
        return path

    @property
    def public_key(self) -> Any:
        return serialization.load_pem_private_key(self.private_pem, password=None).public_key()

    def mint(self, roles: list[str] | tuple[str, ...], name: str, *, app: bool = False, minutes: float = 60,
             now: float | None = None, audience: str | None = None, issuer: str | None = None) -> str:
        """A signed access token for `name` (a user's UPN, or with `app` an application's display name) holding
        `roles`, valid `minutes` from `now` (epoch seconds). The object id is stable per name."""
        now = time.time() if now is None else now
        oid = str(uuid.uuid5(_NAMES, f"{'app' if app else 'user'}:{name.lower()}"))
        claims: dict[str, Any] = {
            "aud": audience or self.audience, "iss": issuer or self.issuer, "iat": int(now), "nbf": int(now),
            "exp": int(now + minutes * 60), "tid": LOCAL_TENANT, "oid": oid, "sub": oid, "ver": "2.0",
            "roles": list(roles),
        }
        if app:
            app_id = str(uuid.uuid5(_NAMES, f"appid:{name.lower()}"))
            claims.update({"azp": app_id, "appid": app_id, "idtyp": "app", "app_displayname": name})
        else:
            claims.update({"preferred_username": name, "name": name, "idtyp": "user"})
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid})

    def validate(self, token: str) -> dict[str, Any]:
        """The claims of a token this issuer signed for its audience, unexpired; jwt.InvalidTokenError otherwise."""
        return jwt.decode(token, self.public_key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer,
                          options={"require": ["exp", "iat", "nbf", "aud", "iss", "oid"]}, leeway=30)
