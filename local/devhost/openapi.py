"""Serves the app's OpenAPI document at `<prefix>/openapi.yaml` and `<prefix>/openapi.json` (anonymous, GET/HEAD)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from aiohttp import web

log = logging.getLogger("devhost.openapi")

DOCUMENT_NAMES = {"openapi.yaml": "yaml", "openapi.json": "json"}


class OpenApiDocument:
    """One YAML (or JSON) file, read on every request so edits show without a restart."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @staticmethod
    def format_of(relative_path: str) -> str | None:
        """`yaml` / `json` for the document's own paths (relative to the route prefix), else None."""
        return DOCUMENT_NAMES.get(relative_path.strip("/").lower())

    def response(self, kind: str) -> web.Response:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return web.Response(status=404, text=f"no OpenAPI document at {self.path}")
        if kind == "yaml":
            return web.Response(text=text, content_type="application/yaml")
        try:
            import yaml

            document = yaml.safe_load(text)
        except Exception as error:  # a broken file is the developer's to fix: say why, do not crash
            log.error("%s does not parse: %s", self.path, error)
            return web.Response(status=500, text=f"{self.path.name} does not parse: {error}")
        return web.Response(text=json.dumps(document, default=str, indent=2), content_type="application/json")
