"""/api/v1/exclusions and /api/v1/incidents: the same records and rules as `sla-monitor exclusion` and
`sla-monitor incident`."""
from __future__ import annotations

from ..config import Config
from ..errors import InputError, parse_instant
from ..records_file import ENTRY_KEYS, Rules, record_values
from ..sla.calendar import iso
from ..sla.model import SEVERITIES
from ..storage.interface import ExclusionRow

FIELDS = {*ENTRY_KEYS["exclusions"], "by"}


def exclusion_values(cfg: Config, body: object) -> tuple[dict, object]:
    """An exclusion's columns from a JSON body (``region`` or ``all``, ``start``, ``end``, ``cause``, ``note``,
    ``long``), checked as `exclusion add` checks its flags; and the body's ``by``."""
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object with start, end, cause, note and region or all")
    unknown = sorted(map(str, set(body) - FIELDS))
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(FIELDS))})")
    for flag in ("all", "long"):  # strict booleans: "no" is not false
        if flag in body and not isinstance(body[flag], bool):
            raise InputError(f"{flag} must be true or false, not {body[flag]!r}")
    rules = Rules([r.name for r in cfg.regions], [t.name for t in cfg.third_parties], cfg.storage.max_window_days)
    return record_values("exclusions", body, "body", rules), body.get("by")


def exclusion_json(row: ExclusionRow) -> dict:
    """A stored exclusion as the API and `exclusion list --format json` show it."""
    return {"id": row["id"], "region": row["region"], "all_regions": row["region"] is None,
            "start": iso(row["start_ms"]), "end": iso(row["end_ms"]), "cause": row["cause"], "note": row["note"],
            "created_by": row["created_by"], "created_at": iso(row["created_at_ms"]),
            "withdrawn": iso(row["withdrawn_at_ms"]), "managed_by": row["managed_by"]}


INCIDENT_FIELDS = {"region", "component", "severity", "opened", "resolved", "title", "by"}


def _fields(body: object, allowed: set[str], what: str) -> dict:
    if not isinstance(body, dict):
        raise InputError(f"body must be a JSON object ({what})")
    unknown = sorted(map(str, set(body) - allowed))
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return body


def incident_values(cfg: Config, body: object) -> tuple[dict, object]:
    """A hand incident's columns from a JSON body, checked as `incident add` checks its flags; and ``by``."""
    fields = _fields(body, INCIDENT_FIELDS, "region, severity, opened, and resolved, component, title")
    region = fields.get("region")
    regions = {r.name: r for r in cfg.regions}
    if region not in regions:
        raise InputError(f"region {region!r} is not configured ({', '.join(regions)})")
    component = fields.get("component")
    if component is not None and component not in {c.name for c in regions[str(region)].components}:
        raise InputError(f"component {component!r} is not a component of {region}")
    if fields.get("severity") not in SEVERITIES:
        raise InputError(f"severity {fields.get('severity')!r}: one of {', '.join(SEVERITIES)}")
    opened = parse_instant(fields.get("opened"), "opened")
    resolved = None if fields.get("resolved") is None else parse_instant(fields.get("resolved"), "resolved")
    if resolved is not None and resolved <= opened:
        raise InputError(f"resolved {fields['resolved']} must be after opened {fields['opened']}")
    title = fields.get("title") or ""
    if not isinstance(title, str):
        raise InputError("title must be text")
    return {"region": region, "component": component, "severity": fields["severity"], "opened_ms": opened,
            "resolved_ms": resolved, "title": title}, fields.get("by")


def correction(body: object) -> tuple[int | None, str | None, object]:
    """What a PATCH of an incident changes: its resolution, its severity (one at least); and ``by``."""
    fields = _fields(body, {"resolved", "severity", "by"}, "resolved and/or severity")
    if fields.get("resolved") is None and fields.get("severity") is None:
        raise InputError("give resolved, severity or both")
    severity = fields.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise InputError(f"severity {severity!r}: one of {', '.join(SEVERITIES)}")
    resolved = None if fields.get("resolved") is None else parse_instant(fields["resolved"], "resolved")
    return resolved, severity, fields.get("by")
