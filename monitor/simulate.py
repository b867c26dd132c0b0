"""A simulated TrueEngage fleet (on 127.0.0.1 unless told otherwise), for the demo and the tests.

Targets (ports as in config/demo.yaml): regional deployments (widget + API), a Management Panel,
a Genesys-Cloud-like API, a Vonage-like TCP endpoint, the monitor's control target (what it
checks to know that its own network works), and TrueEngage's own status page, which posts eu-west's
outages late and every second one never. Each target has a mode:
``up``, ``down`` (HTTP 503 / connection refused for TCP), ``refuse`` (not listening: connection
refused), ``slow`` (answers after ``slow_s``), ``hang`` (accepts, never answers) or ``flap``
(alternates up/down every ``flap_s`` seconds).

A script changes modes over time (a region down for a few minutes every so often, a slow
endpoint, a flapping one). Tests and people can also set a mode by hand:
``POST /_sim/TARGET {"mode": "down"}`` on the control port, ``GET /_sim`` lists them.

    python -m monitor.simulate [--script demo|none] [--control-port 18099]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Sequence

from aiohttp import web

MODES = ("up", "down", "refuse", "slow", "hang", "flap")


@dataclass
class Target:
    name: str
    port: int
    kind: str = "http"  # http, tcp, or statuspage (an Atlassian Statuspage API with one component: the target)
    mode: str = "up"
    slow_s: float = 2.0
    flap_s: float = 30.0
    hits: int = 0
    refused_vantages: set[str] = field(default_factory=set)  # these vantages get 503 (by their User-Agent)
    # kind "vendor-status": the vendor's own status page, following the target ``follows`` (its
    # component ``component``): each outage posted ``lag_s`` after it began, every second one never.
    follows: str = ""
    component: str = ""
    lag_s: float = 90.0
    posts: list[dict] = field(default_factory=list)

    def is_down(self) -> bool:
        if self.mode == "flap":
            return int(time.monotonic() / self.flap_s) % 2 == 1
        return self.mode in ("down", "refuse")


@dataclass
class Fleet:
    targets: dict[str, Target] = field(default_factory=dict)
    runners: list = field(default_factory=list)
    servers: dict[str, asyncio.AbstractServer] = field(default_factory=dict)
    host: str = "127.0.0.1"  # 0.0.0.0 in a container, where the vantages reach it by its service name

    def add(self, target: Target) -> None:
        self.targets[target.name] = target

    async def start(self, control_port: int) -> None:
        """Start every target (port 0: any free port, written back to ``target.port``) and the control API."""
        for target in self.targets.values():
            if target.kind in ("http", "statuspage", "vendor-status"):
                await self._http(target)
            else:
                await self._tcp(target)
            if target.kind == "vendor-status":
                self.runners.append(asyncio.create_task(self._post_late(target, self.targets[target.follows])))
        self.control_port = await self._serve(_control_app(self), control_port)

    async def _serve(self, app: web.Application, port: int) -> int:
        # A short shutdown timeout: "hang" handlers never finish on their own.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port)
        await site.start()
        self.runners.append(runner)
        return runner.addresses[0][1]

    async def _http(self, target: Target) -> None:
        """HTTP targets answer in their mode; in ``refuse`` they stop listening (connection refused)."""
        runner = web.AppRunner(_target_app(target), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        first = web.TCPSite(runner, self.host, target.port)
        await first.start()
        target.port = runner.addresses[0][1]
        site: web.TCPSite | None = first  # None while the target refuses connections
        self.runners.append(runner)

        async def follow_mode() -> None:
            nonlocal site
            while True:
                if target.mode == "refuse" and site is not None:
                    await site.stop()
                    site = None
                elif target.mode != "refuse" and site is None:
                    site = web.TCPSite(runner, self.host, target.port)
                    await site.start()
                await asyncio.sleep(0.05)

        self.runners.append(asyncio.create_task(follow_mode()))

    async def _tcp(self, target: Target) -> None:
        """TCP targets are up by listening and down by not listening (connection refused)."""
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            target.hits += 1
            if target.mode == "hang":
                await asyncio.sleep(3600)
            writer.close()

        async def follow_mode() -> None:
            while True:
                listening = target.name in self.servers
                if target.is_down() and listening:
                    server = self.servers.pop(target.name)
                    server.close()
                elif not target.is_down() and not listening:
                    self.servers[target.name] = await asyncio.start_server(handler, self.host, target.port)
                await asyncio.sleep(0.05)

        server = await asyncio.start_server(handler, self.host, target.port)
        target.port = server.sockets[0].getsockname()[1]
        self.servers[target.name] = server
        self.runners.append(asyncio.create_task(follow_mode()))

    async def _post_late(self, page: Target, region: Target) -> None:
        """The vendor's page posting ``region``'s outages: late, and every second one never."""
        outages, since, posted = 0, 0.0, None  # since: when the outage began (0: none now)
        while True:
            now = time.time()
            if region.is_down() and not since:
                since, outages = now, outages + 1
            elif region.is_down() and posted is None and outages % 2 == 1 and now - since >= page.lag_s:
                posted = _post(page, len(page.posts) + 1, now)
                page.posts.insert(0, posted)
            elif not region.is_down() and since:
                if posted is not None:
                    posted.update(status="resolved", resolved_at=_stamp(now))
                since, posted = 0.0, None
            await asyncio.sleep(0.2)

    def set_mode(self, name: str, mode: str) -> None:
        if name not in self.targets or mode not in MODES:
            raise KeyError(name if name not in self.targets else mode)
        self.targets[name].mode = mode

    async def stop(self) -> None:
        for item in self.runners:  # the mode followers first: none may reopen a site being cleaned up
            if isinstance(item, asyncio.Task):
                item.cancel()
        for item in self.runners:
            if not isinstance(item, asyncio.Task):
                await item.cleanup()
        for server in self.servers.values():
            server.close()


def _target_app(target: Target) -> web.Application:
    async def any_path(request: web.Request) -> web.StreamResponse:
        target.hits += 1
        if target.mode == "refuse" and request.transport is not None:
            request.transport.abort()  # a kept-alive connection fails like a new one would
            return web.Response(status=503)
        agent = request.headers.get("User-Agent", "")
        if any(agent.endswith(f"(vantage {v})") for v in target.refused_vantages):
            return web.json_response({"status": "unavailable from your network"}, status=503)
        if target.mode == "hang":
            await asyncio.sleep(3600)
        if target.mode == "slow":
            await asyncio.sleep(target.slow_s)
        if target.kind == "statuspage":
            return web.json_response(_statuspage_summary(target))
        if target.kind == "vendor-status":
            return web.json_response({"page": {"id": "trueengage", "name": "TrueEngage"}, "incidents": target.posts})
        if target.is_down():
            return web.json_response({"status": "unavailable"}, status=503)
        return web.json_response({"status": "ok", "target": target.name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_path)
    return app


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"


def _post(page: Target, number: int, now: float) -> dict:
    """An incident as Statuspage's incidents.json lists it, posted now (and said to have started now)."""
    ident = f"sim-{number}"
    return {"id": ident, "name": f"Degraded service in {page.component}", "status": "investigating",
            "impact": "minor", "created_at": _stamp(now), "started_at": _stamp(now), "resolved_at": None,
            "shortlink": f"http://127.0.0.1:{page.port}/incidents/{ident}",
            "components": [{"id": f"cmp-{page.component}", "name": page.component, "status": "degraded_performance"}]}


