"""The Functions app object: registers the blueprint of each handlers/ module, and starts telemetry when configured."""

import azure.durable_functions as df
import azure.functions as func

from handlers import (
    alert_notifier,
    coverage,
    health,
    inventory,
    move_cancel,
    move_orchestration,
    move_validation,
    move_workload,
    moves,
    names,
    retention,
    retention_purge,
    retention_sweep,
    validation_orchestration,
    workspace_events,
)
from shared import telemetry

# Each route sets its own level (handlers.http.route_auth_level: ANONYMOUS behind App Service Authentication with
# AML_LIFECYCLE_AUTH=entra, FUNCTION with keys); this default covers none of them.
app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(alert_notifier.bp)
app.register_functions(coverage.bp)
app.register_functions(health.bp)
app.register_functions(inventory.bp)
app.register_functions(move_cancel.bp)
app.register_functions(move_orchestration.bp)
app.register_functions(move_validation.bp)
app.register_functions(move_workload.bp)
app.register_functions(moves.bp)
app.register_functions(names.bp)
app.register_functions(retention.bp)
app.register_functions(retention_purge.bp)
app.register_functions(retention_sweep.bp)
app.register_functions(validation_orchestration.bp)
app.register_functions(workspace_events.bp)

# Azure Monitor, once at start, when APPLICATIONINSIGHTS_CONNECTION_STRING is set (shared/telemetry.py).
telemetry.configure()
