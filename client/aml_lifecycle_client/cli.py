"""The `aml-lifecycle` entry point: the command groups, and errors told as what to do (never a trace or a key)."""

from __future__ import annotations

import click

from aml_lifecycle_client import (
    cmd_pipeline,  # noqa: F401  (registers `move pipeline`)
    exits,
)
from aml_lifecycle_client.cmd_app import coverage, health
from aml_lifecycle_client.cmd_moves import move
from aml_lifecycle_client.cmd_retention import names, retention

EPILOG = """\b
Environment: AML_LIFECYCLE_ENDPOINT (the app's base URL), AML_LIFECYCLE_FUNCTION_KEY (a function key),
AML_LIFECYCLE_TOKEN (a bearer token) or AML_LIFECYCLE_SCOPE (sign in with azure-identity for that scope).
\b
Exit codes: 0 succeeded · 1 failed (move Failed, not ready, name taken, unhealthy) · 2 usage, configuration or
auth error · 3 needs attention · 4 still running when --wait gave up · 5 app unreachable or failing.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="aml-lifecycle-client")
def cli() -> None:
    """Soft-deleted Azure ML workspaces, name checks and workspace moves through an aml-lifecycle app."""


cli.add_command(retention)
cli.add_command(names)
cli.add_command(move)
cli.add_command(coverage)
cli.add_command(health)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the documented exit code."""
    try:
        cli.main(args=argv, prog_name="aml-lifecycle", standalone_mode=False)
    except exits.ClientError as error:
        click.echo(f"error: {error.message}", err=True)
        if error.hint:
            click.echo(f"  what to do: {error.hint}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return exits.USAGE
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else exits.OK
    except KeyboardInterrupt:
        click.echo("\ninterrupted: anything started goes on in the app (`aml-lifecycle move list`)", err=True)
        return 130
    except Exception as error:  # never a stack trace: say what broke and where to report it
        click.echo(f"error: unexpected {type(error).__name__}; rerun with -o json, and report it with the command "
                   "you ran (not the key)", err=True)
        return exits.UNREACHABLE
    return exits.OK
