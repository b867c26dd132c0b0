"""Local calendar arithmetic through zoneinfo: months, claim deadlines, business days.

Instants are UTC milliseconds. A local midnight that does not exist (a DST gap)
resolves to the first instant after it (SLA-SPEC §7); one that exists twice
resolves to the first.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import time
from typing import overload
from zoneinfo import ZoneInfo

from .intervals import Intervals

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class MonthError(ValueError):
    pass


def parse_month(text: str) -> tuple[int, int]:
    """``"2026-11"`` → ``(2026, 11)``; anything else raises MonthError."""
    match = _MONTH.fullmatch(text or "")
    if not match:
        raise MonthError(f"month {text!r} is not YYYY-MM (e.g. 2026-11)")
    year = int(match.group(1))
    if not 1970 <= year <= 2100:
        raise MonthError(f"month {text!r} is outside the years 1970–2100")
    return year, int(match.group(2))


def months_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Every calendar month from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    index, end = first[0] * 12 + first[1] - 1, last[0] * 12 + last[1] - 1
    return [(i // 12, i % 12 + 1) for i in range(index, end + 1)]


def to_ms(moment: dt.datetime) -> int:
    """An aware datetime as integer UTC milliseconds (exact, no float)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive timestamp {moment.isoformat()} has no UTC offset")
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def from_ms(ms: int) -> dt.datetime:
    """UTC milliseconds as an aware UTC datetime."""
    return EPOCH + dt.timedelta(milliseconds=ms)


@overload
def iso(ms: int) -> str: ...
@overload
def iso(ms: None) -> None: ...
@overload
def iso(ms: int | None) -> str | None: ...


@functools.lru_cache(maxsize=65536)  # reports repeat the same instants (period, piece, incident)
def iso(ms: int | None) -> str | None:
    """UTC milliseconds as ISO 8601 with ``Z`` (milliseconds shown only when present)."""
    if ms is None:
        return None
    seconds, milli = divmod(ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{milli:03d}Z" if milli else f"{text}Z"


def local_text(ms: int, tz: ZoneInfo | None) -> str:
    """An instant as people read it in the config's zone, with its offset ("2026-11-03 11:00 +01:00",
    seconds when there are any): as the status page and the reports write it; ``iso`` without a zone."""
    if tz is None:
        return iso(ms)
    moment = from_ms(ms).astimezone(tz)
    clock = "%H:%M:%S" if moment.second else "%H:%M"
    return f"{moment.strftime('%Y-%m-%d ' + clock)} {utc_offset(moment)}"


def utc_offset(moment: dt.datetime) -> str:
    """``+02:00``."""
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def parse_iso_ms(text: str) -> int:
    """The instant ``iso`` wrote (an offset is required: a naive time is an error)."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return to_ms(moment)


def local_midnight_ms(day: dt.date, tz: ZoneInfo) -> int:
    """The instant local ``day`` begins in ``tz``."""
    wall = dt.datetime(day.year, day.month, day.day)
    first = to_ms(wall.replace(tzinfo=tz, fold=0))
    second = to_ms(wall.replace(tzinfo=tz, fold=1))
    if from_ms(first).astimezone(tz).replace(tzinfo=None) == wall:
        return first  # exists (if twice, fold=0 is the earlier)
    # In a gap: the two folds bracket the transition; find its first instant, to the second.
    lo, hi = sorted((second, first))
    lo_s, hi_s = lo // 1000, -(-hi // 1000)
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if from_ms(mid * 1000).astimezone(tz).date() >= day:
            hi_s = mid
        else:
            lo_s = mid + 1
    return lo_s * 1000


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[int, int]:
    """``[start_ms, end_ms)`` of a calendar month in ``tz``."""
    ny, nm = next_month(year, month)
    return local_midnight_ms(dt.date(year, month, 1), tz), local_midnight_ms(dt.date(ny, nm, 1), tz)


def month_of(ms: int, tz: ZoneInfo) -> tuple[int, int]:
    """The local calendar month an instant falls in."""
    local = from_ms(ms).astimezone(tz)
    return local.year, local.month


def claim_deadline(year: int, month: int, days: int) -> dt.date:
    """``days`` after the month's last local day (SLA §9.4)."""
    ny, nm = next_month(year, month)
    return dt.date(ny, nm, 1) - dt.timedelta(days=1) + dt.timedelta(days=days)


def business_days(lo: int, hi: int, tz: ZoneInfo, holidays: frozenset) -> Intervals:
    """Monday–Friday local days, less holidays, overlapping ``[lo, hi)`` (not clipped)."""
    out: Intervals = []
    day = from_ms(lo).astimezone(tz).date()
    last = from_ms(hi).astimezone(tz).date()
    while day <= last:
        if day.weekday() < 5 and day not in holidays:
            out.append((local_midnight_ms(day, tz), local_midnight_ms(day + dt.timedelta(days=1), tz)))
        day += dt.timedelta(days=1)
    return out

