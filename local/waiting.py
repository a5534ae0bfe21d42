"""Polling with a deadline: what tests and the demo use instead of sleeping."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(probe: Callable[[], Any], what: str = "condition", *, timeout: float = 30.0,
               interval: float = 0.05) -> Any:
    """Call `probe` until it returns something truthy and return that; raise naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not seen within {timeout:g}s")
        time.sleep(interval)
