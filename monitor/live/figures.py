"""Month-to-date and previous-month figures from the same engine as `report`, refreshed in the
store's thread and cached for scrapes, the API and the status page."""
from __future__ import annotations

import logging
from typing import Callable
from zoneinfo import ZoneInfo

from ..accounting import History, daily_bars, month_report, recent_history, rolling_uptime
from ..clock import Clock
from ..event import Event
from ..sla.calendar import month_bounds, month_of, previous_month
from ..sla.model import Fleet, MaintenanceWindow
from ..sla.result import DayBar, MonthResult, RegionResult, WindowUptime
from ..storage.interface import LatencyBucket, Storage
from ..updates import HORIZON_MS as UPDATES_HORIZON_MS
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.figures")
PREVIOUS_MONTH_EVERY_MS = 600_000
BARS_EVERY_MS = 300_000  # the 90 days behind today, the rolling uptime, recent outages and latencies
LATENCY_SPAN_MS = 86_400_000  # the status page's response-time charts: the last 24 hours …
LATENCY_BUCKET_MS = 900_000  # … in 15-minute buckets


class LiveFigures:
    """One snapshot: the month's figures, today's bar and the live states captured at the same instant
    (``computed_ms``), so that everything the status page shows agrees."""

    def __init__(self, db: DbThread, fleet: Fleet, clock: Clock, capture: Callable[[int], dict] | None = None):
        self.db = db
        self.clock = clock
        self.fleet = fleet
        self.capture = capture  # live states (probes, components, third parties) at an instant
        self.live: dict = {}
        self.current: MonthResult | None = None
        self.previous: MonthResult | None = None
        self.bars: dict[str, list[DayBar]] = {}
        self.history = History({}, {}, {})
        self.history_ms: int | None = None
        self.uptime: dict[str, list[WindowUptime]] = {}  # the rolling windows, from this snapshot
        self.latency: dict[tuple[str, str], list[LatencyBucket]] = {}  # by (region, component)
        self.maintenance: tuple[MaintenanceWindow, ...] = ()
        self.updates: list[Event] = []  # incident updates of the last HORIZON_MS, oldest first
        self.computed_ms: int | None = None
        self._previous_ms = self._bars_ms = -10**15
        # A monitor just started has little history: recompute it 30 s, 1, 2 and 4 min apart, then every 5 min.
        self._bars_every_ms = 15_000

    async def refresh(self) -> None:
        """Recompute month to date (always), the previous month and the daily bars (now and then)."""
        now = self.clock.now_ms()
        year, month = month_of(now, ZoneInfo(self.fleet.timezone))
        live = self.capture(now) if self.capture is not None else {}
        records = await self.db.call(Storage.load_records)  # once per refresh, for every figure below
        current = await self.db.run(
            lambda store: month_report(store, self.fleet, year, month, now, all_components=True, records=records))
        today = await self.db.run(lambda store: daily_bars(store, self.fleet, now, days=1, records=records))
        self.maintenance = records.maintenance
        self.updates = await self.db.call(Storage.events_of_type, "incident.updated", now - UPDATES_HORIZON_MS)
        if self.previous is None or now - self._previous_ms > PREVIOUS_MONTH_EVERY_MS:
            py, pm = previous_month(year, month)
            self.previous = await self.db.run(lambda store: month_report(
                store, self.fleet, py, pm, now, all_components=True, records=records))
            self._previous_ms = now
        if now - self._bars_ms >= self._bars_every_ms:
            self.history = await self.db.run(lambda store: recent_history(store, self.fleet, now, records=records))
            self.latency = await self.db.run(lambda store: self._latencies(store, now))
            self.bars, self._bars_ms, self.history_ms = self.history.bars, now, now
            self._bars_every_ms = min(2 * self._bars_every_ms, BARS_EVERY_MS)
        # Today's bar from this snapshot (the 90 days behind it change only at midnight).
        self.bars = {name: days[:-1] + today.get(name, days[-1:]) for name, days in self.bars.items()}
        month_start = month_bounds(year, month, ZoneInfo(self.fleet.timezone))[0]
        self.uptime = {r.region: rolling_uptime(self.history.intervals.get(r.region), r, month_start, now)
                       for r in current.regions}
        self.current, self.live, self.computed_ms = current, live, now

    def _latencies(self, store: Storage, now_ms: int) -> dict[tuple[str, str], list[LatencyBucket]]:
        return {(region.name, c.name): store.latency_series([p.id for p in c.probes], now_ms - LATENCY_SPAN_MS, now_ms,
                                                              LATENCY_BUCKET_MS)
                for region in self.fleet.regions for c in region.components}

    def region(self, window: str, name: str) -> RegionResult | None:
        """Region ``name`` of the ``month_to_date`` or ``previous_month`` figures, once computed."""
        result = self.current if window == "month_to_date" else self.previous
        return result.region(name) if result is not None else None

    def active_maintenance(self, region: str, now_ms: int) -> list:
        return [w for w in self.maintenance
                if not w.cancelled and w.region in (None, region) and w.start_ms <= now_ms < w.end_ms]

    def updates_of(self, region: str, start: str) -> list[Event]:
        """The incident updates of ``region``'s outage that started at ``start`` (ISO), oldest first."""
        return [u for u in self.updates if u.region == region and u.data.get("start") == start]

    def upcoming_maintenance(self, region: str, now_ms: int) -> list:
        return sorted((w for w in self.maintenance
                       if not w.cancelled and w.region in (None, region) and w.start_ms > now_ms),
                      key=lambda w: w.start_ms)
