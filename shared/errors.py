"""Errors the HTTP API reports as `{"error": {"code", "message", "target"?}}`, and safe messages for Azure faults."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError

_SECRETISH = re.compile(r"(?i)(accountkey|sig|key|secret|password|token|code)=([^;&\s]+)")


@dataclass
class ApiError(Exception):
    """A client-facing error with its HTTP status; `target` names the offending field."""

    status: int
    code: str
    message: str
    target: str | None = None
    details: Any = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what is wrong."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"setting {name}: {problem}")
        self.name = name
        self.problem = problem


def bad_request(target: str, message: str, code: str = "InvalidRequest") -> ApiError:
    return ApiError(400, code, message, target)


def redact(text: str) -> str:
    """Mask key=value secrets (connection strings, SAS, codes) in text bound for a log, a row or a response."""
    return _SECRETISH.sub(lambda m: f"{m.group(1)}=***", text)


def describe_azure_error(exc: BaseException, limit: int = 300) -> str:
    """A short, secret-free description of an Azure SDK or network failure."""
    if isinstance(exc, HttpResponseError):
        code = getattr(exc.error, "code", None) if exc.error else None
        message = getattr(exc.error, "message", None) if exc.error else None
        status = exc.status_code
        text = f"HTTP {status} {code or exc.reason or ''}: {message or str(exc).splitlines()[0]}"
    else:
        first = str(exc).splitlines()[0] if str(exc) else ""
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    text = redact(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"
