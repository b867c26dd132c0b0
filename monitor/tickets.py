"""Support tickets from an ITSM tool's CSV export, as incidents for the resolution credit (§9.2).

A format says which columns hold the ticket's id, when it was opened (received and classified: the
contract measures from there), its priority, when it was resolved, its first response and its status
updates; the four presets are the exports of Zendesk, Jira Service Management, ServiceNow and
Freshdesk, and a config's ``ticket_exports`` describe any other. The whole file is read and checked
before anything is stored: the first bad value is an ``InputError`` naming its line, column and value.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
from dataclasses import dataclass
from typing import Iterator, Literal, Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from .errors import MAX_YEAR, MIN_YEAR, InputError
from .sla.calendar import iso, to_ms
from .storage.interface import TicketFields
from .storage.records import ticket_columns

UpdatesStyle = Literal["times", "jira", "servicenow"]
ISO = "ISO 8601"  # a time format: datetime.fromisoformat's (an offset, or the zone the import is told)


@dataclass(frozen=True)
class TicketFormat:
    """Where a CSV export keeps each thing an incident needs (column names as in its header row)."""

    name: str
    ticket: str
    opened: str
    priority: str
    priorities: Mapping[str, str]  # the export's priority (any case) → P1..P4
    resolved: tuple[str, ...] = ()  # the first of these columns with a value
    title: str | None = None
    responded: str | None = None  # the first response's time
    responded_after_minutes: str | None = None  # or its delay after opened, in minutes
    updates: str | None = None  # the status updates: repeated columns, or a journal
    updates_style: UpdatesStyle = "times"  # times: instants separated by ";" or new lines
    region: str | None = None  # the region's name; without it the import names one region for all
    time_formats: tuple[str, ...] = (ISO,)
    timezone: str | None = None  # the zone of times written without an offset

    def columns(self) -> dict[str, str]:
        """What each column is used for: the header must hold them all (the resolved ones: one at least)."""
        used = {"ticket": self.ticket, "opened": self.opened, "priority": self.priority, "title": self.title,
                "responded": self.responded or self.responded_after_minutes, "updates": self.updates,
                "region": self.region}
        return {what: column for what, column in used.items() if column}


_ZENDESK_LIKE = {"urgent": "P1", "high": "P2", "normal": "P3", "medium": "P3", "low": "P4"}
PRESETS = {
    # Zendesk's CSV export: times in the account's zone; the first reply as minutes after creation.
    "zendesk": TicketFormat("zendesk", "Id", "Created at", "Priority", _ZENDESK_LIKE, ("Solved at",), "Subject",
                            responded_after_minutes="First reply time in minutes",
                            time_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")),
    # Jira Service Management's "CSV (all fields)": one "Comment" column per comment, "DATE;AUTHOR;TEXT".
    "jsm": TicketFormat("jsm", "Issue key", "Created", "Priority",
                        {"highest": "P1", "high": "P2", "medium": "P3", "low": "P4", "lowest": "P4"},
                        ("Resolved",), "Summary", updates="Comment", updates_style="jira",
                        time_formats=("%d/%b/%y %I:%M %p", "%d/%b/%y %H:%M")),
    # ServiceNow's incident list as CSV: field names as headers, the customer-visible journal in "comments".
    "servicenow": TicketFormat("servicenow", "number", "opened_at", "priority",
                               {"1 - critical": "P1", "2 - high": "P2", "3 - moderate": "P3", "4 - low": "P4",
                                "5 - planning": "P4"},
                               ("resolved_at", "closed_at"), "short_description", updates="comments",
                               updates_style="servicenow", time_formats=("%Y-%m-%d %H:%M:%S",)),
    # Freshdesk's ticket export: the first response as a time of its own.
    "freshdesk": TicketFormat("freshdesk", "Ticket ID", "Created time", "Priority", _ZENDESK_LIKE,
                              ("Resolved time", "Closed time"), "Subject", responded="Initial response time",
                              time_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")),
}
SEVERITIES = ("P1", "P2", "P3", "P4")
_JOURNAL_ENTRY = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - .*\(Additional comments\)\s*$", re.MULTILINE)


class Ticket(NamedTuple):
    """One row of the export, read and checked: what its incident holds."""

    line: int
    region: str
    severity: str
    opened_ms: int
    resolved_ms: int | None
    title: str
    fields: TicketFields
    note: str | None = None  # a change the import made, said when it stores the ticket


@dataclass(frozen=True)
class Regions:
    """The fleet's regions by name with their environment, and the one the import names (if any)."""

    environments: Mapping[str, str]
    given: str | None = None


