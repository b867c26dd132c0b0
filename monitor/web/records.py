"""/api/v1/exclusions: the same records and rules as `sla-monitor exclusion`."""
from __future__ import annotations

from ..config import Config
from ..errors import InputError
from ..records_file import ENTRY_KEYS, Rules, record_values
from ..sla.calendar import iso
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
