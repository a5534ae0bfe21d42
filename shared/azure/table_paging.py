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
    if not token:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), (str, type(None))) for k in ("pk", "rk")):
            raise ValueError("unexpected shape")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidContinuationToken("is not a continuation token returned by this API") from exc
    return {"PartitionKey": raw["pk"], "RowKey": raw["rk"]}
