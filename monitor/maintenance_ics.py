"""Maintenance windows as an iCalendar (RFC 5545) calendar, both ways, through the ``icalendar`` library.

Export: one VEVENT per window. UID ``maintenance-<id>@sla-monitor``; DTSTART/DTEND in UTC; SUMMARY the
reason; CREATED when customers were told (announced-at, which decides the 48 h notice); DTSTAMP when
the window was recorded; the region in CATEGORIES and ``X-SLA-REGION`` (``all`` for every region); the
kind in ``X-SLA-KIND``; a cancelled window has STATUS:CANCELLED, so calendars drop it.

Import: the same fields back. Announced-at is CREATED, or DTSTAMP without it; the region is the
``region_property`` (default ``X-SLA-REGION``), or the one category that names a region; the kind is
``X-SLA-KIND`` (default ``scheduled``). Every event is checked before anything is stored.

A vendor's calendar changes: a window moves, is cancelled, or its text is corrected. Each stored window
keeps its event's UID, so a later import of the same calendar (``plan_import``) replaces a moved window
(the old one is cancelled, kept for the record) and cancels a cancelled one, instead of adding a second
window beside the first; doubled windows would exclude time the vendor never took.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence, cast

import icalendar

from .errors import InputError
from .sla.model import MaintenanceWindow
from .storage.interface import MaintenanceRow

REGION_PROPERTY = "X-SLA-REGION"
ALL_REGIONS = "all"
KINDS = ("scheduled", "emergency")


RECENT_MS = 30 * 86_400_000  # the calendar lists windows that ended at most this long ago, and all to come


def calendar_rows(rows: Iterable[MaintenanceRow], now_ms: int, region: str | None = None) -> list[MaintenanceRow]:
    """The rows a calendar lists: upcoming and recent windows (of ``region`` and of every region, if given)."""
    return [r for r in rows if r["end_ms"] >= now_ms - RECENT_MS and (region is None or r["region"] in (None, region))]


def _same(window: MaintenanceWindow, row: MaintenanceRow) -> bool:
    """The stored ``row`` holds ``window``: same region, span, kind and reason."""
    return ((row["region"], row["start_ms"], row["end_ms"], row["kind"], row["reason"])
            == (window.region, window.start_ms, window.end_ms, window.kind, window.reason))


def already_stored(window: MaintenanceWindow, rows: Iterable[MaintenanceRow]) -> bool:
    """An active stored window with the same region, span, kind and reason (an import run twice)."""
    return any(not r["cancelled"] and _same(window, r) for r in rows)


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT as the import reads it."""

    uid: str | None  # None: the event has none, so only its content can tell it was recorded before
    label: str  # how messages name it: its UID, or its number in the file
    window: MaintenanceWindow | None  # None: STATUS:CANCELLED
    changed_at_ms: int | None = None  # LAST-MODIFIED, else DTSTAMP: when its current form was published


@dataclass
class ImportPlan:
    """What an import does to the stored windows, decided before anything is written."""

    add: list[tuple[CalendarEvent, MaintenanceWindow]] = field(default_factory=list)
    replace: list[tuple[MaintenanceRow, CalendarEvent, MaintenanceWindow]] = field(default_factory=list)  # old row, new
    cancel: list[tuple[MaintenanceRow, CalendarEvent]] = field(default_factory=list)
    unchanged: int = 0


