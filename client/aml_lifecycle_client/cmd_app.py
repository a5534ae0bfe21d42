"""`coverage` (which subscriptions are watched and wired) and `health` (is the app and what it needs up)."""

from __future__ import annotations

import click

from aml_lifecycle_client import exits
from aml_lifecycle_client.context import Run, common

COVERAGE_COLUMNS = [("subscription", "subscriptionId"), ("name", "displayName"), ("status", "status"),
                    ("detail", "detail")]


@click.command()
@common
def coverage(run: Run) -> None:
    """Which subscriptions are watched, and do they send workspace events to the app? Exit 1 when one does not."""
    body = run.api.call("GET", "/api/coverage").body or {}
    title = (f"watched ({body.get('mode')}): {len(body.get('wired') or [])} wired, "
             f"{len(body.get('missing') or [])} missing, {len(body.get('unknown') or [])} unknown · "
             f"{len(body.get('notWatched') or [])} readable but not watched")
    run.emit(body, COVERAGE_COLUMNS, rows="subscriptions", title=title)
    for error in body.get("errors") or ():
        click.echo(f"warning: {error}", err=True)
    if body.get("missing") or body.get("unknown"):
        raise SystemExit(exits.FAILED)


@click.command()
@common
def health(run: Run) -> None:
    """Can the app reach its storage, ARM and its identity? Exit 0 healthy, 1 unhealthy."""
    answer = run.api.call("GET", "/api/health", accept=(200, 503))
    body = answer.body or {}
    checks = [{"part": name, **(value if isinstance(value, dict) else {"status": value})}
              for name, value in (body.get("checks") or {}).items()]
    run.emit({**body, "parts": checks}, [("part", "part"), ("status", "status"), ("detail", "detail")],
             rows="parts", title=f"app: {body.get('status')}")
    if answer.status != 200:
        raise SystemExit(exits.FAILED)
