"""ARM-shaped errors: the exception handlers raise and its JSON body."""
from __future__ import annotations

from typing import Any

STATUS_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


# Azure's answer to a workspace create under a name a soft-deleted workspace holds (code BadRequest): field reports
# Azure/CanadaPubSecALZ#380 and Azure/ResourceModules#3596.
HELD_NAME_MESSAGE = "Soft-deleted workspace exists. Please purge or recover it. https://aka.ms/wsoftdelete"


def error_body(code: str, message: str, *, details: list[dict] | None = None, target: str | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if target:
        error["target"] = target
    if details:
        error["details"] = details
    return {"error": error}


class ArmError(Exception):
    """Raised by handlers; turned into an ARM error response by the server."""

    def __init__(self, status: int, code: str, message: str, *, details: list[dict] | None = None,
                 target: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.target = target
        self.headers = headers or {}

    def body(self) -> dict:
        return error_body(self.code, self.message, details=self.details, target=self.target)


def not_found(resource_id: str, kind: str = "Resource") -> ArmError:
    return ArmError(404, "ResourceNotFound", f"The {kind} '{resource_id}' was not found.", target=resource_id)


def rg_not_found(group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


def bad_request(code: str, message: str, target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)
