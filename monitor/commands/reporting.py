"""Reports for commands: resolve the month, open the store read-only, run the engine."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ..accounting import month_report, range_months, resolve_month
from ..config import Config
from ..errors import InputError
from ..reports import Terms
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


def terms_of(cfg: Config) -> Terms:
    """The contract's terms a document states beside the figures."""
    p = cfg.policy
    return Terms(service=cfg.service, credit_cap_percent=p.credit_cap_percent,
                 maintenance_notice_hours=p.maintenance_notice_hours, claim_window_days=p.claim_window_days)


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
