"""HTTP helpers shared by the handlers: JSON bodies in, JSON responses and API errors out, and who may call a route.

Each route names its app role in one place, `@api(role=...)`; the table of routes and roles is docs/auth.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import azure.functions as func

from handlers.telemetry import traced
from shared import auth
from shared.errors import ApiError, SettingsError, bad_request
from shared.untrusted_input import JsonInputError, loads_bounded

MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("aml_lifecycle.http")

# Read once, when the host indexes the app: the routes' key level and the role checks both follow it, so a route is
# never open to a key and a token at once. An unknown value fails the indexing with the setting's name.
AUTH = auth.auth_mode()


def route_auth_level() -> func.AuthLevel:
    """The host's key level for every /api route: ANONYMOUS with `entra` (App Service Authentication validates the
    token in front of the host, the app checks the principal's roles; a function key opens nothing), FUNCTION with
    `keys` (the host checks the key; the app checks no role)."""
    return func.AuthLevel.ANONYMOUS if AUTH == auth.ENTRA else func.AuthLevel.FUNCTION


def caller_of(req: func.HttpRequest) -> auth.Caller:
    """The caller of a request that `api` let through: the signed-in principal, or the function-key holder."""
    if AUTH != auth.ENTRA:
        return auth.Caller.function_key()
    caller = auth.platform_principal(req.headers)
    return caller if caller is not None else auth.require_role(None, None)  # 401; `api` refused it already


def authorize(req: func.HttpRequest, role: str | tuple[str, ...] | None) -> auth.Caller:
    """The caller if it may call a route declaring `role`; ApiError 401 (no principal) or 403 naming the role."""
    if AUTH != auth.ENTRA:
        return auth.Caller.function_key()
    key_presented = "x-functions-key" in req.headers or "code" in req.params
    return auth.require_role(auth.platform_principal(req.headers), role, key_presented=key_presented)


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


def api(handler: Callable[..., func.HttpResponse] | None = None, *, role: str | tuple[str, ...] | None = None) -> Any:
    """`@api(role="Moves.Execute")`: with AML_LIFECYCLE_AUTH=entra the caller must hold that app role (401 without a
    principal, 403 naming the role; a route declaring none is refused); then ApiError and configuration errors become
    the contract's error shape, anything unexpected is logged, one span per request (method, path without the query
    string, status)."""
    if handler is None:
        return lambda user: _api(user, role)
    return _api(handler, role)


def _api(handler: Callable[..., func.HttpResponse], role: str | tuple[str, ...] | None) -> Callable[..., func.HttpResponse]:
    import functools
    import inspect

    def check(args: tuple, kwargs: dict) -> None:
        request = next((a for a in (*args, *kwargs.values()) if isinstance(a, func.HttpRequest)), None)
        authorize(request, role) if request is not None else auth.require_role(None, role)

    def convert(exc: BaseException) -> func.HttpResponse:
        if isinstance(exc, ApiError) and exc.status == 401:
            response = error_response(exc)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
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
                check(args, kwargs)
                return await handler(*args, **kwargs)
            except Exception as exc:
                return convert(exc)

        return traced("http")(run_async)

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> func.HttpResponse:
        try:
            check(args, kwargs)
            return handler(*args, **kwargs)
        except Exception as exc:
            return convert(exc)

    return traced("http")(run)
