"""Errors that mean 'bad input': the CLI prints them on one line and exits 2."""
from __future__ import annotations

import datetime as dt

from .sla.calendar import to_ms

MIN_YEAR, MAX_YEAR = 1970, 2100  # instants outside are typos (2126 for 2026), not plans


class InputError(Exception):
    """Bad input from the user: says what and where, and how to fix it."""


def parse_instant(text: object, what: str) -> int:
    """An ISO 8601 timestamp with an offset (or ``Z``) as UTC milliseconds; naive ones are errors."""
    if not isinstance(text, str):
        raise InputError(f"{what}: {text!r} is not a timestamp string (e.g. \"2026-11-03T10:00:00Z\")")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 timestamp (e.g. \"2026-11-03T10:00:00Z\")") from None
    if moment.tzinfo is None:
        raise InputError(f"{what}: {text!r} has no UTC offset; add \"Z\" or \"+01:00\" (naive timestamps are ambiguous)")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InputError(f"{what}: {text!r} is outside the years {MIN_YEAR}–{MAX_YEAR} (a typo in the year?)")
    return to_ms(moment)


def automatic_incident(incident_id: str, what: str) -> tuple[str, str, int]:
    """An automatic incident's id (REGION/COMPONENT/START, as `incident list` shows it) split into its
    region, component and start; an InputError naming ``what`` when it is not one."""
    region, _, rest = incident_id.partition("/")
    component, _, start = rest.partition("/")
    if not region or not component or not start:
        raise InputError(f"{what} {incident_id!r} is not an incident id: an automatic incident's id is "
                         "REGION/COMPONENT/START (`incident list` shows them)")
    return region, component, parse_instant(start, f"{what}'s start")


FLAGS = ("--start", "--end", "--long")  # what span's messages call its inputs on the command line
FIELDS = ("start", "end", "long: true")  # and in a body or a records file


def span(start: object, end: object, long: bool = False, max_days: int = 31,
         names: tuple[str, str, str] = FLAGS) -> tuple[int, int]:
    """Parse a window's start and end (``names``: what the messages call them and the override); end must
    be after start, and at most ``max_days`` later unless ``long`` (a longer window excludes that much of
    the SLA: a typo, unless said)."""
    start_name, end_name, long_name = names
    start_ms, end_ms = parse_instant(start, start_name), parse_instant(end, end_name)
    if end_ms <= start_ms:
        raise InputError(f"{end_name} {end} must be after {start_name} {start}")
    if end_ms - start_ms > max_days * 86_400_000 and not long:
        days = (end_ms - start_ms) / 86_400_000
        raise InputError(f"{start_name} {start} to {end_name} {end} is {days:,.1f} days: a window over {max_days} "
                         f"days excludes that much of the SLA; check the dates, or add {long_name} if it is meant "
                         "(storage.max_window_days sets the limit)")
    return start_ms, end_ms


class PrometheusError(Exception):
    """A Prometheus could not answer a query (after retries) or refused it; the text says which and why."""
