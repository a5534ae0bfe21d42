"""Starts Azurite (the pinned npm package) on free loopback ports with a temp location, and stops it by PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from local.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
# Azurite's documented development account; a public well-known value, not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_binary(name: str = "azurite") -> str:
    local = ROOT / "node_modules" / ".bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: run `npm ci` in {ROOT} (Azurite is pinned in package.json)")
    return found


@dataclass
class RunningAzurite:
    """A running Azurite: its ports, connection string, and how to stop it."""

    process: subprocess.Popen
    location: str
    ports: dict[str, int]
    _owned_location: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def connection_string(self) -> str:
        parts = ["DefaultEndpointsProtocol=http", f"AccountName={ACCOUNT}", f"AccountKey={ACCOUNT_KEY}"]
        for service, port in self.ports.items():
            parts.append(f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/{ACCOUNT}")
        return ";".join(parts) + ";"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self._owned_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> "RunningAzurite":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_azurite(
    location: str | None = None,
    *,
    services: tuple[str, ...] = ("table",),
    ports: dict[str, int] | None = None,
    timeout: float = 30.0,
    log_file: str | None = None,
    debug_log: str | None = None,
    in_memory: bool = False,
) -> RunningAzurite:
    """Start Azurite for the given services ('blob', 'queue', 'table') on loopback and wait until it listens.

    `debug_log`: Azurite's own debug log (`--debug`), one `RequestMethod=` line per request it serves (benches count
    storage requests with it). `in_memory`: `--inMemoryPersistence` instead of a `--location` (benches only: on disk,
    Azurite's LokiJS store re-serializes the whole database every 5 s, a stall that grows with the data)."""
    owned = location is None
    location = location or tempfile.mkdtemp(prefix="azurite-")
    chosen = {service: (ports or {}).get(service) or free_port() for service in services}
    if services == ("table",):
        args = [azurite_binary("azurite-table"), "--tableHost", "127.0.0.1", "--tablePort", str(chosen["table"])]
    else:
        args = [azurite_binary("azurite")]
        for service in ("blob", "queue", "table"):
            if service in chosen:
                args += [f"--{service}Host", "127.0.0.1", f"--{service}Port", str(chosen[service])]
            else:
                args += [f"--{service}Port", "0"]
    args += ["--inMemoryPersistence"] if in_memory else ["--location", location]
    args += ["--disableTelemetry", "--skipApiVersionCheck", "--loose"]
    if debug_log:
        args += ["--debug", debug_log]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = RunningAzurite(process, location, chosen, owned)
    try:
        for port in chosen.values():
            wait_for_port(port, timeout=timeout, process=process)
    except BaseException:
        running.stop()
        raise
    return running
