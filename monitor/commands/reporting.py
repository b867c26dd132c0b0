"""Reports for commands: resolve the month, open the store read-only, run the engine."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from ..accounting import month_report, range_months, resolve_month
from ..errors import InputError
from ..paperwork import claim_material, terms_of
from ..reports.claim import claim_view
from ..reports.document import LocalTimes
from ..sla.calendar import claim_deadline, from_ms, month_bounds
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


def claim_for(ctx: Context, month_text: str, region: str | None, force: bool) -> dict:
    """The claim letter's view for a month that is over and still inside its claim period, with a credit
    to claim; with ``force``, any month, marked with what is wrong."""
    contract = ctx.cfg.contract
    if contract is None:
        raise InputError("the config has no contract section, which a claim names: add contract: {reference: "
                         "<contract number>, customer: {name: …, contact: …, email: …}, provider: {name: …}}")
    year, month = resolve_month(month_text, ctx.now_ms, ctx.fleet.timezone)
    if region is not None:
        ctx.check_region(region)
    tz = ZoneInfo(ctx.fleet.timezone)
    label, month_end = f"{year:04d}-{month:02d}", month_bounds(year, month, tz)[1]
    today = from_ms(ctx.now_ms).astimezone(tz).date()
    deadline = claim_deadline(year, month, ctx.fleet.policy.claim_window_days)
    problems = []
    if ctx.now_ms < month_end:
        problems.append(f"DRAFT: {label} is not over until {LocalTimes(ctx.fleet.timezone).at(month_end)}: "
                        "its figures are month to date")
    if today > deadline:
        problems.append(f"LATE: the claim period for {label} ended {deadline.isoformat()} "
                        f"({ctx.fleet.policy.claim_window_days} days after the month, SLA §9.4)")
    with opened(ctx.db_path, create=False) as store:
        result, claimed, evidence, close = claim_material(store, ctx.fleet, year, month, ctx.now_ms,
                                                          None if region is None else [region],
                                                          ctx.cfg.evidence.signing_key)
    if not claimed:
        who = "no region earned a" if region is None else f"{region} earned no"
        problems.append(f"NOTHING TO CLAIM: {who} service credit in {label}")
    if problems and not force:
        raise InputError("; ".join(p.split(": ", 1)[1] for p in problems)
                         + " (--force prints the claim anyway, marked)")
    return claim_view(result, evidence, contract.model_dump(), terms_of(ctx.cfg), today.isoformat(), problems, close)


def write_output(document: str | bytes, output: str | None) -> None:
    """``document`` to ``output`` (replaced whole: a reader never sees half a file) or to standard output;
    binary output (PDF) is not written to a terminal."""
    data = document.encode() if isinstance(document, str) else document
    if output is None:
        if isinstance(document, bytes) and sys.stdout.isatty():
            raise InputError("PDF is binary: give --output FILE (or redirect standard output to a file)")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    if target.is_dir():
        raise InputError(f"--output {output} is a directory; give a file name (e.g. {target / 'report.pdf'})")
    if not target.parent.is_dir():
        raise InputError(f"--output {output}: directory {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