def _statuspage_summary(target: Target) -> dict:
    """A Statuspage summary.json whose one component (named like the target) follows the target's mode."""
    component = {"id": f"cmp-{target.name}", "name": target.name,
                 "status": "major_outage" if target.is_down() else "operational"}
    incidents = [{"id": f"inc-{target.name}", "name": f"{target.name} unavailable", "status": "investigating",
                  "shortlink": f"http://127.0.0.1:{target.port}/incidents/inc-{target.name}",
                  "components": [component]}] if target.is_down() else []
    return {"page": {"id": "sim", "name": target.name}, "components": [component], "incidents": incidents,
            "status": {"indicator": "major" if incidents else "none"}}


def _control_app(fleet: Fleet) -> web.Application:
    async def listing(request: web.Request) -> web.Response:
        return web.json_response({name: {"port": t.port, "kind": t.kind, "mode": t.mode, "hits": t.hits,
                                         "refuse_vantages": sorted(t.refused_vantages)}
                                  for name, t in fleet.targets.items()})

    async def set_mode(request: web.Request) -> web.Response:
        """{"mode": MODE} sets a target's mode; {"refuse_vantages": [NAME, …]} refuses those vantages only."""
        body = await request.json()
        name = request.match_info["name"]
        try:
            if "refuse_vantages" in body:
                fleet.targets[name].refused_vantages = set(body["refuse_vantages"])
            if "mode" in body:
                fleet.set_mode(name, body["mode"])
        except KeyError as exc:
            return web.json_response({"error": f"unknown target or mode {exc}"}, status=400)
        target = fleet.targets[name]
        return web.json_response({"target": name, "mode": target.mode, "refuse_vantages": sorted(target.refused_vantages)})

    app = web.Application()
    app.router.add_get("/_sim", listing)
    app.router.add_post("/_sim/{name}", set_mode)
    return app


