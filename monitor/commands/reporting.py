"""Reports for commands: resolve the month, open the store read-only, run the engine."""
from __future__ import annotations

from ..accounting import month_report, range_months, resolve_month
from ..sla.result import MonthResult
from ..storage import opened
from .common import Context


def range_for(ctx: Context, first_text: str, last_text: str, region: str | None) -> list[MonthResult]:
    """Each month's result from ``--from`` to ``--to``; the last must have started."""
    months = range_months(first_text, last_text, ctx.now_ms, ctx.fleet.timezone)
    if region is not None:
        ctx.check_region(region)
    with opened(ctx.db_path, create=False) as store:
        return [month_report(store, ctx.fleet, year, month, ctx.now_ms, None if region is None else [region])
                for year, month in months]


def report_for(ctx: Context, month_text: str | None, region: str | None) -> MonthResult:
    """The month's result (SLA-SPEC §10) for the command's month and optional region."""
    year, month = resolve_month(month_text, ctx.now_ms, ctx.fleet.timezone)
    if region is not None:
        ctx.check_region(region)
    with opened(ctx.db_path, create=False) as store:
        return month_report(store, ctx.fleet, year, month, ctx.now_ms, None if region is None else [region])
