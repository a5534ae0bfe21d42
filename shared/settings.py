"""The app's settings (docs/settings.md), read once from the environment and validated."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Mapping

from shared.azure.arm_ids import ArmIdError, ResourceGroupId, SubscriptionId, parse_scope
from shared.errors import SettingsError

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_ALERT_DAYS = (7, 3, 1)
DEFAULT_RETENTION_DAYS = 14
DEFAULT_SWEEP_SCHEDULE = "0 0 * * * *"
DEFAULT_BACKFILL_SCHEDULE = "0 30 3 * * *"
WATCH_ALL = "*"
_MANAGEMENT_GROUP = re.compile(r"^/providers/Microsoft\.Management/managementGroups/([A-Za-z0-9_().-]{1,90})/?$", re.I)

_TABLE_ACCOUNT_URL = re.compile(r"^https?://[^/\s]+/?$")


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :meth:`from_env`; never holds a secret in its repr."""

    tables: str
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    alerts_topic_endpoint: str | None = None
    alerts_topic_key: str | None = field(default=None, repr=False)
    allowed_targets: tuple[SubscriptionId | ResourceGroupId, ...] = ()
    alert_days: tuple[int, ...] = DEFAULT_ALERT_DAYS
    default_retention_days: int = DEFAULT_RETENTION_DAYS
    arm_ca_bundle: str | None = None
    local_token: str | None = field(default=None, repr=False)
    sweep_schedule: str = DEFAULT_SWEEP_SCHEDULE
    digest_hour_utc: int | None = None
    watched_subscriptions: tuple[str, ...] = ()
    watch_all: bool = False  # AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS is `*`: every subscription the identity can read
    watched_management_group: str | None = None  # or a management group: the subscriptions below it
    backfill_schedule: str = DEFAULT_BACKFILL_SCHEDULE
    purge_scopes: tuple[SubscriptionId | ResourceGroupId, ...] = ()  # where POST .../purge may act; empty: nowhere

    @property
    def tables_is_connection_string(self) -> bool:
        return not _TABLE_ACCOUNT_URL.match(self.tables)

    @property
    def arm_is_loopback(self) -> bool:
        return _is_loopback(urllib.parse.urlsplit(self.arm_endpoint).hostname or "")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read and validate every setting; the first problem raises :class:`SettingsError`."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        tables = get("AML_LIFECYCLE_TABLES")
        if tables is None:
            raise SettingsError(
                "AML_LIFECYCLE_TABLES",
                "is required: a Table Storage connection string (UseDevelopmentStorage=true for Azurite) "
                "or an account URL https://<account>.table.core.windows.net",
            )
        if _TABLE_ACCOUNT_URL.match(tables) is None and "=" not in tables:
            raise SettingsError("AML_LIFECYCLE_TABLES", "is neither a connection string (key=value;...) nor an account URL")

        arm_endpoint = (get("AML_LIFECYCLE_ARM_ENDPOINT") or DEFAULT_ARM_ENDPOINT).rstrip("/")
        parts = urllib.parse.urlsplit(arm_endpoint)
        if parts.scheme != "https" or not parts.hostname:
            raise SettingsError("AML_LIFECYCLE_ARM_ENDPOINT", f"must be an https:// URL, got {arm_endpoint!r}")

        topic = get("AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT")
        if topic is not None and urllib.parse.urlsplit(topic).scheme != "https":
            raise SettingsError("AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT", "must be an https:// URL")
        topic_key = get("AML_LIFECYCLE_ALERTS_TOPIC_KEY")
        if topic_key is not None and topic is None:
            raise SettingsError("AML_LIFECYCLE_ALERTS_TOPIC_KEY", "is set but AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT is not")

        allowed = []
        for item in _split(get("AML_LIFECYCLE_ALLOWED_TARGETS")):
            try:
                scope = parse_scope(item if item.startswith("/") else f"/subscriptions/{item}")
            except ArmIdError as exc:
                raise SettingsError("AML_LIFECYCLE_ALLOWED_TARGETS", f"entry {item!r}: {exc}") from None
            allowed.append(scope)

        purge_scopes = []
        for item in _split(get("AML_LIFECYCLE_PURGE_SCOPES")):
            try:
                purge_scopes.append(parse_scope(item if item.startswith("/") else f"/subscriptions/{item}"))
            except ArmIdError as exc:
                raise SettingsError("AML_LIFECYCLE_PURGE_SCOPES", f"entry {item!r}: {exc}") from None

        alert_days = tuple(_ints("AML_LIFECYCLE_ALERT_DAYS", get("AML_LIFECYCLE_ALERT_DAYS"), DEFAULT_ALERT_DAYS, 1, 14))
        alert_days = tuple(sorted(set(alert_days), reverse=True))

        retention = _int("AML_LIFECYCLE_DEFAULT_RETENTION_DAYS", get("AML_LIFECYCLE_DEFAULT_RETENTION_DAYS"), DEFAULT_RETENTION_DAYS, 1, 14)

        ca_bundle = get("AML_LIFECYCLE_ARM_CA_BUNDLE")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise SettingsError("AML_LIFECYCLE_ARM_CA_BUNDLE", f"file {ca_bundle!r} does not exist")

        local_token = get("AML_LIFECYCLE_LOCAL_TOKEN")
        if local_token is not None and not _is_loopback(parts.hostname or ""):
            raise SettingsError(
                "AML_LIFECYCLE_LOCAL_TOKEN",
                f"a static token is only allowed for a loopback ARM endpoint, not {parts.hostname!r}; "
                "remove it to use managed identity",
            )

        schedule = _schedule("AML_LIFECYCLE_SWEEP_SCHEDULE", get("AML_LIFECYCLE_SWEEP_SCHEDULE"), DEFAULT_SWEEP_SCHEDULE)
        backfill_schedule = _schedule("AML_LIFECYCLE_BACKFILL_SCHEDULE", get("AML_LIFECYCLE_BACKFILL_SCHEDULE"),
                                      DEFAULT_BACKFILL_SCHEDULE)

        digest = get("AML_LIFECYCLE_DIGEST_HOUR_UTC")
        digest_hour = None if digest is None else _int("AML_LIFECYCLE_DIGEST_HOUR_UTC", digest, 0, 0, 23)

        watched, items = [], _split(get("AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS"))
        groups = [m.group(1) for m in map(_MANAGEMENT_GROUP.match, items) if m]
        watch_all = WATCH_ALL in items
        if (watch_all or groups) and len(items) > 1:
            raise SettingsError("AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS",
                                "`*` or a management group id stands alone, without other entries")
        for item in [] if (watch_all or groups) else items:
            try:
                watched.append(SubscriptionId.parse(f"/subscriptions/{item.split('/')[-1]}").subscription_id)
            except ArmIdError as exc:
                raise SettingsError("AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS", f"entry {item!r}: {exc}") from None

        return cls(
            tables=tables,
            arm_endpoint=arm_endpoint,
            alerts_topic_endpoint=topic,
            alerts_topic_key=topic_key,
            allowed_targets=tuple(allowed),
            alert_days=alert_days,
            default_retention_days=retention,
            arm_ca_bundle=ca_bundle,
            local_token=local_token,
            sweep_schedule=schedule,
            digest_hour_utc=digest_hour,
            watched_subscriptions=tuple(watched),
            watch_all=watch_all,
            watched_management_group=groups[0] if groups else None,
            backfill_schedule=backfill_schedule,
            purge_scopes=tuple(purge_scopes),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings.from_env()


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _schedule(name: str, raw: str | None, default: str) -> str:
    schedule = raw or default
    if len(schedule.split()) != 6:
        raise SettingsError(name, "must be an NCRONTAB expression with 6 fields (seconds first)")
    return schedule


def _int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be between {low} and {high}, got {value}")
    return value


def _ints(name: str, raw: str | None, default: tuple[int, ...], low: int, high: int) -> list[int]:
    if raw is None:
        return list(default)
    values = [_int(name, item, 0, low, high) for item in _split(raw)]
    if not values:
        raise SettingsError(name, "must list at least one number of days")
    return values


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
