"""Command line: start the simulator, print one JSON ready line, serve until SIGTERM/SIGINT.

Secrets never go on the command line (any local user can read it with `ps`): the bearer token comes from the
ARMSIM_TOKEN environment variable, the topics' key from ARMSIM_TOPIC_KEY (default: the token), or each from a file
only its owner can read (`--token-file`, `--topic-key-file`; refused if group or others may read it).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import stat
import sys
from pathlib import Path

from . import certs
from .server import Simulator, serve

TOKEN_ENV = "ARMSIM_TOKEN"
TOPIC_KEY_ENV = "ARMSIM_TOPIC_KEY"


def read_secret(file: Path | None, variable: str, environ: dict | None = None) -> str | None:
    """The secret from its file (owner-only permissions required) or else its environment variable; None if neither."""
    environ = os.environ if environ is None else environ
    if file is not None:
        mode = file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SystemExit(f"{file}: readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        value = file.read_text(encoding="utf-8").strip()
        return value or None
    return (environ.get(variable) or "").strip() or None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.armsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 = a free one")
    parser.add_argument("--scenario", type=Path, help="scenario JSON to seed (e.g. local/scenarios/demo.json)")
    parser.add_argument("--state-dir", type=Path, required=True, help="directory for the CA, server cert and state dump")
    parser.add_argument("--token-file", type=Path, help=f"file (mode 0600) holding the bearer token ARM calls must "
                                                         f"carry; default: the {TOKEN_ENV} environment variable")
    parser.add_argument("--topic-key-file", type=Path, help=f"file (mode 0600) holding the topics' aeg-sas-key; "
                                                             f"default: {TOPIC_KEY_ENV}, else the token")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on LRO answers")
    parser.add_argument("--polls", type=int, default=2, help="in-progress polls before an LRO finishes")
    parser.add_argument("--delivery-retry-delays", default="0.05,0.1,0.2,0.4",
                        help="comma list of seconds between event delivery attempts")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("armsim only binds to loopback")
    token = read_secret(args.token_file, TOKEN_ENV)
    if not token:
        raise SystemExit(f"no bearer token: set {TOKEN_ENV} or pass --token-file (never the token itself)")
    topic_key = read_secret(args.topic_key_file, TOPIC_KEY_ENV)
    scenario = json.loads(args.scenario.read_text()) if args.scenario else None
    tls = certs.generate(args.state_dir)
    delays = tuple(float(x) for x in args.delivery_retry_delays.split(",") if x.strip())
    sim = Simulator(token=token, scenario=scenario, topic_key=topic_key, retry_after=args.retry_after,
                    polls=args.polls, state_dir=args.state_dir, delivery_retry_delays=delays)
    runner = await serve(sim, host="127.0.0.1" if args.host == "localhost" else args.host, port=args.port,
                         ssl_context=tls.server_context())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready = {"url": sim.base_url, "caBundle": str(tls.ca_pem.resolve()), "pid": os.getpid()}
    (args.state_dir / "ready.json").write_text(json.dumps(ready))
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
