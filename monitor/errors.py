"""Errors that mean 'bad input': the CLI prints them on one line and exits 2."""
from __future__ import annotations

import datetime as dt

from .sla.calendar import to_ms


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
    return to_ms(moment)
