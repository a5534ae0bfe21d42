"""`--wait`: follow a 202 and its status URL to the end, saying on stderr what it waits for and when it looks next
(a live line on a terminal, one line per change otherwise, so pipeline logs stay readable)."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable

import click

from aml_lifecycle_client.api import Api
from aml_lifecycle_client.exits import STILL_RUNNING, ClientError

MOVE_DONE = ("Succeeded", "Failed", "NeedsAttention")


class Progress:
    """Prints progress to stderr: a rewritten line on a terminal, a new line only when something changed otherwise."""

    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.started = time.monotonic()
        self.last = ""

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}m{seconds % 60:02d}s"

    def show(self, what: str, next_check: str | None = None) -> None:
        if self.interactive:
            tail = f" · next check {next_check}" if next_check else ""
            click.echo(f"\r\033[2K{self.elapsed()} · {what}{tail}", nl=False, err=True)
        elif what != self.last:
            click.echo(f"{_now()} {what}", err=True)
        self.last = what

    def done(self) -> None:
        if self.interactive and self.last:
            click.echo("", err=True)


def follow_validation(api: Api, first: dict[str, Any], retry_after: int, *, timeout: float, interval: float | None,
                      progress: Progress) -> dict[str, Any]:
    """GET the validation's statusUrl until it answers 200 with the report (202 while ARM still validates)."""
    url = first.get("statusUrl")
    if not url:
        raise ClientError("the app answered 202 without a statusUrl; update the app", STILL_RUNNING)
    deadline = time.monotonic() + timeout
    delay = interval if interval is not None else retry_after
    try:
        while True:
            progress.show("validating: waiting for ARM's validateMoveResources to finish (it may take minutes)",
                          _in(delay))
            _sleep_until(delay, deadline, lambda: _still(f"the validation goes on; read it later: {url}"))
            answer = api.call("GET", url, accept=(200, 202))
            if answer.status == 200:
                return answer.body
            delay = interval if interval is not None else _retry_after(answer.headers, retry_after)
    finally:
        progress.done()


def follow_move(api: Api, move_id: str, *, timeout: float, interval: float, progress: Progress) -> dict[str, Any]:
    """GET /api/moves/{moveId} until the move is Succeeded, Failed or NeedsAttention."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            view = api.call("GET", f"/api/moves/{move_id}").body
            if view.get("state") in MOVE_DONE:
                progress.show(describe_move(view))
                return view
            progress.show(describe_move(view), _in(interval))
            _sleep_until(interval, deadline, lambda: _still(
                f"move {move_id} is still {view.get('state')}; it goes on in the app: "
                f"`aml-lifecycle move show {move_id} --wait`"))
    finally:
        progress.done()


def describe_move(view: dict[str, Any]) -> str:
    """`Moving · move: running — waiting for …, next check …, gives up at …` from a move's status."""
    state = view.get("state") or "?"
    current = next((s for s in reversed(view.get("steps") or []) if s.get("status") in ("running", "starting")),
                   None)
    if current is None:
        return state
    text = f"{state} · {current.get('name')}: {current.get('status')}"
    if current.get("waitingFor"):
        text += f" — waiting for {current['waitingFor']}"
    if current.get("deadline"):
        text += f" (until {current['deadline']})"
    return text


def _retry_after(headers: dict[str, str], default: int) -> int:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "")
    return int(value) if value.strip().isdigit() else default


def _sleep_until(delay: float, deadline: float, on_timeout: Callable[[], ClientError]) -> None:
    if time.monotonic() + delay > deadline:
        raise on_timeout()
    time.sleep(max(0.0, delay))


def _still(message: str) -> ClientError:
    return ClientError(f"gave up waiting (--timeout): {message}", STILL_RUNNING)


def _in(seconds: float) -> str:
    moment = datetime.now(timezone.utc).timestamp() + seconds
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%H:%M:%SZ")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
