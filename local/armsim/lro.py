"""Long-running operations: 202 + Location + Retry-After, a fixed number of in-progress polls, then the outcome."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web

from .errors import ArmError

UNPOLLED_FACTOR = 5


@dataclass
class Operation:
    id: str
    kind: str
    status_path: str
    api_version: str
    polls: int
    complete: Callable[[], tuple[int, dict | None]]
    failure: ArmError | None = None
    fail_after: int | None = None
    polled: int = 0
    result: tuple[int, dict | None] | None = None
    error: ArmError | None = None
    details: dict = field(default_factory=dict)
    started: float = 0.0  # monotonic start time
    min_seconds: Callable[[], float] = lambda: 0.0  # read at each poll: the control API can shorten it

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


class Operations:
    """Registry of running and finished operations, polled through their Location URL."""

    def __init__(self, *, polls: int, retry_after: int, on_finish: Callable[[Operation], None]) -> None:
        self.polls = polls
        self.retry_after = retry_after
        self.on_finish = on_finish
        self.operations: dict[str, Operation] = {}
        self.unpolled_seconds: float | None = None  # control API: when an unpolled operation ends by itself

    def start(self, *, kind: str, status_path: str, api_version: str, complete: Callable[[], tuple[int, dict | None]],
              failure: ArmError | None = None, fail_after: int | None = None, details: dict | None = None,
              min_seconds: Callable[[], float] | None = None) -> Operation:
        """Register an operation; status_path holds `{id}` where the operation id goes."""
        op_id = uuid.uuid4().hex
        op = Operation(id=op_id, kind=kind, status_path=status_path.format(id=op_id), api_version=api_version,
                       polls=self.polls, complete=complete, failure=failure, fail_after=fail_after,
                       details=details or {}, started=time.monotonic(),
                       min_seconds=min_seconds or (lambda: 0.0))
        self.operations[op_id] = op
        return op

    def accepted(self, op: Operation, base_url: str) -> web.Response:
        """The initial 202 answer."""
        return web.Response(status=202, headers=self.headers(op, base_url))

    def headers(self, op: Operation, base_url: str) -> dict[str, str]:
        sep = "&" if "?" in op.status_path else "?"
        location = f"{base_url}{op.status_path}{sep}api-version={op.api_version}"
        return {"Location": location, "Retry-After": str(self.retry_after)}

    def poll(self, op_id: str, base_url: str) -> web.Response:
        op = self.operations.get(op_id)
        if op is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
        if not op.done:
            op.polled += 1
            fail_now = op.failure is not None and (
                op.polled > op.polls or (op.fail_after is not None and op.polled > op.fail_after))
            if not fail_now and time.monotonic() < op.started + op.min_seconds():
                return web.Response(status=202, headers=self.headers(op, base_url))
            if fail_now:
                op.error = op.failure
                self.on_finish(op)
            elif op.polled <= op.polls:
                return web.Response(status=202, headers=self.headers(op, base_url))
            else:
                self._complete(op)
        if op.error is not None:
            raise op.error
        status, body = op.result
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)

    def _complete(self, op: Operation) -> None:
        try:
            op.result = op.complete()
        except ArmError as exc:
            op.error = exc
        except Exception as exc:  # a simulator bug ends the operation like a provider failure would
            op.error = ArmError(500, "InternalServerError", f"The operation failed: {exc!r}")
        self.on_finish(op)

    def settle_due(self) -> None:
        """ARM operations run on their own; polling only observes them (ARM async operations). An operation nobody
        polls (its Location was lost, e.g. a client crashed right after the POST) still ends: after
        UNPOLLED_FACTOR x (polls + 1) x max(Retry-After, 1) seconds without a single poll."""
        now = time.monotonic()
        for op in list(self.operations.values()):
            if op.done or op.polled:
                continue
            wait = self.unpolled_seconds
            if wait is None:
                wait = UNPOLLED_FACTOR * (op.polls + 1) * max(self.retry_after, 1)
            due = op.started + op.min_seconds() + wait
            if now >= due:
                if op.failure is not None:
                    op.error = op.failure
                    self.on_finish(op)
                else:
                    self._complete(op)

    def describe(self) -> list[dict]:
        return [{"id": op.id, "kind": op.kind, "polled": op.polled, "done": op.done,
                 "error": op.error.code if op.error else None, **op.details} for op in self.operations.values()]