class _Row:
    """One CSV record's values by column, with its line for the errors."""

    def __init__(self, source: str, line: int, header: Sequence[str], values: Sequence[str]):
        self.where = f"{source}, line {line}"
        self.line = line
        self.by_column: dict[str, list[str]] = {}
        if len(values) > len(header):
            raise InputError(f"{self.where}: {len(values)} fields, but the header names {len(header)} columns; "
                             "a value with a comma or a line break needs quotes")
        for column, value in zip(header, values[:len(header)], strict=False):  # short rows: the rest are empty
            self.by_column.setdefault(column, []).append(value.strip())

    def get(self, column: str | None) -> str:
        return (self.by_column.get(column) or [""])[0] if column else ""

    def all(self, column: str) -> list[str]:
        return [v for v in self.by_column.get(column, []) if v]

    def error(self, column: str, value: str, problem: str) -> InputError:
        shown = value if len(value) <= 80 else value[:77] + "..."
        return InputError(f"{self.where}, column {column!r}: {shown!r} {problem}")


def read_tickets(data: bytes, source: str, fmt: TicketFormat, regions: Regions, zone: str | None,
                 now_ms: int) -> list[Ticket]:
    """Every ticket of the export, checked; ``InputError`` for the first thing wrong (nothing is stored)."""
    tz = _zone(zone or fmt.timezone, fmt)
    if fmt.region is None and regions.given is None:
        raise InputError(f"{source}: the {fmt.name} format names no region column; say which region the tickets "
                         "are about with --region (or map a region column in ticket_exports)")
    tickets: list[Ticket] = []
    seen: dict[str, int] = {}
    for row in _records(data, source, fmt):
        ticket = _ticket(row, fmt, regions, tz, now_ms)
        if ticket.fields.ticket in seen:
            raise row.error(fmt.ticket, row.get(fmt.ticket), f"is also the ticket on line {seen[ticket.fields.ticket]}; "
                            "an export holds each ticket once (was the file concatenated?)")
        seen[ticket.fields.ticket] = row.line
        tickets.append(ticket)
    return tickets


def _zone(name: str | None, fmt: TicketFormat) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        raise InputError(f"--timezone {name!r} is not a time zone (an IANA name such as Europe/Warsaw; "
                         f"the zone of the {fmt.name} account's times)") from None


