"""Maintenance windows as an iCalendar (RFC 5545) calendar, both ways, through the ``icalendar`` library.

Export: one VEVENT per window. UID ``maintenance-<id>@sla-monitor``; DTSTART/DTEND in UTC; SUMMARY the
reason; CREATED when customers were told (announced-at, which decides the 48 h notice); DTSTAMP when
the window was recorded; the region in CATEGORIES and ``X-SLA-REGION`` (``all`` for every region); the
kind in ``X-SLA-KIND``; a cancelled window has STATUS:CANCELLED, so calendars drop it.

Import: the same fields back. Announced-at is CREATED, or DTSTAMP without it; the region is the
``region_property`` (default ``X-SLA-REGION``), or the one category that names a region; the kind is
``X-SLA-KIND`` (default ``scheduled``). Every event is checked before anything is stored.

Recurring windows (a vendor's weekly patching slot): ``RRULE``, ``RDATE``, ``EXDATE`` and the overrides
(``RECURRENCE-ID``) are expanded by the ``recurring_ical_events`` library over a bounded horizon
(``Horizon``), one window per occurrence, each under its own UID (``<UID>/<occurrence's start in UTC>``).
An occurrence was announced with its series (its CREATED, else DTSTAMP), unless it was changed later
(an override moved or stretched out of its slot): then when that change was published.

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
import recurring_ical_events

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
    series: str | None = None  # an occurrence of a recurring event: the series' UID
    dropped: bool = False  # an occurrence stored before that its series no longer has


@dataclass(frozen=True)
class Horizon:
    """The span a recurring event is expanded over: occurrences that start in ``[since_ms, until_ms)``."""

    since_ms: int
    until_ms: int

    def holds(self, start_ms: int) -> bool:
        """Whether an occurrence starting at ``start_ms`` is inside."""
        return self.since_ms <= start_ms < self.until_ms


MAX_OCCURRENCES = 1_000  # of one series inside the horizon: more is a rule written wrong (FREQ=MINUTELY)


@dataclass
class ImportPlan:
    """What an import does to the stored windows, decided before anything is written."""

    add: list[tuple[CalendarEvent, MaintenanceWindow]] = field(default_factory=list)
    replace: list[tuple[MaintenanceRow, CalendarEvent, MaintenanceWindow]] = field(default_factory=list)  # old row, new
    cancel: list[tuple[MaintenanceRow, CalendarEvent]] = field(default_factory=list)
    unchanged: int = 0


def plan_import(events: Sequence[CalendarEvent], rows: Sequence[MaintenanceRow],
                horizon: Horizon | None = None) -> ImportPlan:
    """Match the calendar's events to the stored ``rows`` by UID (the newest window imported from it):

    - an event not seen before is added, unless an active window already holds the same content;
    - a changed event replaces its window. The new one keeps the old announced-at when it lies inside
      the old window's region and span (that time was announced already); otherwise it was announced
      when the change was published (LAST-MODIFIED, else DTSTAMP), which the notice rule then judges;
    - a cancelled event cancels its window;
    - a window cancelled here (by hand, or by an earlier import) stays cancelled while its event is
      unchanged; a changed event after a cancellation is recorded anew;
    - an occurrence of a series that the series no longer has (an EXDATE added, the rule changed) is
      cancelled, when it starts inside the ``horizon`` the series was expanded over; one it has anew
      (the rule changed) counts as announced no earlier than the series' last change.
    """
    latest: dict[str, MaintenanceRow] = {}
    for row in rows:
        uid = row["source_uid"]
        if uid and (uid not in latest or row["id"] > latest[uid]["id"]):
            latest[uid] = row
    imported_series = {uid.rpartition("/")[0] for uid in latest}
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
            elif event.series in imported_series and event.changed_at_ms is not None:
                # A series imported before shows a new occurrence: its rule changed (or the horizon moved on),
                # so the occurrence was known no earlier than the series' last change.
                plan.add.append((event, dataclasses.replace(
                    window, announced_at_ms=max(window.announced_at_ms or 0, event.changed_at_ms))))
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
    series = {event.series for event in events if event.series}
    if horizon is not None and series:
        listed = {event.uid for event in events}
        for uid, row in latest.items():
            if uid.rpartition("/")[0] in series and uid not in listed and not row["cancelled"] \
                    and horizon.holds(row["start_ms"]):
                plan.cancel.append((row, CalendarEvent(uid, uid, None, dropped=True)))
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


RECURRING = ("RRULE", "RDATE", "RECURRENCE-ID")


def parse_ics(data: bytes, source: str, regions: Sequence[str], region_property: str = REGION_PROPERTY,
              max_window_ms: int | None = None, horizon: Horizon | None = None) -> list[CalendarEvent]:
    """Every event of the calendar, its window read and checked (id 0: not stored yet); a recurring one
    as its occurrences inside ``horizon`` (without one, a recurring event is refused). ``InputError``
    names the event (its number and UID, and the occurrence) and the property at fault for the first
    that is not valid."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise InputError(f"{source}: not an iCalendar file ({exc})") from None
    events: list[CalendarEvent] = []
    numbers: dict[tuple[str, str | None], int] = {}
    series: dict[str, int] = {}  # a recurring event's UID → its number
    for number, event in enumerate(calendar.walk("VEVENT"), 1):
        uid = str(event.get("uid", "")).strip() or None
        where = f"{source}: event {number}" + (f" (UID {uid})" if uid else "")
        recurrence_id = event.get("RECURRENCE-ID")
        key = (uid or "", None if recurrence_id is None else recurrence_id.to_ical().decode())
        if uid is not None and key in numbers:
            raise InputError(f"{where}: UID {uid} is also event {numbers[key]}'s; each window needs an event "
                             "of its own (an occurrence changed in a series: the same UID with a RECURRENCE-ID)")
        numbers[key] = number
        if any(name in event for name in RECURRING):
            if horizon is None:
                raise InputError(f"{where}: a recurring event (RRULE, RDATE or RECURRENCE-ID) needs a horizon to "
                                 "be expanded over")
            if uid is None:
                raise InputError(f"{where}: a recurring event without a UID; its occurrences are named by it")
            series.setdefault(uid, number)
            continue
        events.append(_event(event, uid, uid or f"event {number}", where, regions, region_property, max_window_ms))
    if series:
        assert horizon is not None
        events += _occurrences(calendar, series, horizon, source, regions, region_property, max_window_ms)
    if not events and not series:
        raise InputError(f"{source}: no maintenance window in it (no VEVENT)")
    return events


