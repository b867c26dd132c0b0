"""Hand-kept records as the daemon's API writes them (exclusions, incidents and their overrides, vendor
reports; maintenance has ``maintenance.py``),
with the figures refreshed after each change; and the answers to writes sent with an Idempotency-Key."""
from __future__ import annotations

from typing import Callable

from ..clock import Clock
from ..storage.interface import ExclusionRow, Storage
from .dbthread import DbThread
from .figures import LiveFigures


class RecordService:
    def __init__(self, db: DbThread, figures: LiveFigures, clock: Clock, forget: Callable[[], None]):
        self.db, self.figures, self.clock, self.forget = db, figures, clock, forget

    async def _changed(self) -> None:
        """After a change: the live figures computed again, the months' reports not reused."""
        self.forget()
        await self.figures.refresh()

    async def exclusions(self) -> list[ExclusionRow]:
        """Every exclusion, by start (withdrawn ones too: they are history)."""
        return await self.db.call(Storage.exclusion_rows)

    async def add_exclusion(self, values: dict, by: str) -> ExclusionRow:
        """Record an exclusion (``values``: its columns, validated) and return its row."""
        new_id = await self.db.call(Storage.add_exclusion, **values, by=by, now_ms=self.clock.now_ms())
        await self._changed()
        return next(r for r in await self.exclusions() if r["id"] == new_id)

    async def withdraw_exclusion(self, exclusion_id: int) -> None:
        """Withdraw an exclusion (``StoreError`` when there is none)."""
        await self.db.call(Storage.withdraw_exclusion, exclusion_id, self.clock.now_ms())
        await self._changed()

    async def add_incident(self, values: dict, by: str) -> int:
        """Record a hand incident (``values``: its columns, validated); returns its id."""
        new_id = await self.db.call(Storage.add_incident, **values, by=by, now_ms=self.clock.now_ms())
        await self._changed()
        return new_id

    async def correct_incident(self, incident_id: str, resolved_ms: int | None, severity: str | None, by: str) -> None:
        """Resolve or re-classify an incident (``StoreError`` for a hand one that is not there)."""
        await self.db.call(Storage.resolve_incident, incident_id, resolved_ms=resolved_ms, severity=severity, by=by,
                           now_ms=self.clock.now_ms())
        await self._changed()

    async def overrides(self) -> list[dict]:
        """The corrections of automatic incidents, by incident."""
        return await self.db.call(Storage.override_rows)

    async def vendor_reports(self) -> list[dict]:
        """The vendor's own reports, by month and region."""
        return await self.db.call(Storage.vendor_report_rows)

    async def set_vendor_report(self, row: dict, by: str) -> tuple[dict, bool]:
        """Record the vendor's report of a region's month (``row``: its columns, validated), replacing an
        earlier one of the same; returns the stored row and whether it replaced one."""
        report_id, before = await self.db.call(Storage.set_vendor_report, row, by, self.clock.now_ms())
        await self._changed()
        return next(r for r in await self.vendor_reports() if r["id"] == report_id), before is not None

    async def answered(self, token: str, key: str) -> dict | None:
        """The answer already given to ``token``'s write with the Idempotency-Key ``key``."""
        return await self.db.call(Storage.api_request, token, key)

    async def remember(self, token: str, key: str, fingerprint: str, status: int, body: str) -> None:
        """Keep the answer to a write sent with an Idempotency-Key, for its retries."""
        await self.db.call(Storage.remember_api_request, {"token": token, "idem_key": key, "fingerprint": fingerprint,
                                                          "status": status, "body": body, "at_ms": self.clock.now_ms()})