def _records(data: bytes, source: str, fmt: TicketFormat) -> Iterator[_Row]:
    """The export's records after its header, each with the line it starts on."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{source}, line {line}: not UTF-8 text (byte {exc.start}); export the CSV as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1  # the line the record being read starts on
    try:
        header = [h.strip() for h in next(reader, [])]
        _check_header(header, source, fmt)
        start = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                yield _Row(source, start, header, values)
            start = reader.line_num + 1
    except csv.Error as exc:  # a field over csv's limit (128 KiB), a stray quote, a NUL byte
        raise InputError(f"{source}, line {start}: not a CSV record the {fmt.name} format can read ({exc}); "
                         "a field that large or malformed is not a ticket export's") from None


def _check_header(header: list[str], source: str, fmt: TicketFormat) -> None:
    missing = [column for column in fmt.columns().values() if column not in header]
    if fmt.resolved and not any(column in header for column in fmt.resolved):
        missing.append(" or ".join(fmt.resolved))
    if not missing:
        return
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, header, n=1)
        hints.append(f"{column!r}" + (f" (the file has {close[0]!r})" if close else ""))
    raise InputError(f"{source}, line 1: the header lacks the {fmt.name} export's column(s) {', '.join(hints)}; "
                     f"is this a {fmt.name} export? (the presets: {', '.join(PRESETS)}; any other export: describe "
                     "its columns in the config's ticket_exports)")


def _ticket(row: _Row, fmt: TicketFormat, regions: Regions, tz: ZoneInfo | None, now_ms: int) -> Ticket:
    ident = row.get(fmt.ticket)
    if not ident:
        raise row.error(fmt.ticket, ident, "is empty: every ticket needs its id")
    region = _region(row, fmt, regions)
    severity, note = _severity(row, fmt, region, regions.environments[region])
    opened = _instant(row, fmt.opened, fmt, tz, now_ms)
    if opened is None:
        raise row.error(fmt.opened, "", "is empty: when the ticket was opened is what its targets run from")
    resolved = next((_instant(row, c, fmt, tz, now_ms) for c in fmt.resolved if row.get(c)), None)
    if resolved is not None and resolved <= opened:
        column = next(c for c in fmt.resolved if row.get(c))
        raise row.error(column, row.get(column), f"is not after the ticket was opened ({iso(opened)})")
    responded = _responded(row, fmt, tz, now_ms, opened)
    updates = _updates(row, fmt, tz, now_ms)
    if updates is not None and fmt.updates_style != "times":  # a journal: its first entry is the response
        responded, updates = (updates[0], updates[1:]) if updates else (responded, updates)
    return Ticket(row.line, region, severity, opened, resolved, row.get(fmt.title),
                  TicketFields(f"{fmt.name}:{ident}", responded, updates), note)


def _region(row: _Row, fmt: TicketFormat, regions: Regions) -> str:
    name = row.get(fmt.region) if fmt.region else regions.given
    if name is None or name not in regions.environments:
        known = ", ".join(regions.environments)
        if fmt.region:
            raise row.error(fmt.region, name or "", f"is not a region of the config ({known})")
        raise InputError(f"--region {name!r}: not a region of the config ({known})")
    return name


def _severity(row: _Row, fmt: TicketFormat, region: str, environment: str) -> tuple[str, str | None]:
    written = row.get(fmt.priority)
    severity = fmt.priorities.get(written.casefold())
    if severity is None:
        known = ", ".join(sorted(set(fmt.priorities)))
        raise row.error(fmt.priority, written, f"is not a {fmt.name} priority this import knows ({known}); map it to "
                        "P1..P4 in the config's ticket_exports")
    if severity == "P1" and environment != "production":  # the contract: Critical applies only to production
        return "P3", f"{written} in non-production region {region} recorded as P3 (Critical is for production only)"
    return severity, None


def _instant(row: _Row, column: str, fmt: TicketFormat, tz: ZoneInfo | None, now_ms: int) -> int | None:
    """The time in ``column`` as UTC ms (None when empty); the format's forms, an offset or the zone."""
    return _parse_time(row, column, row.get(column), fmt, tz, now_ms)


def _parse_time(row: _Row, column: str, text: str, fmt: TicketFormat, tz: ZoneInfo | None,
                now_ms: int) -> int | None:
    if not text:
        return None
    moment = None
    for form in fmt.time_formats:
        try:
            moment = dt.datetime.fromisoformat(text) if form == ISO else dt.datetime.strptime(text, form)
            break
        except ValueError:
            continue
    if moment is None:
        raise row.error(column, text, f"is not a time as {fmt.name} writes it ({' or '.join(fmt.time_formats)})")
    if moment.tzinfo is None:
        if tz is None:
            raise row.error(column, text, f"has no UTC offset: {fmt.name} writes times in its account's time zone; "
                            "say which with --timezone (e.g. --timezone Europe/Warsaw)")
        moment = moment.replace(tzinfo=tz)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise row.error(column, text, f"is outside the years {MIN_YEAR}–{MAX_YEAR} (a typo in the year?)")
    ms = to_ms(moment)
    if ms > now_ms:
        raise row.error(column, text, f"is after now ({iso(now_ms)}); is --timezone the export's zone?")
    return ms


