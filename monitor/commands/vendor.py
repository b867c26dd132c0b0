"""`vendor-report add | import | list`: the vendor's own SLA reports (SLA §14), reconciled with ours;
`vendor-status import | list`: the incidents its status page posted."""
from __future__ import annotations

import argparse
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from ..accounting import month_report
from ..errors import InputError
from ..reports.serialize import post_json, vendor_report_rows
from ..sla.calendar import parse_month
from ..storage import opened
from ..vendor_reports import read_entries, read_incidents, report_row
from ..vendor_status import VendorStatusError, read_page
from .common import Context, emit_rows, read_input
from .parsing import command, group, rows_format


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``vendor-report add``, ``import`` and ``list``."""
    vendor = group(sub, "vendor-report", "the vendor's own SLA reports, beside ours",
                   "sla-monitor vendor-report add --month 2026-11 --region eu-west --availability 99.95",
                   "sla-monitor vendor-report list --month 2026-11")
    p = command(vendor, "add", "record the vendor's report of a region's month (a later one replaces it)",
                "sla-monitor vendor-report add --month 2026-11 --region eu-west --availability 99.95 "
                "--downtime-minutes 21.6 --incidents their-incidents.yaml",
                details="The month's report and claim then show their figures beside ours, the difference in minutes, "
                        "and which of our counted outages their incident summary lacks.")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--region", required=True)
    p.add_argument("--availability", required=True, help="their availability in percent, as written (99.95)")
    p.add_argument("--downtime-minutes", help="their Downtime in minutes, where they state it")
    p.add_argument("--incidents", metavar="FILE", help="their incident summary: YAML or CSV of start, end, title")
    p.add_argument("--note", default="", help="e.g. where the report came from")
    p = command(vendor, "import", "record a file of vendor reports (YAML, or CSV without incidents); all or none",
                "sla-monitor vendor-report import vendor-reports.yaml")
    p.add_argument("file")
    p = command(vendor, "list", "their figures beside ours, month by month", "sla-monitor vendor-report list")
    p.add_argument("--month", help="YYYY-MM (default: every month recorded)")
    rows_format(p)
    status = group(sub, "vendor-status", "the vendor's own status page: what it posted, beside our outages",
                   "sla-monitor vendor-status list", "sla-monitor vendor-status import incidents.json")
    p = command(status, "import", "record a saved copy of the page (a Statuspage's /api/v2/incidents.json, or the feed)",
                "sla-monitor vendor-status import incidents-2026-10.json",
                details="The daemon reads the page itself every vendor_status.interval; this is for what it could "
                        "not read (before it ran, or archived by someone else). All or none.")
    p.add_argument("file")
    rows_format(command(status, "list", "the incidents the vendor posted about our regions",
                        "sla-monitor vendor-status list --format json"))


def _store(ctx: Context, entries: list[tuple[str, Mapping[str, Any]]]) -> int:
    """Check every entry, then record them all in one transaction, saying what each did."""
    tz = ZoneInfo(ctx.fleet.timezone)
    regions = [r.name for r in ctx.cfg.regions]
    rows = [report_row(entry, where, regions, tz, ctx.now_ms) for where, entry in entries]
    lines = []
    with opened(ctx.db_path) as store, store.transaction():
        for row in rows:
            report_id, before = store.set_vendor_report(row, ctx.by, ctx.now_ms)
            what = f"vendor report {report_id} ({row['region']}, {row['month']}): {row['availability_percent']} %"
            if before is None:
                lines.append(f"{what} recorded")
            elif {k: before[k] for k in row} == row:
                lines.append(f"{what} as recorded")
            else:
                lines.append(f"{what} replaces the one recorded ({before['availability_percent']} %)")
    print("\n".join(lines))
    return 0


def vendor_add(ctx: Context, args: argparse.Namespace) -> int:
    entry = {"month": args.month, "region": args.region, "availability": args.availability,
             "stated_downtime_minutes": args.downtime_minutes, "note": args.note,
             "incidents": read_incidents(args.incidents) if args.incidents else None}
    return _store(ctx, [("vendor-report add", entry)])


def vendor_import(ctx: Context, args: argparse.Namespace) -> int:
    return _store(ctx, read_entries(args.file))


def vendor_list(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        months = sorted({r["month"] for r in store.vendor_report_rows() if args.month in (None, r["month"])})
        results = [month_report(store, ctx.fleet, *parse_month(m), ctx.now_ms) for m in months]
    rows = vendor_report_rows(results)
    emit_rows(rows, args.format, ["month", "region", "their_percent", "our_percent", "their_downtime_minutes",
                                  "our_downtime_minutes", "difference_minutes"],
              lambda row: "–" if row["unlisted_outages"] is None else str(len(row["unlisted_outages"])),
              "outages they omit")
    return 0


def status_import(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.cfg.vendor_status is None:
        raise InputError("the config has no vendor_status section, whose components say which region each of the "
                         "page's incidents is about: add vendor_status: {url: …, components: {\"EU West\": eu-west}}")
    page, data = ctx.cfg.vendor_status, read_input(args.file)
    try:
        posts = read_page(data, page.kind, page.components, args.file)
    except VendorStatusError as exc:
        raise InputError(str(exc)) from None
    with opened(ctx.db_path) as store:
        added, changed = store.record_vendor_posts(posts, None, ctx.now_ms)
    print(f"{len(posts)} incidents about our regions in {args.file}: {added} new, {changed} changed, "
          f"{len(posts) - added - changed} as recorded")
    return 0


def status_list(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        posts = store.load_records().vendor_posts
    emit_rows([{**post_json(p), "regions": ", ".join(p.regions)} for p in posts], args.format,
              ["id", "regions", "posted", "started", "resolved", "impact", "title"])
    return 0


GROUPS = ("vendor-report", "vendor-status")
COMMANDS = {"vendor-report add": vendor_add, "vendor-report import": vendor_import, "vendor-report list": vendor_list,
            "vendor-status import": status_import, "vendor-status list": status_list}
