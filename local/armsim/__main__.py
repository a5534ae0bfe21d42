"""Command line: start the simulator, print one JSON ready line, serve until SIGTERM/SIGINT."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from . import certs
from .server import Simulator, serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.armsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 = a free one")
    parser.add_argument("--scenario", type=Path, help="scenario JSON to seed (e.g. local/scenarios/demo.json)")
    parser.add_argument("--state-dir", type=Path, required=True, help="directory for the CA, server cert and state dump")
    parser.add_argument("--token", required=True, help="the bearer token ARM calls must carry")
    parser.add_argument("--topic-key", help="aeg-sas-key of the Event Grid topics (default: the token)")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on LRO answers")
    parser.add_argument("--polls", type=int, default=2, help="in-progress polls before an LRO finishes")
    parser.add_argument("--delivery-retry-delays", default="0.05,0.1,0.2,0.4",
                        help="comma list of seconds between event delivery attempts")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("armsim only binds to loopback")
    scenario = json.loads(args.scenario.read_text()) if args.scenario else None
    tls = certs.generate(args.state_dir)
    delays = tuple(float(x) for x in args.delivery_retry_delays.split(",") if x.strip())
    sim = Simulator(token=args.token, scenario=scenario, topic_key=args.topic_key, retry_after=args.retry_after,
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
