"""Scalar setting types shared by the config models and the plug-ins' own settings: durations, identifiers,
money. Below config and every plug-in (destinations, probe kinds), so that each can declare its settings."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict

POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(location: str) -> bool:
    """Whether a store's ``location`` (``storage.url``, ``storage.path`` or ``--db``) names a PostgreSQL database."""
    return "://" in location and location.partition("://")[0] in POSTGRES_SCHEMES


_INTS: dict[int, int] = {}  # shared_int's objects


def shared_int(value: int) -> int:
    """One object for equal ints: 20,000 probes' intervals, timeouts and staleness limits share a handful
    (an int above 256 is an object of its own each time it is made: 32 bytes)."""
    return _INTS.setdefault(value, value)


_DURATION = re.compile(r"(\d+)\s*(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_DURATION_MS = 365 * 86_400_000  # longer is a typo, and would overflow the store's arithmetic


def parse_duration_ms(value: object) -> int:
    """``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"250ms"`` or a bare number of seconds → milliseconds."""
    if isinstance(value, bool):
        raise ValueError('must be a duration like "30s", "5m" or "2h"')
    if isinstance(value, int):
        ms = value * 1000
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        number, unit = match.groups()
        ms = int(number) * _UNIT_MS[unit]
    else:
        raise ValueError('must be a duration like "30s", "5m" or "2h"')
    if ms <= 0:
        raise ValueError('must be > 0 (e.g. "30s")')
    if ms > MAX_DURATION_MS:
        raise ValueError("must be at most 365d")
    return ms


def parse_decimal(value: object) -> Decimal:
    """Money and percentages as exact decimals; a YAML float goes through its text, not its binary value."""
    if isinstance(value, bool):
        raise ValueError('must be a number like 1200 or "1200.00"')
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError('must be a number like 1200 or "1200.00"') from None


DurationMs = Annotated[int, BeforeValidator(parse_duration_ms)]
ExactDecimal = Annotated[Decimal, BeforeValidator(parse_decimal)]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


def check_currency(code: str) -> str:
    """An ISO 4217 code in capitals (ValueError otherwise): the config's check, and init's."""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError('must be an ISO 4217 code like "EUR"')
    return code


Currency = Annotated[str, AfterValidator(check_currency)]


def linear_regex(pattern: str, ignore_case: bool = False) -> Any:
    """``pattern`` compiled by RE2, whose matching time is linear in the text: a target's body can never
    stall the event loop however the pattern is written (``(a+)+$`` included). ValueError for syntax
    RE2 does not have (backreferences, look-arounds)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the caller reports the error, once
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a regular expression RE2 accepts ({detail}); RE2 has no backreferences or "
                         "look-arounds") from None


def _check_regex(pattern: str) -> str:
    linear_regex(pattern)
    return pattern


Regex = Annotated[str, AfterValidator(_check_regex)]


# Marks a setting as a secret (``Field(json_schema_extra=SECRET)``): never logged, printed, or shown in
# an error, the config's own included. Declaring it is all a new secret setting needs.
SECRET: JsonDict = {"secret": True}


def is_secret(field: FieldInfo) -> bool:
    """Whether the setting is marked ``SECRET``."""
    return isinstance(field.json_schema_extra, dict) and bool(field.json_schema_extra.get("secret"))


def by_tag(kinds: Any, tag: str) -> dict[str, Any]:
    """A plug-in registry's table: each member of the ``kinds`` Union by the literal value of its ``tag``
    field (a probe's ``kind``, a destination's ``type``), in the Union's order."""
    return {get_args(model.model_fields[tag].annotation)[0]: model for model in get_args(kinds)}


def api_author(by: object, token: str) -> str:
    """The audit trail's author of a write through the API: the token's name (``web.tokens``), after the
    ``by`` the request's body gives, which anyone holding the token could write."""
    return f"{by} (api:{token})" if by else f"api:{token}"