def demo_fleet() -> Fleet:
    """The targets config/demo.yaml probes."""
    fleet = Fleet()
    for target in (Target("eu-west", 18081), Target("us-east", 18082), Target("staging", 18083, flap_s=20),
                   Target("eu-west-panel", 18089), Target("genesys-euw1", 18090, kind="statuspage"),
                   Target("vonage", 18091, kind="tcp"), Target("control", 18098),
                   Target("trueengage-status", 18092, kind="vendor-status", follows="eu-west", component="EU West")):
        fleet.add(target)
    return fleet


# The demo script, one cycle of 12 minutes, repeating: (minute offset, target, mode).
DEMO_SCRIPT = [
    (0.0, "staging", "flap"),
    (1.0, "eu-west", "down"),      # 3 minutes down: crosses the demo's 2-minute threshold
    (4.0, "eu-west", "up"),
    (5.0, "us-east", "slow"),      # slower than its max_latency: down while slow
    (6.0, "us-east", "up"),
    (7.0, "genesys-euw1", "down"),  # Genesys down with eu-west: excluded as third party
    (7.5, "eu-west", "down"),
    (10.0, "eu-west", "up"),
    (10.0, "genesys-euw1", "up"),
    (11.0, "eu-west-panel", "down"),  # the Management Panel (non-critical): a P2, region stays up
    (11.5, "eu-west-panel", "up"),
    # The monitor loses its own network: its control target and every target refuse. The time is
    # unknown (cause vantage_unhealthy), not downtime, and Genesys's feed being unreadable excludes nothing.
    (12.0, "control", "refuse"),
    (12.0, "eu-west", "refuse"),
    (12.0, "us-east", "refuse"),
    (12.0, "genesys-euw1", "refuse"),
    (12.0, "vonage", "refuse"),
    (14.5, "control", "up"),
    (14.5, "eu-west", "up"),
    (14.5, "us-east", "up"),
    (14.5, "genesys-euw1", "up"),
    (14.5, "vonage", "up"),
]
CYCLE_MINUTES = 15.0


async def run_script(fleet: Fleet, script: Sequence[tuple[float, str, str]] = DEMO_SCRIPT, cycle_minutes: float = CYCLE_MINUTES,
                     minute_s: float = 60.0) -> None:
    """Apply the script's modes at their offsets, cycle after cycle, until cancelled."""
    while True:
        started = time.monotonic()
        for offset, name, mode in script:
            delay = started + offset * minute_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            fleet.set_mode(name, mode)
            print(f"simulate: {name} → {mode}", flush=True)
        await asyncio.sleep(max(0.0, started + cycle_minutes * minute_s - time.monotonic()))


async def main_async(script: str, control_port: int, host: str = "127.0.0.1") -> None:
    fleet = demo_fleet()
    fleet.host = host
    await fleet.start(control_port)
    print(f"simulate: fleet up on {host} ({', '.join(f'{t.name}:{t.port}' for t in fleet.targets.values())}); "
          f"control http://127.0.0.1:{control_port}/_sim", flush=True)
    task = asyncio.create_task(run_script(fleet)) if script == "demo" else None
    try:
        await asyncio.Event().wait()
    finally:
        if task:
            task.cancel()
        await fleet.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", choices=["demo", "none"], default="demo")
    parser.add_argument("--control-port", type=int, default=18099)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args.script, args.control_port, args.host))


if __name__ == "__main__":
    main()
