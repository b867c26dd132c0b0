"""/api/v1/exclusions, /incidents, /overrides and /vendor-reports: the same records and rules as
`sla-monitor exclusion`, `incident` and `vendor-report`."""
from __future__ import annotations

import json

from ..config import Config
from ..errors import InputError, parse_instant
from ..records_file import Rules, record_values
from ..sla.calendar import iso
from ..storage.interface import ExclusionRow


def exclusion_values(cfg: Config, fields: dict) -> dict:
    """An exclusion's columns from a body's fields (``ExclusionIn``), checked as `exclusion add` checks its
    flags."""
    return record_values("exclusions", fields, "body", Rules.of(cfg))


def exclusion_json(row: ExclusionRow) -> dict:
    """A stored exclusion as the API and `exclusion list --format json` show it."""
    return {"id": row["id"], "region": row["region"], "all_regions": row["region"] is None,
            "start": iso(row["start_ms"]), "end": iso(row["end_ms"]), "cause": row["cause"], "note": row["note"],
            "created_by": row["created_by"], "created_at": iso(row["created_at_ms"]),
            "withdrawn": iso(row["withdrawn_at_ms"]), "managed_by": row["managed_by"]}


def incident_values(cfg: Config, fields: dict) -> dict:
    """A hand incident's columns from a body's fields (``IncidentIn``), checked as `incident add` checks
    its flags."""
    region = fields["region"]
    regions = {r.name: r for r in cfg.regions}
    if region not in regions:
        raise InputError(f"region {region!r} is not configured ({', '.join(regions)})")
    component = fields.get("component")
    if component is not None and component not in {c.name for c in regions[region].components}:
        raise InputError(f"component {component!r} is not a component of {region}")
    opened = parse_instant(fields["opened"], "opened")
    resolved = None if fields.get("resolved") is None else parse_instant(fields["resolved"], "resolved")
    if resolved is not None and resolved <= opened:
        raise InputError(f"resolved {fields['resolved']} must be after opened {fields['opened']}")
    return {"region": region, "component": component, "severity": fields["severity"], "opened_ms": opened,
            "resolved_ms": resolved, "title": fields.get("title", "")}


def correction(fields: dict) -> tuple[int | None, str | None, str | None]:
    """What a PATCH of an incident changes (``IncidentChange``): its resolution, its severity (one at
    least); and ``by``."""
    if fields.get("resolved") is None and fields.get("severity") is None:
        raise InputError("give resolved, severity or both")
    resolved = None if fields.get("resolved") is None else parse_instant(fields["resolved"], "resolved")
    return resolved, fields.get("severity"), fields.get("by")


def override_json(row: dict) -> dict:
    """A correction of an automatic incident as the API shows it."""
    return {"incident_id": row["incident_id"], "resolved": iso(row["resolved_ms"]), "severity": row["severity"],
            "updated_by": row["updated_by"], "updated_at": iso(row["updated_at_ms"]),
            "managed_by": row.get("managed_by")}


def vendor_report_json(row: dict) -> dict:
    """The vendor's report of a region's month as recorded."""
    downtime = row["stated_downtime_ms"]
    incidents = None if row["incidents"] is None else [{"start": iso(start), "end": iso(end), "title": title}
                                                       for start, end, title in json.loads(row["incidents"])]
    return {"id": row["id"], "month": row["month"], "region": row["region"],
            "availability_percent": row["availability_percent"],
            "stated_downtime_minutes": None if downtime is None else downtime / 60_000, "incidents": incidents,
            "note": row["note"], "created_by": row["created_by"], "created_at": iso(row["created_at_ms"])}
