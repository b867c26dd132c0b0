"""A fixed event and destinations for payload fixtures, and a recording receiver that can fail."""
from __future__ import annotations

import json

from aiohttp import web
from pydantic import TypeAdapter

from monitor.destinations import Destination
from monitor.event import Event
from monitor.hooks import events

import results

NOW = 1793700600000  # 2026-11-03T10:10:00Z
OPENED = events.outage_opened("eu-west", 1793700000000, NOW)  # since 10:00
RESOLVED = events.outage_resolved("eu-west", 1793700000000, NOW + 1_200_000)
DEST = TypeAdapter(Destination)


def destination(type_: str, url: str = "http://127.0.0.1:9/hook", **extra):
    return DEST.validate_python({"name": f"{type_}-1", "type": type_, "url": url, **extra})


class Receiver:
    """Records every POST; answers ``fail_with`` for the first ``failures`` requests."""

    def __init__(self, fail_with: int = 503, failures: int = 0):
        self.fail_with, self.failures = fail_with, failures
        self.received: list[dict] = []
        self.attempts = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if self.attempts <= self.failures:
            return web.Response(status=self.fail_with, text="not now")
        self.received.append({"headers": dict(request.headers), "body": json.loads(body), "raw": body})
        return web.Response(status=202 if request.path.endswith("enqueue") else 200, text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app


def catalogue(now: int = NOW, reason: str = "database upgrade") -> list:
    """One event of every type the daemon and `hooks test` produce, as they produce them."""
    from monitor.hooks import detect
    from monitor.sla.model import MaintenanceWindow, Policy

    start = now - 1_200_000
    window = MaintenanceWindow(7, "eu-west", start, now + 600_000, "scheduled", start - 86_400_000, reason)
    # eu-west: an open counted outage with 10 budget minutes left and an open P1; us-east: breached.
    report = results.month(
        results.region("eu-west", downtime_ms=int(33.2 * 60_000),
                       periods=(results.open_period("2026-11-03T09:50:00Z", "2026-11-03T10:10:00Z"),),
                       incidents=(results.incident("eu-west/region/2026-11-03T09:50:00Z", "P1",
                                                   "2026-11-03T08:50:00Z"),)),
        results.region("us-east", downtime_ms=60 * 60_000, credit_percent=10))
    found = [events.outage_opened("eu-west", start, now), events.outage_resolved("eu-west", start, now + 60_000),
             events.third_party("genesys-euw1", "Genesys Cloud", True, now, start),
             events.third_party("genesys-euw1", "Genesys Cloud", False, now + 60_000, start),
             events.vantage_health("local", False, start, now, "0/2 control targets ok"),
             events.vantage_health("local", True, start, now + 60_000, "2/2 control targets ok"),
             events.certificate("eu-west-tls", "eu-west", now + 5 * 86_400_000, True, now,
                                "tls: certificate expires in 5.0 days (min_cert_days 14)", start),
             events.certificate("eu-west-tls", "eu-west", now + 5 * 86_400_000, False, now + 60_000,
                                "now valid until 2027-02-01T00:00:00Z", start)]
    found += detect.from_result(report, Policy(), [50, 75, 90, 100], 30, now)
    found += detect.incident_updates(report, now)
    found.append(events.incident_updated("eu-west", start, "identified", reason, now, "ops"))
    found += detect.from_maintenance([window], Policy(), now)
    found += detect.from_maintenance([window], Policy(), now + 700_000)
    found.append(events.evidence_month_closed("2026-10", 1234, "4bef0b72951d1f82bf2a937a4bef0f50010f9f85b4cc3269ca8d984a70256546",
                                              True, "https://sla.example.org", now))
    found += [Event(f"test:{now}", "test", f"sla-monitor/test/{now}", "info", now, None, "test event"),
              Event(f"test.resolved:{now}", "test.resolved", f"sla-monitor/test/{now}", "info", now, None,
                           "test event: resolved")]
    return found


async def hooks_test_via_cli(tmp_path, destination: str, name: str, routes: str = ""):
    """`sla-monitor hooks test NAME` through the CLI, against a recording loopback receiver.
    ``destination`` is one YAML flow mapping in which ``{url}`` stands for the receiver's base URL.
    Returns (exit code, receiver, config path)."""
    import asyncio
    from pathlib import Path

    from monitor.cli import main
    from loopback import start_app

    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    config = tmp_path / "hooks.yaml"
    spec = (Path(__file__).parent / "fixtures" / "spec.yaml").read_text()
    config.write_text(spec + "\nhooks:\n  destinations:\n    - " + destination.replace("{url}", f"http://127.0.0.1:{port}")
                      + "\n" + (f"  routes:\n    - {routes}\n" if routes else ""))
    try:
        code = await asyncio.to_thread(main, ["--config", str(config), "--db", str(tmp_path / "h.db"), "hooks",
                                              "test", name])
    finally:
        await runner.cleanup()
    return code, receiver, config
