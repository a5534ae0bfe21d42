"""HTTP helpers shared by the handlers: JSON bodies in, JSON responses and API errors out."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import azure.functions as func

from handlers.telemetry import traced
from shared.errors import ApiError, bad_request
from shared.settings import SettingsError
from shared.untrusted_input import JsonInputError, loads_bounded

MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("aml_lifecycle.http")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, default=str), status_code=status, mimetype="application/json", headers=headers
    )


def error_response(error: ApiError) -> func.HttpResponse:
    return json_response(error.body(), error.status)


def json_body(req: func.HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or an ApiError naming what is wrong with it."""
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "PayloadTooLarge", f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted", "body")
    if not raw.strip():
        raise bad_request("body", "a JSON object is required")
    try:
        body = loads_bounded(raw)  # bounded nesting: a deep body is a 400, not a RecursionError (500)
    except JsonInputError as exc:
        raise bad_request("body", str(exc)) from None
    if not isinstance(body, dict):
        raise bad_request("body", f"must be a JSON object, got {type(body).__name__}")
    return body


def api(handler: Callable[..., func.HttpResponse]) -> Callable[..., func.HttpResponse]:
    """Turn ApiError and configuration errors into the contract's error shape; log anything unexpected; one span per
    request (method, path without the query string, status)."""

    import functools
    import inspect

    def convert(exc: BaseException) -> func.HttpResponse:
        if isinstance(exc, ApiError):
            return error_response(exc)
        if isinstance(exc, SettingsError):
            log.error("configuration error: %s", exc)
            return error_response(ApiError(500, "ConfigurationError", str(exc), exc.name))
        log.exception("unhandled error in %s", handler.__name__)
        return error_response(ApiError(500, "InternalError", "the request failed unexpectedly; see the app's logs"))

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(*args: Any, **kwargs: Any) -> func.HttpResponse:
            try:
                return await handler(*args, **kwargs)
            except Exception as exc:
                return convert(exc)

        return traced("http")(run_async)

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> func.HttpResponse:
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            return convert(exc)

    return traced("http")(run)
