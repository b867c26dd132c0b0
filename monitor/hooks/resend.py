"""Alertmanager resends: while a condition holds, its alert is re-posted every ``resend_interval``
with ``endsAt`` ahead, as Prometheus does, so that Alertmanager's ``resolve_timeout`` never ends a
live outage. The conditions come from the live state (restored on start, ``live/conditions.py``), not from the
outbox: after a restart the alerts of what still holds are re-posted with their original labels and
start."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import aiohttp

from ..clock import Clock
from ..config.models import HooksConfig
from ..event import Event
from . import alertmanager
from .events import routes_for

log = logging.getLogger("sla_monitor.hooks")


class Resender:
    def __init__(self, hooks_cfg: HooksConfig, conditions: Callable[[int], list[Event]], clock: Clock):
        self.clock = clock
        self.destinations = [d for d in hooks_cfg.destinations if d.type == "alertmanager"]
        self.routes = hooks_cfg.routes
        self.conditions = conditions
        self.due_ms: dict[str, int] = {}
        self.sent = 0  # alerts re-posted (for tests and the log)

    async def run(self) -> None:
        """Resend until cancelled; a failed resend is retried at the next interval (it is idempotent)."""
        if not self.destinations:
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            while True:
                await self.resend_due(session)
                await asyncio.sleep(min(d.resend_interval for d in self.destinations) / 1000 / 4)

    async def resend_due(self, session: aiohttp.ClientSession) -> None:
        now = self.clock.now_ms()
        for dest in self.destinations:
            if now < self.due_ms.get(dest.name, 0):
                continue
            self.due_ms[dest.name] = now + dest.resend_interval
            chosen = [e for e in self.conditions(now) if dest.name in routes_for(e, self.routes)]
            if not chosen:
                continue
            result = await alertmanager.send(session, dest, alertmanager.build_resend(chosen, dest, now),
                                             dict(dest.headers))
            if result.ok:
                self.sent += len(chosen)
            else:
                log.warning("event=hook_resend_failed destination=%s alerts=%d error=%r", dest.name, len(chosen),
                            result.error)
