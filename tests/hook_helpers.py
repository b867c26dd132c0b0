"""A fixed event and destinations for payload fixtures, and a recording receiver that can fail."""
from __future__ import annotations

import json

from aiohttp import web
from pydantic import TypeAdapter

from monitor.config.destinations import Destination
from monitor.hooks import events

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
