"""Fields of Microsoft.Resources events read defensively: claims, the caller, forceToPurge, RFC 3339 times."""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime, timezone
from typing import Any, Mapping

from shared.untrusted_input import JsonInputError, loads_bounded

UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
# Longest value we store from an event field. Table Storage caps a string property at 64 KiB (32 K UTF-16 chars) and
# the row's History keeps up to 40 events' caller and correlation id: longer is not an ARM value, it is malformed.
MAX_FIELD_CHARS = 512
# RFC 3339 date-time (Event Grid's eventTime, CloudEvents' time): ASCII digits only, `T`/`t`/space, `Z`/`z` or an offset.
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)?$", re.ASCII)


def json_object(value: Any) -> Mapping[str, Any] | None:
    """`data.claims` / `httpRequest` / `authorization` as a mapping: an object, or a JSON string of one.

    Event Grid's schema has them as objects; relays and older SDK models re-publish them as JSON strings.
    """
    if isinstance(value, Mapping):
        return value
    if isinstance(value, (str, bytes)):
        try:
            parsed = loads_bounded(value)
        except JsonInputError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def caller_of(claims: Any) -> str | None:
    """Who made the request: the upn claim, then `name`, then `appid` (a service principal); claims as a mapping or
    a JSON string of one."""
    claims = json_object(claims)
    if claims is None:
        return None
    for name in (UPN_CLAIM, "name", "appid"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _force_to_purge(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    return any(k.lower() == "forcetopurge" and v.strip().lower() in ("true", "1") for k, v in query)


def _text(value: Any) -> str | None:
    """An envelope string field as sent; a non-string (a forged number or object) as its JSON-ish text."""
    return value if value is None or isinstance(value, str) else str(value)[:MAX_FIELD_CHARS]


def _as_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or an RFC 3339 string (any offset, up to 7 fractional digits as ARM
    sends, more are cut); None when absent or not such a time (the caller tells which)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if not isinstance(value, str):
        return None
    match = _TIME.match(value.strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}.{micro}{'+00:00' if zone in (None, 'Z', 'z') else zone}")
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # month 13, hour 24, offset +99:00, year 1 at +01:00
        return None
