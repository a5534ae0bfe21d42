"""Options every command takes (endpoint, credential, output, query) and the object that carries them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import click

from aml_lifecycle_client import output
from aml_lifecycle_client.api import Api
from aml_lifecycle_client.credentials import connect


@dataclass
class Run:
    endpoint: str | None
    function_key: str | None
    token: str | None
    scope: str | None
    fmt: str
    query: str | None
    _api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(connect(self.endpoint, self.function_key, self.token, self.scope))
        return self._api

    def emit(self, data: Any, columns: Sequence[output.Column] | None = None, *, rows: str | None = None,
             title: str | None = None) -> None:
        output.emit(data, self.fmt, self.query, columns, rows=rows, title=title)


def common(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --endpoint, --function-key, --token, --scope, -o and --query to a command; pass it a `run: Run`."""

    @click.option("--query", help="JMESPath applied to the JSON before output (as in the az CLI).")
    @click.option("-o", "--output", "fmt", type=click.Choice(output.FORMATS), default="table", show_default=True,
                  envvar="AML_LIFECYCLE_OUTPUT", help="table for people, json or tsv for scripts.")
    @click.option("--scope", help="Sign in with azure-identity for this scope [env AML_LIFECYCLE_SCOPE].")
    @click.option("--token", help="A bearer token for the app [env AML_LIFECYCLE_TOKEN]; prefer the variable.")
    @click.option("--function-key", help="A function key [env AML_LIFECYCLE_FUNCTION_KEY]; prefer the variable "
                                          "(a flag shows in the process list).")
    @click.option("--endpoint", help="The app's base URL [env AML_LIFECYCLE_ENDPOINT].")
    @functools.wraps(command)
    def wrapper(endpoint: str | None, function_key: str | None, token: str | None, scope: str | None, fmt: str,
                query: str | None, **kwargs: Any) -> Any:
        return command(Run(endpoint, function_key, token, scope, fmt, query), **kwargs)

    return wrapper
