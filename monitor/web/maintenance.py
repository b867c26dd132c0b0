"""/api/v1/maintenance: the same records and rules as `sla-monitor maintenance`."""
from __future__ import annotations

from ..config import Config
from ..errors import InputError, parse_instant, span
from ..live.maintenance import MaintenanceService
from ..storage import StoreError
from ..values import api_author


async def add_window(service: MaintenanceService, cfg: Config, fields: dict, who: str) -> dict:
    """Check a body's fields (``MaintenanceIn``) as the CLI checks its flags and record the window, as
    written by ``who`` (the token's name and address)."""
    region = fields.get("region")
    if bool(region) == bool(fields.get("all")):
        raise InputError("give exactly one of region or all: true")
    if region is not None and region not in {r.name for r in cfg.regions}:
        raise InputError(f"region {region!r} is not configured")
    try:
        start, end = span(fields.get("start"), fields.get("end"), fields.get("long", False),
                          cfg.storage.max_window_days)
    except InputError as exc:  # the CLI's rule, in the API's field names
        raise InputError(str(exc).replace("--start", "start").replace("--end", "end").replace("--long", "long: true")) from None
    announced = parse_instant(fields.get("announced_at"), "announced_at")
    reason = fields["reason"]
    if not reason.strip():
        raise InputError("reason must say what the maintenance is for")
    return await service.add(region=region, start_ms=start, end_ms=end, kind=fields["kind"],
                             announced_at_ms=announced, reason=reason, by=api_author(fields.get("by"), who))


async def cancel_window(service: MaintenanceService, window_id: int, who: str) -> None:
    """Cancel a window, as ``who`` (the token's name and address)."""
    try:
        await service.cancel(window_id, api_author(None, who))
    except StoreError as exc:
        raise InputError(str(exc)) from None
