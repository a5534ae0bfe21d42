"""Settings are validated once, with errors that name the setting."""

import pytest

from shared.azure.arm_ids import ResourceGroupId, SubscriptionId
from shared.settings import Settings, SettingsError

BASE = {"AML_LIFECYCLE_TABLES": "UseDevelopmentStorage=true"}


def test_defaults():
    settings = Settings.from_env(BASE)
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.alert_days == (7, 3, 1)
    assert settings.default_retention_days == 14
    assert settings.allowed_targets == ()
    assert settings.tables_is_connection_string


def test_full_configuration():
    settings = Settings.from_env({
        "AML_LIFECYCLE_TABLES": "https://acct.table.core.windows.net",
        "AML_LIFECYCLE_ALLOWED_TARGETS": "22222222-2222-4222-8222-222222222222, /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-x",
        "AML_LIFECYCLE_ALERT_DAYS": "1,7,3,3",
        "AML_LIFECYCLE_DEFAULT_RETENTION_DAYS": "7",
        "AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT": "https://topic.westeurope-1.eventgrid.azure.net/api/events",
    })
    assert not settings.tables_is_connection_string
    assert settings.allowed_targets == (
        SubscriptionId("22222222-2222-4222-8222-222222222222"),
        ResourceGroupId("11111111-1111-4111-8111-111111111111", "rg-x"),
    )
    assert settings.alert_days == (7, 3, 1)
    assert settings.default_retention_days == 7


@pytest.mark.parametrize(
    "env, name, fragment",
    [
        ({}, "AML_LIFECYCLE_TABLES", "is required"),
        ({"AML_LIFECYCLE_TABLES": "nonsense"}, "AML_LIFECYCLE_TABLES", "neither"),
        ({**BASE, "AML_LIFECYCLE_ARM_ENDPOINT": "http://management.azure.com"}, "AML_LIFECYCLE_ARM_ENDPOINT", "https"),
        ({**BASE, "AML_LIFECYCLE_ALLOWED_TARGETS": "not-a-sub"}, "AML_LIFECYCLE_ALLOWED_TARGETS", "not-a-sub"),
        ({**BASE, "AML_LIFECYCLE_PURGE_SCOPES": "/subscriptions/x/rg"}, "AML_LIFECYCLE_PURGE_SCOPES", "/subscriptions/x"),
        ({**BASE, "AML_LIFECYCLE_ALERT_DAYS": "7,x"}, "AML_LIFECYCLE_ALERT_DAYS", "integer"),
        ({**BASE, "AML_LIFECYCLE_ALERT_DAYS": "30"}, "AML_LIFECYCLE_ALERT_DAYS", "between 1 and 14"),
        ({**BASE, "AML_LIFECYCLE_DEFAULT_RETENTION_DAYS": "0"}, "AML_LIFECYCLE_DEFAULT_RETENTION_DAYS", "between"),
        ({**BASE, "AML_LIFECYCLE_ARM_CA_BUNDLE": "/nope.pem"}, "AML_LIFECYCLE_ARM_CA_BUNDLE", "does not exist"),
        ({**BASE, "AML_LIFECYCLE_ALERTS_TOPIC_KEY": "k"}, "AML_LIFECYCLE_ALERTS_TOPIC_KEY", "ENDPOINT is not"),
        ({**BASE, "AML_LIFECYCLE_SWEEP_SCHEDULE": "0 * * * *"}, "AML_LIFECYCLE_SWEEP_SCHEDULE", "6 fields"),
        ({**BASE, "AML_LIFECYCLE_BACKFILL_SCHEDULE": "daily"}, "AML_LIFECYCLE_BACKFILL_SCHEDULE", "6 fields"),
        ({**BASE, "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": "*,11111111-1111-4111-8111-111111111111"},
         "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS", "stands alone"),
        ({**BASE, "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": "/providers/Microsoft.Management/managementGroups/mg,*"},
         "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS", "stands alone"),
        ({**BASE, "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": "mg-platform"}, "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS",
         "mg-platform"),
    ],
)
def test_errors_name_the_setting(env, name, fragment):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert raised.value.name == name
    assert name in str(raised.value) and fragment in str(raised.value)


def test_static_token_only_for_loopback():
    with pytest.raises(SettingsError, match="loopback") as raised:
        Settings.from_env({**BASE, "AML_LIFECYCLE_LOCAL_TOKEN": "secret-token-value"})
    assert "secret-token-value" not in str(raised.value)
    settings = Settings.from_env({**BASE, "AML_LIFECYCLE_LOCAL_TOKEN": "t", "AML_LIFECYCLE_ARM_ENDPOINT": "https://127.0.0.1:8443"})
    assert settings.arm_is_loopback
    assert "local_token" not in repr(settings)


@pytest.mark.parametrize("value, listed, watch_all, group", [
    ("", (), False, None),
    ("11111111-1111-4111-8111-111111111111, /subscriptions/22222222-2222-4222-8222-222222222222",
     ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"), False, None),
    (" * ", (), True, None),
    ("/providers/Microsoft.Management/managementGroups/mg-platform", (), False, "mg-platform"),
])
def test_watched_subscriptions_listed_every_readable_or_a_management_group(value, listed, watch_all, group):
    settings = Settings.from_env({**BASE, "AML_LIFECYCLE_WATCHED_SUBSCRIPTIONS": value})
    assert (settings.watched_subscriptions, settings.watch_all, settings.watched_management_group) == (
        listed, watch_all, group)
    assert settings.backfill_schedule == "0 30 3 * * *"
