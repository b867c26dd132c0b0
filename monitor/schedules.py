"""When each schedule (``schedules:``) is due, from the config and an instant: pure, no clock, no store.

A schedule sends, on its ``day`` at ``at`` (local to the config's zone), the document of the month
before; a claim schedule also reminds ``remind_days_before_deadline`` days before that month's claim
deadline (SLA §9.4). Each sending is an ``Occurrence`` with a stable id: the daemon records it in the
outbox once, so nothing is sent twice, and one due while the daemon was down is sent when it starts,
for the latest month only (an older month's document is not sent late; `schedules list` shows it missed).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .config.models import ScheduleConfig
from .sla.calendar import claim_deadline, next_month, previous_month


@dataclass(frozen=True)
class Occurrence:
    schedule: str
    kind: str  # "report", "claim" or "reminder"
    year: int
    month: int  # the month the document is about
    due_ms: int
    days_before: int | None = None  # a reminder's days before the claim deadline

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def id(self) -> str:
        """The outbox id: one sending, recorded once."""
        tail = f":remind-{self.days_before}" if self.days_before is not None else ""
        return f"schedule:{self.schedule}:{self.label}{tail}"


def _at(day: dt.date, minute: int, tz: ZoneInfo) -> int:
    """Local ``day`` at ``minute`` after midnight, as epoch ms (a time a DST gap skips: its later side)."""
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    return int(local.astimezone(dt.timezone.utc).timestamp()) * 1000


def about(schedule: ScheduleConfig, year: int, month: int, tz: ZoneInfo, window_days: int) -> list[Occurrence]:
    """Every sending of ``schedule`` about month (year, month), in time order: the document on ``day`` of
    the month after; for a claim, the reminders before its deadline."""
    ny, nm = next_month(year, month)
    kind = schedule.send
    found = [Occurrence(schedule.name, kind, year, month, _at(dt.date(ny, nm, schedule.day), schedule.minute_of_day, tz))]
    if kind == "claim":
        deadline = claim_deadline(year, month, window_days)
        for days in sorted(set(schedule.remind_days_before_deadline), reverse=True):
            due = _at(deadline - dt.timedelta(days=days), schedule.minute_of_day, tz)
            if due > found[0].due_ms:
                found.append(Occurrence(schedule.name, "reminder", year, month, due, days))
    return found


def due_now(schedule: ScheduleConfig, now_ms: int, tz: ZoneInfo, window_days: int) -> list[Occurrence]:
    """What is due at ``now_ms`` and not stale: the latest month's document once its time has come, and
    of each month whose claim is still open, its latest reminder due (a missed earlier one is not sent
    as well)."""
    local = dt.datetime.fromtimestamp(now_ms / 1000, tz)
    months = [previous_month(local.year, local.month)]
    months.append(previous_month(*months[0]))
    due: list[Occurrence] = []
    document_found = False
    for year, month in months:  # the latest month first
        sendings = [o for o in about(schedule, year, month, tz, window_days) if o.due_ms <= now_ms]
        documents = [o for o in sendings if o.kind != "reminder"]
        if documents and not document_found:
            due.append(documents[0])
            document_found = True
        deadline_end = _at(claim_deadline(year, month, window_days) + dt.timedelta(days=1), 0, tz)
        reminders = [o for o in sendings if o.kind == "reminder" and now_ms < deadline_end]
        if reminders:
            due.append(reminders[-1])
    return due


def next_due(schedule: ScheduleConfig, now_ms: int, tz: ZoneInfo, window_days: int) -> Occurrence:
    """The first sending after ``now_ms``."""
    local = dt.datetime.fromtimestamp(now_ms / 1000, tz)
    year, month = previous_month(*previous_month(local.year, local.month))
    later = []
    for _ in range(3):
        later += [o for o in about(schedule, year, month, tz, window_days) if o.due_ms > now_ms]
        year, month = next_month(year, month)
    return min(later, key=lambda o: o.due_ms)
