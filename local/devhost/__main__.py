"""CLI: `python -m local.devhost --app function_app:app --port 7071 [--settings local.settings.json]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from local.devhost import jsonlog, settings
from local.devhost.app_loader import import_app
from local.devhost.easyauth import EasyAuth
from local.devhost.server import DevHost

log = logging.getLogger("devhost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.devhost",
                                     description="Development Functions host for a Python v2-model app.")
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the app object")
    parser.add_argument("--app-dir", default=".", help="directory holding the app (host.json, sys.path entry)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    parser.add_argument("--port", type=int, default=7071, help="port (0 picks a free one)")
    parser.add_argument("--settings", default=None,
                        help="local.settings.json whose Values fill unset environment variables "
                             "(default: <app-dir>/local.settings.json if present)")
    parser.add_argument("--openapi", default=None,
                        help="OpenAPI document served anonymously at /api/openapi.yaml and /api/openapi.json "
                             "(default: <app-dir>/openapi.yaml; not served while the file is absent)")
    parser.add_argument("--log-level", default=os.environ.get("DEVHOST_LOG_LEVEL", "INFO"))
    parser.add_argument("--log-format", choices=("text", "json"), default=os.environ.get("DEVHOST_LOG_FORMAT", "text"),
                        help="json: one JSON object per line with the structured fields of each log call "
                             "(what Application Insights stores as customDimensions)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> int:
    app_dir = Path(args.app_dir).resolve()
    settings_file = args.settings or (app_dir / "local.settings.json")
    settings.apply_to_environment(settings.load_settings_file(settings_file))
    os.environ.setdefault("AzureWebJobsScriptRoot", str(app_dir))
    host_config = settings.read_host_json(app_dir)
    keys = settings.HostKeys.from_environment()
    key = keys.function
    for generated, name in ((key.generated, settings.FUNCTION_KEY_SETTING),
                            (keys.master_generated, settings.MASTER_KEY_SETTING)):
        if generated:  # the value goes to the ready line on stdout only, never to the log
            log.warning("%s is not set; generated one for this run (see the ready line)", name)
    mode, easyauth, signin = sign_in(app_dir)
    app = import_app(args.app, app_dir)
    host = DevHost(app, function_key=key, keys=keys, storage_connection=os.environ.get(settings.STORAGE_SETTING),
                   hub_name=settings.task_hub_name(host_config), route_prefix=settings.route_prefix(host_config),
                   openapi=Path(args.openapi).resolve() if args.openapi else app_dir / "openapi.yaml",
                   easyauth=easyauth)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    url = await host.start(args.host, args.port)
    # As App Service does (its WEBSITE_HOSTNAME variable): the app builds absolute URLs (alerts' statusUrl) from it.
    os.environ.setdefault("WEBSITE_HOSTNAME", url.split("://", 1)[-1].rstrip("/"))
    ready = {"url": url, "rpcUrl": f"http://127.0.0.1:{host.rpc_port}/durabletask/", **keys.ready_fields(),
             "auth": mode, **signin, "functions": host.describe(url)}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    log.info("development host for %s listening on %s (%d functions)", args.app, url, len(host.index.functions))
    try:
        await stopping.wait()
    finally:
        log.info("stopping")
        await host.stop()
    return 0


def sign_in(app_dir: Path) -> tuple[str, EasyAuth | None, dict]:
    """AML_LIFECYCLE_AUTH, read as the app reads it. With `entra`: a signing key generated now, written to the
    issuer file for `python -m local.token`, App Service Authentication in front of /api, and WEBSITE_AUTH_ENABLED
    set as the platform sets it. With `keys`: no principal headers are believed (WEBSITE_AUTH_ENABLED removed)."""
    from local.issuer import LocalIssuer, issuer_file
    from shared.auth import ENTRA, PLATFORM_AUTH_SETTING, auth_mode

    mode = auth_mode()
    if mode != ENTRA:
        os.environ.pop(PLATFORM_AUTH_SETTING, None)
        return mode, None, {}
    issuer = LocalIssuer.generate()
    path = issuer.write(issuer_file())
    os.environ[PLATFORM_AUTH_SETTING] = "True"
    return mode, EasyAuth(issuer), {"issuerFile": str(path), "issuer": issuer.issuer, "audience": issuer.audience}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    jsonlog.configure(args.log_level, sys.stderr, args.log_format)
    logging.getLogger("azure").setLevel(logging.WARNING)
    code = asyncio.run(serve(args))
    # Sync functions still running in worker threads would hold the interpreter open; their durable work is
    # committed per episode and re-runs on the next start, so leave without joining them.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