def plan_import(events: Iterable[CalendarEvent], rows: Sequence[MaintenanceRow]) -> ImportPlan:
    """Match the calendar's events to the stored ``rows`` by UID (the newest window imported from it):

    - an event not seen before is added, unless an active window already holds the same content;
    - a changed event replaces its window. The new one keeps the old announced-at when it lies inside
      the old window's region and span (that time was announced already); otherwise it was announced
      when the change was published (LAST-MODIFIED, else DTSTAMP), which the notice rule then judges;
    - a cancelled event cancels its window;
    - a window cancelled here (by hand, or by an earlier import) stays cancelled while its event is
      unchanged; a changed event after a cancellation is recorded anew.
    """
    latest: dict[str, MaintenanceRow] = {}
    for row in rows:
        uid = row["source_uid"]
        if uid and (uid not in latest or row["id"] > latest[uid]["id"]):
            latest[uid] = row
    plan = ImportPlan()
    for event in events:
        stored = latest.get(event.uid) if event.uid else None
        window = event.window
        if window is None:
            if stored is not None and not stored["cancelled"]:
                plan.cancel.append((stored, event))
            # else: never recorded here, or cancelled already: nothing to do, as before UIDs were kept
        elif stored is None:
            if already_stored(window, rows):
                plan.unchanged += 1
            else:
                plan.add.append((event, window))
        elif _same(window, stored):
            plan.unchanged += 1
        else:
            announced_again = max(window.announced_at_ms or 0, event.changed_at_ms or 0)
            if stored["cancelled"]:
                plan.add.append((event, dataclasses.replace(window, announced_at_ms=announced_again)))
                continue
            inside = (window.region == stored["region"] and stored["start_ms"] <= window.start_ms
                      and window.end_ms <= stored["end_ms"])
            announced = stored["announced_at_ms"] if inside else announced_again
            plan.replace.append((stored, event, dataclasses.replace(window, announced_at_ms=announced)))
    return plan


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def to_ics(rows: Iterable[MaintenanceRow], host: str = "sla-monitor") -> bytes:
    """The stored maintenance ``rows`` as one calendar."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//sla-monitor//maintenance windows//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Maintenance windows")
    for row in rows:
        event = icalendar.Event()
        event.add("uid", f"maintenance-{row['id']}@{host}")
        event.add("dtstart", _utc(row["start_ms"]))
        event.add("dtend", _utc(row["end_ms"]))
        event.add("dtstamp", _utc(row["created_at_ms"]))
        if row["announced_at_ms"] is not None:
            event.add("created", _utc(row["announced_at_ms"]))
        event.add("summary", row["reason"])
        region = row["region"] or ALL_REGIONS
        event.add("categories", [region])
        event.add(REGION_PROPERTY, region)
        event.add("x-sla-kind", row["kind"])
        event.add("status", "CANCELLED" if row["cancelled"] else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


def _instant(event: icalendar.cal.Component, name: str, where: str, required: bool = True) -> int | None:
    """A DATE-TIME property as UTC ms: a date without a time, or a floating time, is refused."""
    prop = event.get(name)
    if prop is None:
        if required:
            raise InputError(f"{where}: no {name} (every window needs DTSTART, DTEND and a time it was announced)")
        return None
    try:
        value = prop.dt
    except ValueError as exc:  # icalendar reads a broken value lazily, and says so here
        raise InputError(f"{where}: {name} is not a date-time ({exc.__cause__ or exc})") from None
    if not isinstance(value, dt.datetime):
        raise InputError(f"{where}: {name} is the date {value.isoformat()} without a time; give a date-time "
                         "(e.g. 20261205T020000Z)")
    if value.tzinfo is None:
        raise InputError(f"{where}: {name} {value.isoformat()} has no time zone (a floating time); write it in UTC "
                         "(a trailing Z) or with a TZID")
    return int(value.timestamp() * 1000)


def _region(event: icalendar.cal.Component, where: str, regions: Sequence[str], region_property: str) -> str | None:
    value = event.get(region_property)
    if value is not None:
        name = str(value).strip()
    else:
        categories = [str(c) for prop in _as_list(event.get("categories")) for c in prop.cats]
        named = [c for c in categories if c in regions or c == ALL_REGIONS]
        if len(named) != 1:
            raise InputError(f"{where}: no region: set {region_property} or give exactly one category naming a "
                             f"region (categories: {', '.join(categories) or 'none'}; regions: {', '.join(regions)})")
        name = named[0]
    if name == ALL_REGIONS:
        return None
    if name not in regions:
        raise InputError(f"{where}: region {name!r} is not in the config (regions: {', '.join(regions)}, or "
                         f"{ALL_REGIONS!r})")
    return name


def _as_list(value: object) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def parse_ics(data: bytes, source: str, regions: Sequence[str], region_property: str = REGION_PROPERTY,
              max_window_ms: int | None = None) -> list[CalendarEvent]:
    """Every event of the calendar, its window read and checked (id 0: not stored yet). ``InputError``
    names the event (its number and UID) and the property at fault for the first that is not valid."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise InputError(f"{source}: not an iCalendar file ({exc})") from None
    events: list[CalendarEvent] = []
    numbers: dict[str, int] = {}
    for number, event in enumerate(calendar.walk("VEVENT"), 1):
        uid = str(event.get("uid", "")).strip() or None
        where = f"{source}: event {number}" + (f" (UID {uid})" if uid else "")
        if uid is not None and uid in numbers:
            raise InputError(f"{where}: UID {uid} is also event {numbers[uid]}'s; each window needs an event "
                             "of its own (recurring events and their overrides are not expanded)")
        if uid is not None:
            numbers[uid] = number
        if any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            raise InputError(f"{where}: a recurring event (RRULE, RDATE or RECURRENCE-ID); recurrences are not "
                             "expanded: export each window as an event of its own")
        label = uid or f"event {number}"
        if str(event.get("status", "")).upper() == "CANCELLED":
            events.append(CalendarEvent(uid, label, None))  # it excludes nothing; it may cancel a stored one
            continue
        events.append(CalendarEvent(uid, label, _window(event, where, regions, region_property, max_window_ms),
                                    _instant(event, "LAST-MODIFIED", where, required=False)
                                    or _instant(event, "DTSTAMP", where, required=False)))
    if not events:
        raise InputError(f"{source}: no maintenance window in it (no VEVENT)")
    return events


def _window(event: icalendar.cal.Component, where: str, regions: Sequence[str], region_property: str,
            max_window_ms: int | None) -> MaintenanceWindow:
    """The window an event that is not cancelled describes."""
    start, end = _instant(event, "DTSTART", where), _instant(event, "DTEND", where)
    assert start is not None and end is not None
    if end <= start:
        raise InputError(f"{where}: DTEND is not after DTSTART")
    if max_window_ms is not None and end - start > max_window_ms:
        raise InputError(f"{where}: the window lasts over {max_window_ms // 86_400_000} days "
                         "(storage.max_window_days); split it or raise the limit")
    announced = _instant(event, "CREATED", where, required=False)
    if announced is None:
        announced = _instant(event, "DTSTAMP", where)
    kind = str(event.get("x-sla-kind", "scheduled")).strip().lower()
    if kind not in KINDS:
        raise InputError(f"{where}: X-SLA-KIND {kind!r} is not one of {', '.join(KINDS)}")
    reason = str(event.get("summary", "")).strip()
    if not reason:
        raise InputError(f"{where}: no SUMMARY (what the maintenance is for: it is shown in the report)")
    assert announced is not None
    return MaintenanceWindow(0, _region(event, where, regions, region_property), start, end,
                             cast(Literal["scheduled", "emergency"], kind), announced, reason)
