"""Run inside a fresh network and mount namespace (see test_vantage.py): this host's resolver is
127.0.0.1:53, where a DNS stub answers two ``sim.test`` names or, with ``--no-resolver``, nothing listens.

A target on 127.0.0.1 answers 503 (the Service down). Prints, as JSON, the target's sample as the
daemon would store it, judged with two control targets: TCP to an IP address, and a DNS lookup
through the system resolver."""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json

from aiohttp import web

from loopback import DnsStub  # this script's folder (tests/) is on sys.path
from monitor import clock
from monitor.config.models import VantageHealthConfig
from monitor.checks.http import HttpProbe
from monitor.live.vantage import VantageHealth
from monitor.probes import ProbeContext, run_probe


async def main(resolver: bool) -> None:
    if resolver:
        names = {"eu-west.sim.test.": ["127.0.0.1"], "control.sim.test.": ["127.0.0.1"]}
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: DnsStub(names), local_addr=("127.0.0.1", 53))
    app = web.Application()
    app.router.add_get("/{tail:.*}", lambda request: web.json_response({"status": "down"}, status=503))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    controls = VantageHealthConfig.model_validate({"min_ok": 1, "probes": [
        {"id": "control-ip", "kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": "1s"},
        {"id": "control-name", "kind": "dns", "name": "control.sim.test", "timeout": "1s"}]})
    ctx = ProbeContext(clock.SYSTEM)
    health = VantageHealth(controls, ctx, "isolated")
    target = HttpProbe(id="eu-west-widget", kind="http", url=f"http://eu-west.sim.test:{port}/health", timeout=2000)
    sample = await run_probe(target, ctx, "isolated")
    judged = await health.review(target, sample)
    await ctx.close()
    await runner.cleanup()
    print(json.dumps({"probe_saw": dataclasses.asdict(sample), "stored": dataclasses.asdict(judged),
                      "verdict": dataclasses.asdict(health.last)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-resolver", action="store_true")
    asyncio.run(main(not parser.parse_args().no_resolver))
