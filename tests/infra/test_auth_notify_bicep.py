"""Offline checks of the sign-in and notification infra: the app registration declares the roles the routes name,
App Service Authentication is on with Entra (no client secret), AML_LIFECYCLE_AUTH follows one parameter, and the
alerts topic reaches the notifier with retries and dead-lettering, the webhook URL kept as a secret."""

from __future__ import annotations

import json
from typing import Any

from shared.auth import APP_ROLES
from shared.azure import alerts
from tests.infra.conftest import INFRA, body, walk


def resource(parsed: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [found] = [r for r in parsed["resources"].values() if r["type"] == resource_type and not r["existing"]]
    return found


def test_the_app_registration_declares_every_role_the_routes_name(bicep: dict) -> None:
    parsed = bicep["app/app-registration.bicep"]
    assert "microsoftGraphV1" in parsed.get("extensions", {})
    app = body(resource(parsed, "Microsoft.Graph/applications"))
    assert app["signInAudience"] == "AzureADMyOrg" and app["api"]["requestedAccessTokenVersion"] == 2
    roles = app["appRoles"]["loop_statement"]["statements"] if "loop_statement" in app["appRoles"] else app["appRoles"]
    declared = {v for v in walk(bicep["app/app-registration.bicep"]["variables"]) if v in APP_ROLES}
    assert declared == set(APP_ROLES), declared
    assert "Application" in json.dumps(roles) and "User" in json.dumps(roles)
    principal = body(resource(parsed, "Microsoft.Graph/servicePrincipals"))
    assert principal["appRoleAssignmentRequired"] is True
    config = json.loads(json.dumps(parsed))
    assert "passwordCredentials" not in json.dumps(config)  # no client secret anywhere


def test_app_service_authentication_validates_entra_tokens_and_keeps_webhooks_reachable(bicep: dict) -> None:
    auth = body(resource(bicep["app/auth.bicep"], "Microsoft.Web/sites/config"))
    assert auth["name"] == "authsettingsV2"
    settings = auth["properties"]
    assert settings["platform"]["enabled"] is True
    assert settings["globalValidation"]["unauthenticatedClientAction"] == "AllowAnonymous"
    aad = settings["identityProviders"]["azureActiveDirectory"]
    assert aad["enabled"] is True and "v2.0" in json.dumps(aad["registration"]["openIdIssuer"])
    assert "clientSecretSettingName" not in json.dumps(aad)
    assert settings["httpSettings"]["requireHttps"] is True


def test_one_parameter_sets_the_mode_of_app_and_deployment(bicep: dict, bicep_text: dict) -> None:
    main = bicep["main.bicep"]
    assert main["parameters"]["authMode"]["default"] == "entra"
    assert "AML_LIFECYCLE_AUTH: authMode" in bicep_text["main.bicep"]
    modules = main["modules"]
    assert modules["appAuth"]["detail"]["path"] == "app/auth.bicep" and "condition" in modules["appAuth"]["config"]
    assert modules["appRegistration"]["detail"]["path"] == "app/app-registration.bicep"
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["authMode"]["value"] == "${AML_LIFECYCLE_AUTH=entra}"


def test_the_webhook_url_is_a_secret_setting_and_every_alert_type_reaches_the_notifier(bicep: dict,
                                                                                      bicep_text: dict) -> None:
    main = bicep["main.bicep"]
    webhook = main["parameters"]["alertWebhookUrl"]
    assert any("secure" in json.dumps(d) for d in webhook["decorators"])
    text = bicep_text["main.bicep"]
    assert "secretAppSettings: empty(alertWebhookUrl)" in text and "AML_LIFECYCLE_NOTIFY_WEBHOOK_URL: alertWebhookUrl" in text
    function_app = bicep["app/function-app.bicep"]["parameters"]["secretAppSettings"]
    assert any("secure" in json.dumps(d) for d in function_app["decorators"])

    subscription = body(resource(bicep["app/notifications.bicep"], "Microsoft.EventGrid/topics/eventSubscriptions"))
    properties = subscription["properties"]
    assert properties["eventDeliverySchema"] == "CloudEventSchemaV1_0"
    assert properties["destination"]["endpointType"] == "AzureFunction"
    types = set(properties["filter"]["includedEventTypes"])
    published = {getattr(alerts, n) for n in dir(alerts) if isinstance(getattr(alerts, n), str)
                 and getattr(alerts, n).startswith("AmlLifecycle.")}
    assert types == published
    assert properties["retryPolicy"]["maxDeliveryAttempts"] == "maxDeliveryAttempts"
    dead = properties["deadLetterWithResourceIdentity"]
    assert dead["identity"]["type"] == "SystemAssigned" and dead["deadLetterDestination"]["endpointType"] == "StorageBlob"
    assert "alerts-deadletter-rbac" in text or "alertsDeadLetterRbac" in text
