"""Reports for commands: resolve the month, open the store read-only, run the engine."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from ..accounting import month_report
from ..errors import InputError
from ..sla.calendar import month_bounds, month_of, parse_month
from ..storage import opened
from .common import Context


def month_for(ctx: Context, text: str | None) -> tuple[int, int]:
    """``--month`` (default: the current local month); a month that has not started is an error."""
    tz = ZoneInfo(ctx.fleet.timezone)
    year, month = parse_month(text) if text else month_of(ctx.now_ms, tz)
    if month_bounds(year, month, tz)[0] > ctx.now_ms:
        raise InputError(f"--month {year:04d}-{month:02d} has not started yet (it is later than now)")
    return year, month


def report_for(ctx: Context, month_text: str | None, region: str | None) -> dict:
    """The SLA-SPEC §10 report object for the command's month and optional region."""
    year, month = month_for(ctx, month_text)
    if region is not None:
        ctx.check_region(region)
    with opened(ctx.db_path, create=False) as store:
        return month_report(store, ctx.fleet, year, month, ctx.now_ms, None if region is None else [region])
