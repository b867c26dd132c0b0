"""Reports for the HTTP API without starving the store: the engine runs on a read-only connection of
its own (never on the writer's thread, so flushes never queue behind it), at most ``MAX_RUNNING`` at a
time, one run per month however many ask, a month's report is reused for ``ttl_ms``, and the current
month is the figures' snapshot. Beyond ``MAX_WAITING`` distinct reports in the queue the API answers
503 with Retry-After instead of piling up."""
from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from ..accounting import month_report, resolve_month
from ..clock import Clock
from ..sla.calendar import month_of
from ..sla.model import Fleet
from ..sla.result import MonthResult
from .dbthread import DbThread
from .figures import LiveFigures

MAX_RUNNING, MAX_WAITING, MAX_CACHED = 2, 16, 24


class Busy(Exception):
    """Too many report requests are waiting: try again shortly."""


class ReportService:
    def __init__(self, reader: DbThread, figures: LiveFigures, fleet: Fleet, ttl_ms: int, clock: Clock):
        self.reader, self.figures, self.fleet, self.ttl_ms, self.clock = reader, figures, fleet, ttl_ms, clock
        self.cache: dict[tuple[int, int], tuple[int, MonthResult]] = {}
        self.running = asyncio.Semaphore(MAX_RUNNING)
        self.waiting = 0  # distinct reports being computed or waiting to be
        self.inflight: dict[tuple[int, int], asyncio.Future] = {}
        self.computed = 0  # engine runs (for tests and the curious)

    async def month(self, month_text: str | None) -> MonthResult:
        """The report of ``month_text`` (default: this month) as of now, or of the latest snapshot."""
        now = self.clock.now_ms()
        year, month = resolve_month(month_text, now, self.fleet.timezone)
        current = self.figures.current
        if current is not None and (year, month) == month_of(now, ZoneInfo(self.fleet.timezone)) \
                and (current.year, current.month) == (year, month):
            return current  # the refresh loop's
        key = (year, month)
        if (hit := self._fresh(key)) is not None:
            return hit
        task = self.inflight.get(key)
        if task is None:  # one engine run per month at a time, however many ask for it
            if self.waiting >= MAX_WAITING:
                raise Busy(f"{self.waiting} reports are being computed or waiting; retry in a few seconds")
            self.waiting += 1
            task = self.inflight[key] = asyncio.ensure_future(self._compute(key, now))
            task.add_done_callback(lambda _: self._done(key))
        return await asyncio.shield(task)

    async def _compute(self, key: tuple[int, int], now: int) -> MonthResult:
        async with self.running:
            report = await self.reader.run(month_report, self.fleet, key[0], key[1], now)
        self.computed += 1
        if len(self.cache) >= MAX_CACHED:
            self.cache.pop(min(self.cache, key=lambda k: self.cache[k][0]))
        self.cache[key] = (now, report)
        return report

    def forget(self) -> None:
        """A record changed: a month's report reused from before would not show it."""
        self.cache.clear()

    def _done(self, key: tuple[int, int]) -> None:
        self.inflight.pop(key, None)
        self.waiting -= 1

    def _fresh(self, key: tuple[int, int]) -> MonthResult | None:
        hit = self.cache.get(key)
        return hit[1] if hit is not None and self.clock.now_ms() - hit[0] < self.ttl_ms else None
