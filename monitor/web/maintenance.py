"""/api/v1/maintenance: the same records and rules as `sla-monitor maintenance` (and a records file's)."""
from __future__ import annotations

from ..config import Config
from ..errors import InputError
from ..live.maintenance import MaintenanceService
from ..records_file import Rules, record_values
from ..storage import StoreError
from ..values import api_author


async def add_window(service: MaintenanceService, cfg: Config, fields: dict, who: str) -> dict:
    """Check a body's fields (``MaintenanceIn``) as a records file's entry is checked and record the
    window, as written by ``who`` (the token's name and address)."""
    values = record_values("maintenance", fields, "body", Rules.of(cfg))
    return await service.add(**values, by=api_author(fields.get("by"), who))


async def cancel_window(service: MaintenanceService, window_id: int, who: str) -> None:
    """Cancel a window, as ``who`` (the token's name and address)."""
    try:
        await service.cancel(window_id, api_author(None, who))
    except StoreError as exc:
        raise InputError(str(exc)) from None
