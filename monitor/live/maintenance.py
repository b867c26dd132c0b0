"""Maintenance windows as the daemon's API keeps them: the store's records, with the figures refreshed
after each change so the status page and the alerts see it at once, and the months' reports not reused."""
from __future__ import annotations

from typing import Callable

from ..clock import Clock
from ..reports.serialize import record_window_json
from ..sla.model import Policy
from ..storage.interface import Storage
from ..storage.records import window_of
from .dbthread import DbThread
from .figures import LiveFigures


class MaintenanceService:
    def __init__(self, db: DbThread, policy: Policy, figures: LiveFigures, clock: Clock, forget: Callable[[], None]):
        self.db, self.policy, self.figures, self.clock, self.forget = db, policy, figures, clock, forget

    async def windows(self) -> list[dict]:
        """Every window, by start, with whether and why it excludes."""
        rows = await self.db.call(Storage.maintenance_rows)
        return [record_window_json(window_of(r), self.policy) for r in rows]

    async def window(self, window_id: int) -> dict | None:
        """The window ``window_id`` as ``windows`` lists it (None: there is none)."""
        rows = await self.db.call(Storage.maintenance_rows, window_id)
        return record_window_json(window_of(rows[0]), self.policy) if rows else None

    async def calendar(self, region: str | None = None) -> bytes:
        """Upcoming and recent windows (of ``region`` and of every region, if given) as iCalendar."""
        from ..maintenance_ics import calendar_rows, to_ics

        return to_ics(calendar_rows(await self.db.call(Storage.maintenance_rows), self.clock.now_ms(), region))

    async def add(self, *, region: str | None, start_ms: int, end_ms: int, kind: str, announced_at_ms: int | None,
                  reason: str, by: str) -> dict:
        """Record a window (input already validated) and return it as ``windows`` lists it."""
        now = self.clock.now_ms()
        new_id = await self.db.call(Storage.add_maintenance, region=region, start_ms=start_ms, end_ms=end_ms, kind=kind,
                                               announced_at_ms=announced_at_ms, reason=reason, by=by, now_ms=now)
        self.forget()  # a past month's report may hold it: not reused
        await self.figures.refresh()
        rows = await self.db.call(Storage.maintenance_rows, new_id)
        return record_window_json(window_of(rows[0]), self.policy)

    async def cancel(self, window_id: int, by: str) -> None:
        """Cancel a window (``StoreError`` when there is none or it is cancelled already)."""
        await self.db.call(Storage.cancel_maintenance, window_id, by, self.clock.now_ms())
        self.forget()
        await self.figures.refresh()
