"""Absolute links to the app's own routes, for messages that leave a request (alerts): from WEBSITE_HOSTNAME."""

from __future__ import annotations

import os
import urllib.parse


def app_url(path: str) -> str:
    """`https://<WEBSITE_HOSTNAME><path>`; the bare path when the host name is unknown.

    WEBSITE_HOSTNAME is set by the platform ("Environment variables and app settings in Azure App Service", which
    Functions apps run on: "primary host name for the app"); the dev host sets it to its loopback address (http).
    """
    host = (os.environ.get("WEBSITE_HOSTNAME") or "").strip().rstrip("/")
    if not host:
        return path
    scheme = "http" if host.split(":", 1)[0] in ("127.0.0.1", "localhost", "::1", "[::1]") else "https"
    return f"{scheme}://{host}{path}"


def base_of(request_url: str) -> str:
    """`scheme://host[:port]` of a request URL: every `statusUrl` the API returns is absolute."""
    parts = urllib.parse.urlsplit(request_url)
    return f"{parts.scheme}://{parts.netloc}"
