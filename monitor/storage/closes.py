"""The chain's day and month closes: at each local midnight the daemon chains the day that ended, and
at a month's end the month too, signed when there is a key. A daemon that was stopped over a midnight
closes the days it missed when it starts again; two daemons sharing a store close each day once (the
check and the closes hold the chain's lock)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable, Sequence
from zoneinfo import ZoneInfo

from ..outbox import Routed
from ..sla.calendar import from_ms
from .chain import Link, statement

if TYPE_CHECKING:
    from .sqlstore import SqlStore

ONE_DAY = dt.timedelta(days=1)


def closes_due(last_day: dt.date | None, now_ms: int, zone: ZoneInfo) -> list[tuple[str, str, int]]:
    """(kind, period, instant) of each local day, and month, that ended by ``now_ms`` after ``last_day``,
    oldest first. With no close yet only the day that ended last: the chain closes from where it is."""
    today = from_ms(now_ms).astimezone(zone).date()
    day = last_day + ONE_DAY if last_day is not None else today - ONE_DAY
    due = []
    while day < today:
        end = day + ONE_DAY
        at_ms = int(dt.datetime(end.year, end.month, end.day, tzinfo=zone).timestamp() * 1000)
        due.append(("day", day.isoformat(), at_ms))
        if end.day == 1:
            due.append(("month", f"{day.year:04d}-{day.month:02d}", at_ms))
        day = end
    return due


def close_due(store: SqlStore, now_ms: int, zone: ZoneInfo, sign: Callable[[bytes], str] | None,
              announce: Callable[[Link], Sequence[Routed]] = lambda link: ()) -> list[Link]:
    """Chain every close due by ``now_ms`` (a month's signed by ``sign``, text → hex signature, when there
    is a key, and its events, ``announce``, recorded in the same transaction: a close is never written
    without them); the links written."""
    written = []
    with store.transaction():
        store.lock_chain()
        last = store.last_close("day")
        for kind, period, at_ms in closes_due(dt.date.fromisoformat(last) if last else None, now_ms, zone):
            link = store.chain_close(kind, period, at_ms)
            if kind == "month" and sign is not None:
                signature = sign(statement(kind, period, link.seq, link.link))
                store.sign_link(link.seq, signature)
                link = link._replace(signature=signature)
            if kind == "month":
                store.record_events(announce(link))
            written.append(link)
    return written
