"""Table Storage continuation tokens as opaque, URL-safe strings for API callers."""

from __future__ import annotations

import base64
import binascii
import json


class InvalidContinuationToken(ValueError):
    """The continuation token was not produced by this API."""


def encode_token(token: dict[str, str] | None) -> str | None:
    """Table Storage's continuation (next PartitionKey/RowKey) as an opaque URL-safe string."""
    if not token:
        return None
    raw = json.dumps({"pk": token.get("PartitionKey"), "rk": token.get("RowKey")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict[str, str] | None:
    """The Table Storage continuation of a token from :func:`encode_token`; anything else (a forged or foreign
    token, e.g. base64 of `{}`) raises :class:`InvalidContinuationToken`, never KeyError or TypeError."""
    if not token:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, dict) or set(raw) - {"pk", "rk"}:
            raise ValueError("unexpected shape")
        pk, rk = raw.get("pk"), raw.get("rk")
        # Table Storage always returns a next PartitionKey with a continuation; the next RowKey may be absent.
        if not isinstance(pk, str) or not pk or not isinstance(rk, (str, type(None))):
            raise ValueError("unexpected shape")
        if any(ord(c) < 0x20 or c in "/\\#?" for c in pk + (rk or "")):
            raise ValueError("characters Table Storage keys cannot hold")
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidContinuationToken("is not a continuation token returned by this API") from exc
    return {"PartitionKey": pk, "RowKey": rk}
