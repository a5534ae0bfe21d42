"""Dev host settings: local.settings.json Values into the environment, the function key, the task hub name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

FUNCTION_KEY_SETTING = "AML_LIFECYCLE_DEV_FUNCTION_KEY"
MASTER_KEY_SETTING = "AML_LIFECYCLE_DEV_MASTER_KEY"
# System keys are named `<extension>_extension` (azure-functions-host DefaultScriptWebHookProvider.GetKeyName); the
# extensions this host serves webhooks for.
SYSTEM_KEY_NAMES = ("durabletask_extension", "eventgrid_extension")
ADMIN, SYSTEM, FUNCTION, ANONYMOUS = "ADMIN", "SYSTEM", "FUNCTION", "ANONYMOUS"
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
    """The function (host) key: opens the app's FUNCTION-level HTTP routes and nothing else."""

    value: str
    generated: bool

    @classmethod
    def from_environment(cls, environ: dict | None = None) -> FunctionKey:
        environ = os.environ if environ is None else environ
        configured = (environ.get(FUNCTION_KEY_SETTING) or "").strip()
        if configured:
            return cls(configured, generated=False)
        return cls(secrets.token_urlsafe(32), generated=True)

    def matches(self, candidate: str | None) -> bool:
        return bool(candidate) and secrets.compare_digest(candidate.encode(), self.value.encode())


def system_key_name(extension: str) -> str:
    """`<extension>_extension`, lower case, as the host names an extension's webhook key."""
    return f"{extension}_extension".lower()


@dataclass(frozen=True)
class HostKeys:
    """The keys as the Functions host has them: a master key (admin), one system key per extension webhook, a
    function key. Which key opens what follows azure-functions-host `AuthUtility.PrincipalHasAuthLevelClaim`: the
    master key opens everything; a route needs its own level otherwise (a system key opens only its extension's
    webhook, a function key only FUNCTION-level routes)."""

    function: FunctionKey
    master: str
    master_generated: bool = False
    system: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: dict | None = None) -> HostKeys:
        """Function key from AML_LIFECYCLE_DEV_FUNCTION_KEY, master key from AML_LIFECYCLE_DEV_MASTER_KEY (each
        generated when absent); the system keys derive from the master key (HMAC-SHA256 over their name), so a
        restart with the same master key keeps the webhook URLs registered elsewhere valid."""
        environ = os.environ if environ is None else environ
        configured = (environ.get(MASTER_KEY_SETTING) or "").strip()
        master = configured or secrets.token_urlsafe(32)
        return cls(FunctionKey.from_environment(environ), master, not configured, derive_system_keys(master))

    @classmethod
    def single(cls, function_key: FunctionKey) -> HostKeys:
        """Keys for in-process tests built around one function key (master and system keys random)."""
        master = secrets.token_urlsafe(32)
        return cls(function_key, master, True, derive_system_keys(master))

    def level_of(self, candidate: str | None) -> tuple[str, str | None]:
        """(ADMIN|SYSTEM|FUNCTION, key name) for a presented key; (ANONYMOUS, None) for none or an unknown one."""
        if not candidate:
            return ANONYMOUS, None
        if _same(candidate, self.master):
            return ADMIN, "_master"
        for name, value in self.system.items():
            if _same(candidate, value):
                return SYSTEM, name
        if self.function.matches(candidate):
            return FUNCTION, "default"
        return ANONYMOUS, None

    def allows(self, candidate: str | None, required: str, key_name: str | None = None) -> bool:
        """Whether the key meets `required` (and, for SYSTEM with a name, is that very key); admin meets all."""
        if required == ANONYMOUS:
            return True
        level, name = self.level_of(candidate)
        if level == ADMIN:
            return True
        return level == required and (key_name is None or name == key_name)

    def ready_fields(self) -> dict:
        return {"functionKey": self.function.value, "masterKey": self.master, "systemKeys": dict(self.system)}


def derive_system_keys(master: str) -> dict[str, str]:
    return {name: base64.urlsafe_b64encode(hmac.new(master.encode(), name.encode(), hashlib.sha256).digest())
            .decode().rstrip("=") for name in SYSTEM_KEY_NAMES}


def _same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


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
