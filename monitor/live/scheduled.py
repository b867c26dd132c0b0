"""The schedules' side of the daemon: every ``CHECK_EVERY_S`` (and at start) it asks ``schedules.due_now``
what is due, and records each sending not yet recorded as an outbox event for its email destination;
the delivery worker sends it, with retries, like any alert. The outbox's id makes it once: a restart, or
a second daemon on the same database, finds it recorded and sends nothing again."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable
from zoneinfo import ZoneInfo

from ..accounting import month_report
from ..clock import Clock
from ..config import Config
from ..config.fleet import Fleet
from ..config.models import ScheduleConfig
from ..event import Event
from ..hooks import events
from ..paperwork import claim_material, document_event, local_date, sent_mark_id, terms_of
from ..reports.claim import claim_view
from ..reports.html import render_template, report_html, to_pdf
from ..schedules import Occurrence, due_now
from ..storage.interface import Storage
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.schedules")
CHECK_EVERY_S = 30


class ScheduledMail:
    def __init__(self, cfg: Config, fleet: Fleet, db: DbThread, reader: DbThread, clock: Clock,
                 public_url: Callable[[], str], wake: Callable[[], None]):
        self.cfg, self.fleet, self.db, self.reader, self.clock = cfg, fleet, db, reader, clock
        self.public_url, self.wake = public_url, wake
        self.zone = ZoneInfo(cfg.timezone)

    async def run(self) -> None:
        """Check now, then every ``CHECK_EVERY_S``; a failure is logged and checked again next time."""
        while True:
            try:
                await self.check()
            except Exception:  # a report that cannot be built now is tried again, never lost
                log.exception("event=schedule_check_failed")
            await asyncio.sleep(CHECK_EVERY_S)

    async def check(self) -> int:
        """Record every sending due now and not recorded yet; returns how many were recorded."""
        now = self.clock.now_ms()
        recorded = 0
        for schedule in self.cfg.schedules:
            due = due_now(schedule, now, self.zone, self.cfg.policy.claim_window_days)
            if not due:
                continue
            marks = [sent_mark_id(o.label) for o in due]
            known = {row["id"] for row in await self.db.call(Storage.event_log_of, [o.id for o in due] + marks)}
            for occ in due:
                if occ.id in known:
                    continue
                event = await self._event(schedule, occ, now, sent=sent_mark_id(occ.label) in known)
                recorded += await self.db.call(Storage.record_events, [(event, [] if event.type == "schedule.skipped"
                                                                        else [schedule.to])])
                log.info("event=schedule_due schedule=%s month=%s kind=%s outcome=%s", schedule.name, occ.label,
                         occ.kind, event.type)
        if recorded:
            self.wake()
        return recorded

    async def _event(self, schedule: ScheduleConfig, occ: Occurrence, now: int, sent: bool) -> Event:
        """The mail of ``occ``, or a record that it had nothing to send (no credit, already sent)."""
        if occ.kind == "report":
            result = await self.reader.run(lambda store: month_report(store, self.fleet, occ.year, occ.month, now))
            pdf = await asyncio.to_thread(to_pdf, report_html(result, terms_of(self.cfg)))
            link = f"{self.public_url()}/api/v1/report.pdf?month={occ.label}"
            return document_event(occ, self.cfg, now, result, pdf, link)
        if sent:
            return skipped(occ, now, f"the claim for {occ.label} is marked sent")
        result, claimed, evidence, close = await self.reader.run(
            lambda store: claim_material(store, self.fleet, occ.year, occ.month, now,
                                         signing_key=self.cfg.evidence.signing_key))
        if not claimed:
            return skipped(occ, now, f"no region earned a service credit in {occ.label}")
        assert self.cfg.contract is not None  # the config refuses a claim schedule without one
        view = claim_view(result, evidence, self.cfg.contract.model_dump(), terms_of(self.cfg),
                          local_date(now, self.cfg.timezone).isoformat(), [], close)
        pdf = await asyncio.to_thread(to_pdf, render_template("claim.html", v=view))
        return document_event(occ, self.cfg, now, result, pdf, None)


def skipped(occ: Occurrence, now: int, why: str) -> Event:
    """A sending that had nothing to send, recorded so that it is not asked again (no delivery)."""
    return events.schedule_skipped(occ.id, why, f"{occ.schedule} {occ.label}: {why}", occ.label, now)
