"""Resends (Alertmanager's): while a condition holds, its alert is re-posted every ``resend_interval``
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
from ..destinations import Destination
from ..event import Event
from . import events
from .events import routes_for

log = logging.getLogger("sla_monitor.hooks")


class Resender:
    def __init__(self, hooks_cfg: HooksConfig, conditions: Callable[[int], list[Event]], clock: Clock):
        self.clock = clock
        self.destinations = [d for d in hooks_cfg.destinations if d.resend_interval_ms() is not None]
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
                await asyncio.sleep(min(self._interval(d) for d in self.destinations) / 1000 / 4)

    async def resend_due(self, session: aiohttp.ClientSession) -> None:
        now = self.clock.now_ms()
        for dest in self.destinations:
            if now < self.due_ms.get(dest.name, 0):
                continue
            self.due_ms[dest.name] = now + self._interval(dest)
            chosen = [e for e in self.conditions(now) if dest.name in routes_for(e, self.routes)]
            if not chosen:
                continue
            result = await dest.send(session, dest.build_resend(chosen, now), dict(dest.headers))
            if result.ok:
                self.sent += len(chosen)
            else:
                log.warning("event=hook_resend_failed destination=%s alerts=%d error=%r", dest.name, len(chosen),
                            result.error)

    @staticmethod
    def _interval(dest: Destination) -> int:
        return dest.resend_interval_ms() or 0  # only destinations that resend are kept


def posts_outages(hooks_cfg: HooksConfig, region: str) -> bool:
    """Whether a destination that receives the rules' own alerts (Alertmanager) gets this region's outage
    alerts (the page, and the notice before it): the rules' copies of them then stay silent
    (``sla_outage_alerts_posted``)."""
    posted = events.outage_counted(region, 0, 0, 15)  # what matters to the routes: type, region, severity
    return any(d.posts_rule_alerts and d.name in routes_for(posted, hooks_cfg.routes) for d in hooks_cfg.destinations)
