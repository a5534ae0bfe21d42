"""A ledger row's recent events (docs/retention.md): kept a while so a late event can be slotted in event-time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HistoryEntry:
    """An applied event, kept a while so a late one can be slotted in order (docs/retention.md: out-of-order delivery)."""

    event_id: str
    kind: str  # "delete" | "write"
    time: datetime
    purge: bool = False
    caller: str | None = None
    correlation_id: str | None = None
    workspace_id: str | None = None
    retention_days: int | None = None
    reason: str | None = None
    source: str = "event"  # event | activityLog

    def to_json(self) -> dict[str, Any]:
        body = {"id": self.event_id, "k": self.kind[0], "t": self.time.isoformat(), "p": self.purge or None,
                "by": self.caller, "c": self.correlation_id, "ws": self.workspace_id, "r": self.retention_days,
                "why": self.reason, "src": None if self.source == "event" else self.source}
        return {k: v for k, v in body.items() if v is not None}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "HistoryEntry":
        return cls(body["id"], "delete" if body["k"] == "d" else "write", datetime.fromisoformat(body["t"]),
                   bool(body.get("p")), body.get("by"), body.get("c"), body.get("ws"), body.get("r"), body.get("why"),
                   body.get("src") or "event")
