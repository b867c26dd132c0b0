"""The vendor's own SLA reports (SLA §14), as entered (`vendor-report add`) or read from a file
(`vendor-report import`: YAML, or CSV without incidents), each checked whole before anything is stored.
An entry: month, region, availability (percent, as they wrote it), optionally their Downtime in
minutes, their incident summary (start, end, title) and a note."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

import yaml

from .errors import InputError, parse_instant
from .sla.calendar import MonthError, month_bounds, parse_month

ENTRY_KEYS = ("month", "region", "availability", "stated_downtime_minutes", "incidents", "note")
INCIDENT_KEYS = ("start", "end", "title")


def report_row(entry: Mapping[str, Any], where: str, regions: Sequence[str], tz: ZoneInfo, now_ms: int) -> dict:
    """One entry checked, as the ``vendor_reports`` columns it is stored in."""
    unknown = sorted(map(str, set(entry) - set(ENTRY_KEYS)))  # a CSV row with too many fields: None
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)} (an entry has {', '.join(ENTRY_KEYS)})")
    for key in ("month", "region", "availability"):
        if entry.get(key) in (None, ""):
            raise InputError(f"{where}: {key} is missing")
    month = str(entry["month"])
    try:
        start, end = month_bounds(*parse_month(month), tz)
    except MonthError as exc:
        raise InputError(f"{where}: {exc}") from None
    if start > now_ms:
        raise InputError(f"{where}: month {month} has not begun; a vendor reports a month after it")
    region = str(entry["region"])
    if region not in regions:
        raise InputError(f"{where}: region {region!r} is not in the config ({', '.join(regions)})")
    availability = _decimal(entry["availability"], f"{where}: availability", 100)
    minutes = entry.get("stated_downtime_minutes")
    downtime = None if minutes in (None, "") else _decimal(minutes, f"{where}: stated_downtime_minutes",
                                                          (end - start) / 60_000)
    if downtime is not None and (downtime * 60_000) % 1:
        raise InputError(f"{where}: stated_downtime_minutes {minutes} is finer than a millisecond")
    incidents = entry.get("incidents")
    return {"month": month, "region": region, "availability_percent": str(availability),
            "stated_downtime_ms": None if downtime is None else int(downtime * 60_000),
            "incidents": None if incidents is None else json.dumps(incident_list(incidents, where, start, end)),
            "note": str(entry.get("note") or "")}


def _decimal(value: object, what: str, most: float) -> Decimal:
    """A decimal from 0 to ``most``; a YAML float is read as it was written (99.95, not its binary cousin)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(f"{what}: {value!r} is not a number (e.g. 99.95)") from None
    if not number.is_finite() or not 0 <= number <= Decimal(str(most)):
        raise InputError(f"{what}: {value!r} is outside 0–{most:g}")
    return number


def incident_list(items: object, where: str, month_start: int, month_end: int) -> list[list]:
    """The vendor's incident summary as ``[start_ms, end_ms, title]`` lists; each must touch the month."""
    if not isinstance(items, list):
        raise InputError(f"{where}: incidents must be a list of {{start, end, title}}")
    found = []
    for number, item in enumerate(items, 1):
        here = f"{where}: incident {number}"
        if not isinstance(item, Mapping):
            raise InputError(f"{here}: not a mapping of {', '.join(INCIDENT_KEYS)}")
        unknown = sorted(set(item) - set(INCIDENT_KEYS))
        if unknown:
            raise InputError(f"{here}: unknown key(s) {', '.join(map(str, unknown))} (use {', '.join(INCIDENT_KEYS)})")
        start = parse_instant(_text(item.get("start")), f"{here}: start")
        end = parse_instant(_text(item.get("end")), f"{here}: end")
        if end <= start:
            raise InputError(f"{here}: end {item.get('end')} is not after start {item.get('start')}")
        if end <= month_start or start >= month_end:
            raise InputError(f"{here}: {item.get('start')} – {item.get('end')} lies outside the report's month")
        found.append([start, end, str(item.get("title") or "")])
    return found


def _text(value: object) -> object:
    # YAML reads an unquoted timestamp as a datetime; its ISO form is what was written.
    return value.isoformat() if hasattr(value, "isoformat") else value


def read_entries(path: str) -> list[tuple[str, Mapping[str, Any]]]:
    """A file's entries, each with where it is (file and entry number or line): YAML or JSON (a list of
    entries, incidents inline) or CSV (a header of entry keys, one report a row, no incidents)."""
    data = read_file(path)
    if path.endswith(".csv"):
        rows = csv.DictReader(io.StringIO(data))
        entries: list[tuple[str, Mapping[str, Any]]] = [(f"{path}, line {n}", row) for n, row in enumerate(rows, 2)]
        if rows.fieldnames is None or "incidents" in rows.fieldnames:
            raise InputError(f"{path}: a CSV of vendor reports needs a header of {', '.join(ENTRY_KEYS[:4])}"
                             " (their incidents: the YAML form, or vendor-report add --incidents)")
        return entries
    try:
        loaded = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML ({exc})") from None
    if not isinstance(loaded, list) or not all(isinstance(e, Mapping) for e in loaded):
        raise InputError(f"{path}: expected a list of entries ({', '.join(ENTRY_KEYS)})")
    return [(f"{path}: entry {n}", entry) for n, entry in enumerate(loaded, 1)]


def read_incidents(path: str) -> list[Mapping[str, Any]]:
    """An incident summary file: YAML/JSON (a list of start, end, title) or CSV with that header."""
    data = read_file(path)
    if path.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(data)))
    try:
        loaded = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML ({exc})") from None
    if not isinstance(loaded, list):
        raise InputError(f"{path}: expected a list of incidents ({', '.join(INCIDENT_KEYS)})")
    return loaded


def read_file(path: str) -> str:
    """A text file's content, or an InputError saying why not."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
