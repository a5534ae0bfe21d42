"""Fault injection: throttling, errors and latency matched by method and path regex."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from .errors import STATUS_CODES, ArmError

KINDS = ("throttle", "error", "latency")


@dataclass
class Fault:
    id: str
    kind: str
    path: re.Pattern
    method: str | None
    status: int
    retry_after: int | None
    remaining: int
    latency_ms: int
    hits: int = 0
    spec: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {**self.spec, "id": self.id, "remaining": self.remaining, "hits": self.hits}


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, spec: dict) -> Fault:
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ArmError(400, "InvalidFault", f"kind must be one of {', '.join(KINDS)}")
        if not isinstance(spec.get("path"), str):
            raise ArmError(400, "InvalidFault", "path (a regular expression) is required")
        try:
            pattern = re.compile(spec["path"], re.I)
        except re.error as exc:
            raise ArmError(400, "InvalidFault", f"path is not a valid regular expression: {exc}") from exc
        default_status = {"throttle": 429, "error": 500, "latency": 200}[kind]
        fault = Fault(id=str(uuid.uuid4()), kind=kind, path=pattern,
                      method=(spec.get("method") or "").upper() or None,
                      status=int(spec.get("status") or default_status),
                      retry_after=None if spec.get("retryAfter") is None else int(spec["retryAfter"]),
                      remaining=int(spec.get("count", 1)), latency_ms=int(spec.get("latencyMs", 0)), spec=dict(spec))
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict]:
        return [f.describe() for f in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this call, consuming one of its hits."""
        for fault in self._faults:
            if fault.remaining <= 0 or (fault.method and fault.method != method.upper()):
                continue
            if fault.path.search(path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None


def as_error(fault: Fault) -> ArmError:
    """The ARM error a throttle/error fault answers with."""
    if fault.kind == "throttle":
        retry_after = 1 if fault.retry_after is None else fault.retry_after
        return ArmError(fault.status, "TooManyRequests",
                        "The request is being throttled as the limit has been reached for operation type. "
                        f"Please retry after {retry_after} seconds.",
                        headers={"Retry-After": str(retry_after)})
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    code = STATUS_CODES.get(fault.status, "InternalServerError")
    return ArmError(fault.status, code, f"Injected fault: the service answered {fault.status} ({code}).", headers=headers)
