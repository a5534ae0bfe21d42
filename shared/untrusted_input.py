"""Parsing text that arrives from outside (request bodies, query strings, delivered events) within fixed bounds."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from shared.errors import bad_request, redact

# Deepest JSON nesting accepted: Newtonsoft.Json's default JsonReader.MaxDepth (64, since 13.0.1), the limit the
# Functions host itself parses Event Grid deliveries with. No body of the API nests deeper than 5 levels.
MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_ASCII_INT = re.compile(r"[0-9]{1,18}")  # also below int()'s 4,300-digit conversion limit
MAX_AUDIT_TEXT = 500  # characters of a reason / requestedBy kept in an audit entry


class JsonInputError(ValueError):
    """Text that is not JSON this app accepts; the message says why and is safe to return to the caller."""


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest `[`/`{` nesting of `text` outside strings, counting only up to `limit + 1` (then it stops)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def loads_bounded(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` that refuses nesting deeper than `max_depth` before parsing (the standard parser recurses once per
    level and ends in RecursionError past about 1,000), as well as undecodable bytes and invalid JSON.

    Raises JsonInputError with a message naming the problem (never the input itself).
    """
    try:  # bytes decoded as json.loads decodes them (UTF-8 with or without a BOM, UTF-16/32 detected)
        text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, (bytes, bytearray)) else raw
    except UnicodeDecodeError as exc:
        raise JsonInputError(f"is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if nesting_depth(text, max_depth) > max_depth:
        raise JsonInputError(f"nests deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # a bound the scan above should already have enforced
        raise JsonInputError(f"nests deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise JsonInputError(f"is not valid JSON: {exc}") from None


def ascii_int(value: str) -> int | None:
    """The integer an ASCII decimal string stands for, or None. `str.isdigit()` also accepts Unicode digits such as
    `²` that `int()` then refuses; query strings and headers are ASCII in HTTP. At most 18 digits."""
    value = value.strip()
    return int(value) if _ASCII_INT.fullmatch(value) else None


def reject_unknown(body: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    """ApiError(400) naming the first field of `body` (alphabetically) that is not one of `fields`."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise bad_request(unknown[0], f"unknown field; expected {', '.join(fields)}")


def audit_text(body: Mapping[str, Any], name: str) -> str:
    """`body[name]` for an audit entry (a reason, a who-asked note), stripped: a non-empty string of at most 500
    characters holding no key=value secret (shared.errors.redact), or ApiError(400) naming `name`."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(name, "a non-empty string is required")
    if len(value) > MAX_AUDIT_TEXT:
        raise bad_request(name, f"at most {MAX_AUDIT_TEXT} characters, got {len(value)}")
    if redact(value) != value:
        raise bad_request(name, "looks like it holds a secret (key=..., token=...); leave secrets out")
    return value.strip()


def audit_note(body: Mapping[str, Any], name: str) -> str | None:
    """Like :func:`audit_text` for an optional field: None when `body` has no `name` (or null)."""
    return None if body.get(name) is None else audit_text(body, name)
