"""Dev host settings: local.settings.json Values into the environment, the function key, the task hub name."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FUNCTION_KEY_SETTING = "AML_LIFECYCLE_DEV_FUNCTION_KEY"
STORAGE_SETTING = "AzureWebJobsStorage"
DEFAULT_HUB_NAME = "TestHubName"
# The Functions host lets app settings override host.json entries with this naming.
HUB_OVERRIDE_SETTING = "AzureFunctionsJobHost__extensions__durableTask__hubName"


def load_settings_file(path: str | os.PathLike | None) -> dict[str, str]:
    """Read the `Values` of a local.settings.json file; a missing file yields no values."""
    if path is None:
        return {}
    file = Path(path)
    if not file.is_file():
        return {}
    document = json.loads(file.read_text(encoding="utf-8-sig"))
    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise ValueError(f"{file}: 'Values' must be an object")
    return {str(name): "" if value is None else str(value) for name, value in values.items()}


def apply_to_environment(values: dict[str, str], environ: dict | None = None) -> list[str]:
    """Copy values into the environment without overriding variables that are already set; return the names applied."""
    environ = os.environ if environ is None else environ
    applied = []
    for name, value in values.items():
        if name not in environ:
            environ[name] = value
            applied.append(name)
    return applied


@dataclass(frozen=True)
class FunctionKey:
    """The single key the dev host accepts for FUNCTION/ADMIN-level HTTP functions and its system webhooks."""

    value: str
    generated: bool

    @classmethod
    def from_environment(cls, environ: dict | None = None) -> "FunctionKey":
        environ = os.environ if environ is None else environ
        configured = (environ.get(FUNCTION_KEY_SETTING) or "").strip()
        if configured:
            return cls(configured, generated=False)
        return cls(secrets.token_urlsafe(32), generated=True)

    def matches(self, candidate: str | None) -> bool:
        return bool(candidate) and secrets.compare_digest(candidate.encode(), self.value.encode())


def read_host_json(app_dir: Path) -> dict:
    host_json = app_dir / "host.json"
    if not host_json.is_file():
        return {}
    try:
        return json.loads(host_json.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{host_json}: {error}") from error


def task_hub_name(host_config: dict, environ: dict | None = None) -> str:
    """The Durable task hub: the host.json override setting, host.json `extensions.durableTask.hubName`
    (`%Setting%` resolved), else TestHubName."""
    environ = os.environ if environ is None else environ
    hub = (environ.get(HUB_OVERRIDE_SETTING)
           or ((host_config.get("extensions") or {}).get("durableTask") or {}).get("hubName") or DEFAULT_HUB_NAME)
    return resolve_app_setting(hub, environ) or DEFAULT_HUB_NAME


def route_prefix(host_config: dict) -> str:
    """`extensions.http.routePrefix` from host.json (default `api`), without surrounding slashes."""
    prefix = ((host_config.get("extensions") or {}).get("http") or {}).get("routePrefix")
    return "api" if prefix is None else str(prefix).strip("/")


def resolve_app_setting(value: str, environ: dict | None = None) -> str:
    """Resolve a `%NAME%` binding expression against the environment, as the host does for binding settings."""
    environ = os.environ if environ is None else environ
    if isinstance(value, str) and len(value) > 2 and value.startswith("%") and value.endswith("%"):
        name = value[1:-1]
        if name not in environ:
            raise KeyError(f"app setting {name!r} referenced as {value!r} is not set")
        return environ[name]
    return value