def _event(event: icalendar.cal.Component, uid: str | None, label: str, where: str, regions: Sequence[str],
           region_property: str, max_window_ms: int | None, series: str | None = None,
           announced_ms: int | None = None) -> CalendarEvent:
    """One window's event (an occurrence's: ``series`` and when the series was announced)."""
    if str(event.get("status", "")).upper() == "CANCELLED":
        return CalendarEvent(uid, label, None, series=series)  # it excludes nothing; it may cancel a stored one
    window = _window(event, where, regions, region_property, max_window_ms)
    changed = _instant(event, "LAST-MODIFIED", where, required=False) or _instant(event, "DTSTAMP", where,
                                                                                   required=False)
    if announced_ms is not None:
        window = dataclasses.replace(window, announced_at_ms=announced_ms)
    return CalendarEvent(uid, label, window, changed, series)


def _occurrences(calendar: icalendar.Calendar, series: dict[str, int], horizon: Horizon, source: str,
                 regions: Sequence[str], region_property: str, max_window_ms: int | None) -> list[CalendarEvent]:
    """The recurring events' occurrences that start inside ``horizon``, each under its own UID."""
    announced, slot_ms = _series_announced(calendar, series, source)
    counts: dict[str, int] = dict.fromkeys(series, 0)
    events: list[CalendarEvent] = []
    try:
        found = recurring_ical_events.of(calendar).between(_utc(horizon.since_ms), _utc(horizon.until_ms))
    except (ValueError, recurring_ical_events.BadRuleStringFormat, icalendar.InvalidCalendar) as exc:
        raise InputError(f"{source}: a recurring event's rule cannot be expanded ({exc})") from None
    for occurrence in found:
        uid = str(occurrence.get("uid", "")).strip()
        if uid not in series:
            continue  # a single event: read above, whatever its date
        rid = occurrence["RECURRENCE-ID"].dt
        instant = rid.astimezone(dt.timezone.utc) if isinstance(rid, dt.datetime) and rid.tzinfo else None
        where = f"{source}: event {series[uid]} (UID {uid}), occurrence {rid.isoformat()}"
        if instant is None:
            raise InputError(f"{where}: DTSTART is a date or a floating time; give a date-time in UTC or with a "
                             "TZID")
        counts[uid] += 1
        if counts[uid] > MAX_OCCURRENCES:
            raise InputError(f"{where}: over {MAX_OCCURRENCES:,} occurrences in the horizon; is the RRULE's FREQ "
                             "what the vendor meant?")
        event = _event(occurrence, f"{uid}/{instant:%Y%m%dT%H%M%SZ}", f"{uid} on {instant:%Y-%m-%d %H:%M} UTC", where,
                       regions, region_property, max_window_ms, uid, announced[uid])
        slot_start = int(instant.timestamp() * 1000)
        events.append(_as_announced(event, (slot_start, slot_start + slot_ms[uid]), announced[uid]))
    return events


def _series_announced(calendar: icalendar.Calendar, series: dict[str, int],
                      source: str) -> tuple[dict[str, int], dict[str, int]]:
    """When each series was announced (its main event's CREATED, else DTSTAMP), and how long its slots are."""
    announced: dict[str, int] = {}
    slot_ms: dict[str, int] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("uid", "")).strip()
        if uid in series and "RECURRENCE-ID" not in event:
            where = f"{source}: event {series[uid]} (UID {uid})"
            at = _instant(event, "CREATED", where, required=False) or _instant(event, "DTSTAMP", where)
            start, end = _instant(event, "DTSTART", where), _instant(event, "DTEND", where)
            assert at is not None and start is not None and end is not None
            announced[uid], slot_ms[uid] = at, end - start
    for uid, number in series.items():
        if uid not in announced:
            raise InputError(f"{source}: event {number} (UID {uid}): changes an occurrence of a series the file "
                             "does not hold (no event with this UID and an RRULE or RDATE)")
    return announced, slot_ms


def _as_announced(event: CalendarEvent, slot: tuple[int, int], series_announced_ms: int) -> CalendarEvent:
    """An occurrence inside its slot (the series' start and length) was announced with the series; one moved
    or stretched out of it (an override) when that change was published, if that was after the series."""
    window = event.window
    if window is None or (slot[0] <= window.start_ms and window.end_ms <= slot[1]) or event.changed_at_ms is None:
        return event
    return dataclasses.replace(event, window=dataclasses.replace(
        window, announced_at_ms=max(series_announced_ms, event.changed_at_ms)))


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