def _responded(row: _Row, fmt: TicketFormat, tz: ZoneInfo | None, now_ms: int, opened: int) -> int | None:
    if fmt.responded_after_minutes:
        text = row.get(fmt.responded_after_minutes)
        if not text:
            return None
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise row.error(fmt.responded_after_minutes, text, "is not a whole number of minutes")
        return opened + int(text) * 60_000
    responded = _instant(row, fmt.responded, fmt, tz, now_ms) if fmt.responded else None
    if responded is not None and responded < opened:
        raise row.error(fmt.responded or "", row.get(fmt.responded), f"is before the ticket was opened ({iso(opened)})")
    return responded


def _updates(row: _Row, fmt: TicketFormat, tz: ZoneInfo | None, now_ms: int) -> tuple[int, ...] | None:
    """The status updates' times in order (None: the format has no updates column)."""
    if not fmt.updates:
        return None
    if fmt.updates_style == "jira":  # each comment its own column: "03/Nov/26 10:30 AM;author;text"
        texts = [c.split(";", 1)[0].strip() for c in row.all(fmt.updates)]
    elif fmt.updates_style == "servicenow":  # one journal, newest first: "YYYY-MM-DD hh:mm:ss - Name (Additional comments)"
        texts = _JOURNAL_ENTRY.findall(row.get(fmt.updates))
    else:
        texts = [t.strip() for t in re.split(r"[;\n]", row.get(fmt.updates)) if t.strip()]
    times = [_parse_time(row, fmt.updates, text, fmt, tz, now_ms) for text in texts]
    return tuple(sorted(t for t in times if t is not None))


class TicketPlan(NamedTuple):
    """What an import changes: tickets to add, stored incidents to change (row, ticket, new columns)."""

    add: list[Ticket]
    change: list[tuple[dict, Ticket, dict]]
    unchanged: int


def plan_tickets(tickets: Sequence[Ticket], stored: Sequence[dict]) -> TicketPlan:
    """Match the export's tickets to the incidents earlier imports stored, by ticket id: a ticket seen
    before changes its incident where a value differs; a stored ticket the export lacks is left alone
    (exports are often of a date range)."""
    by_ticket = {row["ticket"]: row for row in stored}
    add, change, unchanged = [], [], 0
    for ticket in tickets:
        row = by_ticket.get(ticket.fields.ticket)
        if row is None:
            add.append(ticket)
            continue
        changes = {k: v for k, v in ticket_values(ticket).items() if row.get(k) != v}
        if changes:
            change.append((row, ticket, changes))
        else:
            unchanged += 1
    return TicketPlan(add, change, unchanged)


def ticket_values(ticket: Ticket) -> dict:
    """The columns of a ticket's incident that an import sets (the stored form)."""
    return {"region": ticket.region, "severity": ticket.severity, "opened_ms": ticket.opened_ms,
            "resolved_ms": ticket.resolved_ms, "title": ticket.title, **ticket_columns(ticket.fields)}


def described(column: str, before: object, after: object) -> str:
    """A change of one column in words, times in ISO."""
    if column.endswith("_ms"):
        before, after = (iso(v) if isinstance(v, int) else "none" for v in (before, after))
        column = column[:-3]
    elif column == "updates":
        before, after = _count(before), _count(after)
    return f"{column} {before} → {after}"


def _count(updates: object) -> str:
    return "not in the export" if updates is None else f"{len(json.loads(str(updates)))} recorded"
