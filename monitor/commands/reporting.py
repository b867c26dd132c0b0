"""Reports for commands: resolve the month, open the store read-only, run the engine."""
from __future__ import annotations

from ..accounting import month_report, resolve_month
from ..sla.result import MonthResult
from ..storage import opened
from .common import Context


def report_for(ctx: Context, month_text: str | None, region: str | None) -> MonthResult:
    """The month's result (SLA-SPEC §10) for the command's month and optional region."""
    year, month = resolve_month(month_text, ctx.now_ms, ctx.fleet.timezone)
    if region is not None:
        ctx.check_region(region)
    with opened(ctx.db_path, create=False) as store:
        return month_report(store, ctx.fleet, year, month, ctx.now_ms, None if region is None else [region])
