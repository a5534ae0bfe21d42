"""Times as the API, alerts and logs write them: ISO 8601 in UTC with a `Z` (no `+00:00`)."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_z(moment: datetime | None) -> str | None:
    """`2026-12-03T10:11:19.123456Z` (microseconds only when present); None stays None; naive times are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
