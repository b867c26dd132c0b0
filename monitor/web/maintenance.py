"""/api/v1/maintenance: the same records and rules as `sla-monitor maintenance`."""
from __future__ import annotations

from ..config import Config
from ..errors import InputError, parse_instant, span
from ..live.maintenance import MaintenanceService
from ..storage import StoreError
from ..values import api_author

FIELDS = {"region", "all", "start", "end", "kind", "announced_at", "reason", "by", "long"}


async def add_window(service: MaintenanceService, cfg: Config, body: object, token: str) -> dict:
    """Validate a JSON body like the CLI's flags and record the window, as written by ``token``'s holder."""
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object with start, end, kind, announced_at, reason and region or all")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(FIELDS))})")
    for flag in ("all", "long"):  # strict booleans: "no" is not false
        if flag in body and not isinstance(body[flag], bool):
            raise InputError(f"{flag} must be true or false, not {body[flag]!r}")
    region = body.get("region")
    if region is not None and not isinstance(region, str):
        raise InputError(f"region must be a region name, not {str(region)[:40]!r}")
    if bool(region) == bool(body.get("all")):
        raise InputError("give exactly one of region or all: true")
    if region is not None and region not in {r.name for r in cfg.regions}:
        raise InputError(f"region {region!r} is not configured")
    if body.get("kind") not in ("scheduled", "emergency"):
        raise InputError(f"kind {body.get('kind')!r} must be scheduled or emergency")
    try:
        start, end = span(body.get("start"), body.get("end"), body.get("long", False),
                          cfg.storage.max_window_days)
    except InputError as exc:  # the CLI's rule, in the API's field names
        raise InputError(str(exc).replace("--start", "start").replace("--end", "end").replace("--long", "long: true")) from None
    announced = parse_instant(body.get("announced_at"), "announced_at")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("reason must say what the maintenance is for")
    return await service.add(region=region, start_ms=start, end_ms=end, kind=body["kind"],
                             announced_at_ms=announced, reason=reason, by=api_author(body.get("by"), token))


async def cancel_window(service: MaintenanceService, window_id: str, token: str) -> None:
    try:
        await service.cancel(int(window_id), api_author(None, token))
    except StoreError as exc:
        raise InputError(str(exc)) from None
