"""Output: `-o table` (rich, for people), `-o json` (the app's JSON), `-o tsv` (for shell pipelines), after
`--query` (JMESPath, as the az CLI applies it: to the JSON, before formatting)."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import click
import jmespath
from jmespath.exceptions import JMESPathError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aml_lifecycle_client.exits import USAGE, ClientError

FORMATS = ("table", "json", "tsv")
Column = tuple[str, str]  # (header, JMESPath of the value in one item)


def apply_query(data: Any, query: str | None) -> Any:
    if not query:
        return data
    try:
        return jmespath.search(query, data)
    except JMESPathError as exc:
        raise ClientError(f"--query is not a valid JMESPath expression: {exc}", USAGE) from None


def emit(data: Any, fmt: str, query: str | None, columns: Sequence[Column] | None = None, *,
         rows: str | None = None, title: str | None = None) -> None:
    """Print `data`. `rows` is the JMESPath of the list a table shows (`value`, `checks`), `columns` its columns;
    with --query the result is shown as it is (its own keys as columns)."""
    shaped = apply_query(data, query)
    if fmt == "json":
        click.echo(json.dumps(shaped, indent=2, ensure_ascii=False))
        return
    if not query and rows is not None:
        shaped = jmespath.search(rows, shaped) or []
    if fmt == "tsv":
        for line in _tsv(shaped, None if query else columns):
            click.echo(line)
        return
    _table(shaped, None if query else columns, title)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _items(data: Any, columns: Sequence[Column] | None) -> tuple[list[str], list[list[str]]]:
    if isinstance(data, dict):
        data = [data] if columns else [{"name": k, "value": v} for k, v in data.items()]
    if not isinstance(data, list):
        return ["value"], [[_cell(data)]]
    if columns:
        return [h for h, _ in columns], [[_cell(jmespath.search(e, item)) for _, e in columns] for item in data]
    if data and all(isinstance(item, dict) for item in data):
        headers: list[str] = []
        for item in data:
            headers.extend(k for k in item if k not in headers)
        return headers, [[_cell(item.get(h)) for h in headers] for item in data]
    if data and all(isinstance(item, list) for item in data):  # e.g. --query "value[].[name, state]"
        width = max(len(item) for item in data)
        return [f"{i + 1}" for i in range(width)], [[_cell(v) for v in item] for item in data]
    return ["value"], [[_cell(item)] for item in data]


def _tsv(data: Any, columns: Sequence[Column] | None) -> list[str]:
    _, rows = _items(data, columns)
    return ["\t".join(c.replace("\t", " ").replace("\n", " ") for c in row) for row in rows]


def _table(data: Any, columns: Sequence[Column] | None, title: str | None) -> None:
    headers, rows = _items(data, columns)
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
    if not rows:
        console.print(f"(nothing{' in ' + title if title else ''})")
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(escape(c) for c in row), style=_style(headers, row))
    console.print(table)


def _style(headers: list[str], row: list[str]) -> str | None:
    for header, value in zip(headers, row):
        if header.lower() in ("status", "state"):
            lowered = value.lower()
            if lowered in ("failed", "unhealthy", "missing", "inuse", "softdeleted"):
                return "red"
            if lowered in ("warning", "needsattention", "skipped", "unknown"):
                return "yellow"
    return None
