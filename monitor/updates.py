"""Incident updates: a person's narrative on an outage (investigating, identified, monitoring, resolved,
with a message), for the status page's timeline, its feed, and the destinations (``incident.updated``).
An update is an outbox event: recorded once with its routes' deliveries, read back by type. Which outage
it is about is checked against the month's figures; the commands and the API share this."""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from .config import Config
from .errors import InputError
from .event import Event
from .hooks import events
from .hooks.events import UPDATE_STATUSES, routed
from .sla.calendar import iso, local_text
from .sla.result import MonthResult, PeriodResult

MESSAGE_MAX = 2000
HORIZON_MS = 92 * 86_400_000  # the updates the status page and its feed show: as far back as their history


class Outage(NamedTuple):
    """A region's unavailability period, whole across the month boundary."""

    start_ms: int
    end_ms: int
    open: bool
    periods: tuple[PeriodResult, ...]


def outages(results: Iterable[MonthResult | None], region: str) -> list[Outage]:
    """The region's periods in ``results`` (consecutive months, oldest first); one that runs over a
    month's end is one."""
    found: list[Outage] = []
    for result in results:
        mine = result.region(region) if result is not None else None
        for period in mine.periods if mine is not None else ():
            last = found[-1] if found else None
            if last is not None and last.end_ms == period.start_ms:  # carried over the month's end
                found[-1] = Outage(last.start_ms, period.end_ms, period.open, last.periods + (period,))
            else:
                found.append(Outage(period.start_ms, period.end_ms, period.open, (period,)))
    return found


def checked(cfg: Config, region: str, status: str, message: str) -> str:
    """``message`` stripped, or InputError naming what is wrong with the update."""
    names = [r.name for r in cfg.regions]
    if region not in names:
        raise InputError(f"region {region!r} is not in the config (known: {', '.join(names)})")
    if status not in UPDATE_STATUSES:
        raise InputError(f"status {status!r} is not one of {', '.join(UPDATE_STATUSES)}")
    text = " ".join(message.split())
    if not text:
        raise InputError("the message is empty: say what is known (e.g. \"a database failover is in progress\")")
    if len(text) > MESSAGE_MAX:
        raise InputError(f"the message has {len(text)} characters; at most {MESSAGE_MAX}")
    return text


def outage_of(found: Sequence[Outage], region: str, start_ms: int | None, tz: ZoneInfo) -> Outage:
    """The outage starting at ``start_ms``, or (None) the open one; InputError naming the ones there are."""
    if start_ms is None:
        current = next((o for o in found if o.open), None)
        if current is None:
            raise InputError(f"{region} has no open outage: name one by its start ({_known(found, tz)})")
        return current
    match = next((o for o in found if o.start_ms == start_ms), None)
    if match is None:
        raise InputError(f"{region} has no outage that started at {iso(start_ms)} ({_known(found, tz)})")
    return match


def _known(found: Sequence[Outage], tz: ZoneInfo) -> str:
    if not found:
        return "none this month or last"
    return "its outages: " + ", ".join(f"{iso(o.start_ms)} ({local_text(o.start_ms, tz)})" for o in found[-5:])


def update_event(cfg: Config, region: str, outage: Outage, status: str, message: str, by: str,
                 now_ms: int) -> list[tuple[Event, list[str]]]:
    """The ``incident.updated`` event with the destinations its routes choose, to record."""
    event = events.incident_updated(region, outage.start_ms, status, message, now_ms, by, ZoneInfo(cfg.timezone))
    return routed([event], cfg.hooks.routes)


def update_json(event: Event) -> dict:
    """An update as the API and the status page give it."""
    return {"region": event.region, "outage_start": event.data["start"], "at": iso(event.occurred_at_ms),
            "status": event.data["status"], "message": event.data["message"]}
