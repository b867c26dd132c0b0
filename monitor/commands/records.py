"""`maintenance`, `exclusion` and `incident` commands: hand-kept records."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from ..accounting import month_report
from ..config import Config
from ..errors import InputError, automatic_incident, parse_instant, span
from ..hooks.events import UPDATE_STATUSES
from ..maintenance_ics import CalendarEvent, Horizon, ImportPlan
from ..records_file import cause_problem
from ..reports.serialize import incident_rows, record_window_json
from ..sla.calendar import iso, month_bounds, month_of, next_month, previous_month
from ..sla.exclusions import assess_maintenance
from ..sla.model import HAND_CAUSES, SEVERITIES, Incident, MaintenanceWindow
from ..storage import opened
from ..storage.records import is_hand_id, window_of
from ..tickets import PRESETS, Regions, TicketFormat, described, plan_tickets, read_tickets
from ..updates import checked, outage_of, outages, update_event
from .common import Context, emit_rows, read_input
from .parsing import command, group, rows_format, whole_number
from .reporting import report_for

HORIZON_DAYS = 90  # a recurring maintenance window's occurrences ahead (maintenance import)
MAX_HORIZON_DAYS = 3_660

GROUPS = ("maintenance", "exclusion", "incident")


def _regions_and_span(parser: argparse.ArgumentParser) -> None:
    """``--region NAME | --all`` and ``--start``/``--end``, shared by maintenance and exclusions."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--region")
    where.add_argument("--all", action="store_true", help="every region")
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--long", action="store_true", help="allow a window longer than storage.max_window_days")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the three record groups and their actions."""
    maint = group(sub, "maintenance", "maintenance windows: record, list, cancel, import and export them",
                  "sla-monitor maintenance list", "sla-monitor maintenance import vendor-calendar.ics")
    p = command(maint, "add", "record a maintenance window the provider announced",
                "sla-monitor maintenance add --region eu-west --start 2026-11-14T01:00:00Z --end 2026-11-14T02:00:00Z "
                "--kind scheduled --announced-at 2026-11-10T09:00:00Z --reason \"database upgrade\"",
                details="Scheduled maintenance excludes its time only when announced policy.maintenance_notice_hours "
                        "(48) ahead; the verdict is printed.")
    _regions_and_span(p)
    p.add_argument("--kind", required=True, choices=["scheduled", "emergency"])
    p.add_argument("--announced-at", required=True, help="when customers were told (48 h notice for scheduled)")
    p.add_argument("--reason", required=True)
    rows_format(command(maint, "list", "every maintenance window with its verdict", "sla-monitor maintenance list "
                        "--format json"))
    command(maint, "cancel", "cancel a window (it then excludes nothing)",
            "sla-monitor maintenance cancel 3").add_argument("id", type=whole_number)
    p = command(maint, "import", "record an iCalendar file's windows; a re-import applies its changes (all or none)",
                "sla-monitor maintenance import vendor-calendar.ics --region-property X-SLA-REGION")
    p.add_argument("file", help="an .ics file")
    p.add_argument("--region-property", default="X-SLA-REGION",
                   help="the event property naming the region (default X-SLA-REGION; else one category)")
    p.add_argument("--horizon-days", type=whole_number, default=HORIZON_DAYS,
                   help=f"a recurring event's occurrences are recorded from the first day of the previous month "
                        f"to this many days ahead (default {HORIZON_DAYS})")
    p = command(maint, "export", "upcoming and recent windows as an iCalendar file",
                "sla-monitor maintenance export --region eu-west --output eu-west.ics")
    p.add_argument("--region", help="only this region's windows (and those of every region)")
    p.add_argument("--output", help="write to this file (default: standard output)")

    excl = group(sub, "exclusion", "hand-entered exclusions: time the SLA does not count, with a reason",
                 "sla-monitor exclusion list")
    p = command(excl, "add", "exclude an interval of a region (or dispute one with --cause counted)",
                "sla-monitor exclusion add --region eu-west --start 2026-11-03T10:00:00Z --end 2026-11-03T10:40:00Z "
                "--cause third_party:genesys-euw1 --note \"Genesys Cloud incident INC-123\"")
    _regions_and_span(p)
    p.add_argument("--cause", required=True, help=f"one of {', '.join(HAND_CAUSES)}, third_party:<name>, counted")
    p.add_argument("--note", required=True)
    rows_format(command(excl, "list", "every hand-entered exclusion", "sla-monitor exclusion list --format json"))
    command(excl, "withdraw", "withdraw an exclusion (kept for the record; it excludes nothing from then on)",
            "sla-monitor exclusion withdraw 3").add_argument("id", type=whole_number)

    inc = group(sub, "incident", "incidents (support tickets) and their resolution times",
                "sla-monitor incident list --month 2026-11")
    p = command(inc, "add", "record an incident (a support ticket)",
                "sla-monitor incident add --region eu-west --severity P2 --opened 2026-11-03T10:05:00Z "
                "--title \"calls drop\"")
    p.add_argument("--region", required=True)
    p.add_argument("--component")
    p.add_argument("--severity", required=True, choices=SEVERITIES)
    p.add_argument("--opened", required=True)
    p.add_argument("--resolved")
    p.add_argument("--title", default="")
    p = command(inc, "list", "the month's incidents, automatic and hand-entered", "sla-monitor incident list")
    p.add_argument("--month", help="YYYY-MM (default: the current month)")
    rows_format(p)
    p = command(inc, "resolve", "set when an incident was resolved (a workaround, or an auto one's end)",
                "sla-monitor incident resolve 7 --at 2026-11-03T12:00:00Z")
    p.add_argument("id")
    p.add_argument("--at", required=True)
    p = command(inc, "classify", "change an incident's severity", "sla-monitor incident classify 7 --severity P1")
    p.add_argument("id")
    p.add_argument("--severity", required=True, choices=SEVERITIES)
    p = command(inc, "import", "record a ticket export's tickets as incidents; a re-import updates them (all or none)",
                "sla-monitor incident import tickets.csv --preset zendesk --region eu-west --timezone Europe/Warsaw",
                "sla-monitor incident import incidents.csv --preset servicenow --region eu-west --dry-run",
                details="Presets: zendesk, jsm (Jira Service Management), servicenow, freshdesk; any other export "
                        "is described in the config's ticket_exports. A ticket seen before updates its incident.")
    p.add_argument("file", help="a CSV export")
    p.add_argument("--preset", required=True, help="the export's format: a preset or a ticket_exports name")
    p.add_argument("--region", help="the region of every ticket (unless the format maps a region column)")
    p.add_argument("--timezone", help="the zone of the export's times when they carry no offset (IANA name)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, store nothing")
    p = command(inc, "update", "post a narrative update on an outage: the status page, its feed and the alerts show it",
                "sla-monitor incident update --region eu-west --status identified --message \"database failover\"",
                "sla-monitor incident update --region eu-west --outage 2026-11-03T10:00:00Z --status resolved "
                "--message \"fixed by the vendor\"")
    p.add_argument("--region", required=True)
    p.add_argument("--outage", metavar="START", help="the outage's start (default: the region's open outage)")
    p.add_argument("--status", required=True, choices=UPDATE_STATUSES)
    p.add_argument("--message", required=True)


def maintenance_add(ctx: Context, args: argparse.Namespace) -> int:
    if args.region:
        ctx.check_region(args.region)
    start_ms, end_ms = span(args.start, args.end, args.long, ctx.cfg.storage.max_window_days)
    if not args.reason.strip():
        raise InputError("--reason must say what the maintenance is for (it is shown in the report)")
    announced = parse_instant(args.announced_at, "--announced-at")
    with opened(ctx.db_path) as store:
        new_id = store.add_maintenance(region=None if args.all else args.region, start_ms=start_ms, end_ms=end_ms,
                                       kind=args.kind, announced_at_ms=announced, reason=args.reason, by=ctx.by,
                                       now_ms=ctx.now_ms)
    window = MaintenanceWindow(new_id, args.region, start_ms, end_ms, args.kind, announced, args.reason)
    print(f"maintenance {new_id} recorded: {_verdict(window, ctx)}")
    return 0


def _verdict(window: MaintenanceWindow, ctx: Context) -> str:
    """Whether a recorded window excludes, with its flags, in words."""
    reason, flags = assess_maintenance(window, ctx.fleet.policy)
    return ("excluded" if reason else "NOT excluded") + (f" ({', '.join(flags)})" if flags else "")


def maintenance_list(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        rows = store.maintenance_rows()
    out = [{**record_window_json(window_of(r), ctx.fleet.policy), "region": r["region"] or "(all)",
            "created_by": r["created_by"], "cancelled_by": r["cancelled_by"]} for r in rows]
    emit_rows(out, args.format, ["id", "region", "kind", "start", "end", "announced_at", "excluded", "reason"],
              extra=lambda row: ", ".join(row["flags"]) or "-", extra_header="flags")
    return 0


def maintenance_cancel(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        store.cancel_maintenance(args.id, ctx.by, ctx.now_ms)
    print(f"maintenance {args.id} cancelled: it excludes nothing now")
    return 0


def maintenance_import(ctx: Context, args: argparse.Namespace) -> int:
    from ..maintenance_ics import parse_ics, plan_import

    data = read_input(args.file)
    if args.horizon_days > MAX_HORIZON_DAYS:
        raise InputError(f"--horizon-days {args.horizon_days}: at most {MAX_HORIZON_DAYS:,} (ten years); a vendor "
                         "publishes months ahead, not decades")
    horizon = import_horizon(ctx.now_ms, ZoneInfo(ctx.cfg.timezone), args.horizon_days)
    events = parse_ics(data, args.file, [r.name for r in ctx.cfg.regions], args.region_property,
                       ctx.cfg.storage.max_window_days * 86_400_000, horizon)
    lines = []
    with opened(ctx.db_path) as store, store.transaction():  # every change, or none
        plan = plan_import(events, store.maintenance_rows(), horizon)

        def add(event: CalendarEvent, window: MaintenanceWindow) -> tuple[int, str]:
            """Store ``window`` from ``event``: its id, and whether it excludes in words."""
            new_id = store.add_maintenance(region=window.region, start_ms=window.start_ms, end_ms=window.end_ms,
                                           kind=window.kind, announced_at_ms=window.announced_at_ms,
                                           reason=window.reason, by=ctx.by, now_ms=ctx.now_ms, source_uid=event.uid)
            return new_id, _verdict(dataclasses.replace(window, id=new_id), ctx)

        for row, event in plan.cancel:
            store.cancel_maintenance(row["id"], ctx.by, ctx.now_ms)
            gone = "is no longer an occurrence of its series" if event.dropped else "is cancelled in the calendar"
            lines.append(f"maintenance {row['id']} cancelled: {event.label} {gone}")
        for row, event, window in plan.replace:
            store.cancel_maintenance(row["id"], ctx.by, ctx.now_ms)
            new_id, verdict = add(event, window)
            lines.append(f"maintenance {row['id']} changed in the calendar ({event.label}): replaced by "
                         f"maintenance {new_id}: {verdict}")
        for event, window in plan.add:
            new_id, verdict = add(event, window)
            lines.append(f"maintenance {new_id} recorded from {event.label}: {verdict}")
    print("\n".join(lines + [_import_summary(plan)]))
    return 0


def import_horizon(now_ms: int, tz: ZoneInfo, days_ahead: int) -> Horizon:
    """Where a recurring event's occurrences are recorded: from the first day of the previous month (local),
    whose report may not be written yet, to ``days_ahead`` days from now (the notice rule needs 2)."""
    since, _ = month_bounds(*previous_month(*month_of(now_ms, tz)), tz)
    return Horizon(since, now_ms + days_ahead * 86_400_000)


def _import_summary(plan: ImportPlan) -> str:
    others = ((len(plan.replace), "changed"), (len(plan.cancel), "cancelled"), (plan.unchanged, "already recorded"))
    return ", ".join([f"{len(plan.add)} windows recorded"] + [f"{n} {what}" for n, what in others if n])


def maintenance_export(ctx: Context, args: argparse.Namespace) -> int:
    from ..maintenance_ics import calendar_rows, to_ics

    if args.region:
        ctx.check_region(args.region)
    with opened(ctx.db_path, create=False) as store:
        text = to_ics(calendar_rows(store.maintenance_rows(), ctx.now_ms, args.region))
    if args.output:
        Path(args.output).write_bytes(text)
    else:
        sys.stdout.buffer.write(text)
    return 0


def _check_cause(ctx: Context, cause: str) -> None:
    problem = cause_problem(cause, [t.name for t in ctx.cfg.third_parties])
    if problem:
        raise InputError(f"--cause {cause!r}{problem}")


def exclusion_add(ctx: Context, args: argparse.Namespace) -> int:
    if args.region:
        ctx.check_region(args.region)
    start_ms, end_ms = span(args.start, args.end, args.long, ctx.cfg.storage.max_window_days)
    _check_cause(ctx, args.cause)
    if not args.note.strip():
        raise InputError("--note must say why (it is shown in the report)")
    with opened(ctx.db_path) as store:
        new_id = store.add_exclusion(region=None if args.all else args.region, start_ms=start_ms,
                                     end_ms=end_ms, cause=args.cause, note=args.note, by=ctx.by, now_ms=ctx.now_ms)
    print(f"exclusion {new_id} recorded for {'all regions' if args.all else args.region}: {args.cause}")
    return 0


def exclusion_list(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        rows = [{"id": r["id"], "region": r["region"] or "(all)", "start": iso(r["start_ms"]), "end": iso(r["end_ms"]),
                 "cause": r["cause"], "note": r["note"], "created_by": r["created_by"],
                 "withdrawn": iso(r["withdrawn_at_ms"]), "managed_by": r["managed_by"]}
                for r in store.exclusion_rows()]
    emit_rows(rows, args.format, ["id", "region", "start", "end", "cause", "note", "withdrawn"])
    return 0


def exclusion_withdraw(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        store.withdraw_exclusion(args.id, ctx.now_ms)
    print(f"exclusion {args.id} withdrawn: it excludes nothing from now on")
    return 0


def incident_add(ctx: Context, args: argparse.Namespace) -> int:
    ctx.check_region(args.region)
    if args.component:
        ctx.check_component(args.region, args.component)
    opened_ms = parse_instant(args.opened, "--opened")
    resolved_ms = parse_instant(args.resolved, "--resolved") if args.resolved else None
    if resolved_ms is not None and resolved_ms <= opened_ms:
        raise InputError(f"--resolved {args.resolved} must be after --opened {args.opened}")
    with opened(ctx.db_path) as store:
        new_id = store.add_incident(region=args.region, component=args.component,
                                    severity=args.severity, opened_ms=opened_ms, resolved_ms=resolved_ms,
                                    title=args.title, by=ctx.by, now_ms=ctx.now_ms)
    print(f"incident {new_id} recorded ({args.severity}, {args.region})")
    return 0


def incident_list(ctx: Context, args: argparse.Namespace) -> int:
    rows = incident_rows(report_for(ctx, args.month, None))
    emit_rows(rows, args.format, ["id", "region", "severity", "opened", "resolved", "resolution_minutes",
                                  "excluded_minutes", "met", "counts"])
    return 0


def _existing_incident(ctx: Context, incident_id: str) -> Incident | None:
    """The automatic incident ``incident_id`` names (REGION/COMPONENT-or-region/START), from the report of
    its month; InputError when there is none. Hand incidents (numbers) are checked by the store."""
    if is_hand_id(incident_id):
        return None
    region, _, start = automatic_incident(incident_id, "incident")
    ctx.check_region(region)
    month = month_of(start, ZoneInfo(ctx.fleet.timezone))
    found = report_for(ctx, f"{month[0]:04d}-{month[1]:02d}", region).incident(incident_id)
    if found is None:
        raise InputError(f"no incident {incident_id!r} (list them with `sla-monitor incident list --month YYYY-MM`)")
    return found


def incident_resolve(ctx: Context, args: argparse.Namespace) -> int:
    at = parse_instant(args.at, "--at")
    incident = _existing_incident(ctx, args.id)
    if incident is not None and at <= incident.opened_ms:
        raise InputError(f"--at {iso(at)} is not after incident {args.id} opened ({iso(incident.opened_ms)})")
    with opened(ctx.db_path, create=False) as store:
        store.resolve_incident(args.id, resolved_ms=at, by=ctx.by, now_ms=ctx.now_ms)
    print(f"incident {args.id} resolved at {iso(at)}")
    return 0


def incident_classify(ctx: Context, args: argparse.Namespace) -> int:
    _existing_incident(ctx, args.id)
    with opened(ctx.db_path, create=False) as store:
        store.resolve_incident(args.id, severity=args.severity, by=ctx.by, now_ms=ctx.now_ms)
    print(f"incident {args.id} is now {args.severity}")
    return 0


def incident_update(ctx: Context, args: argparse.Namespace) -> int:
    message = checked(ctx.cfg, args.region, args.status, args.message)
    start = parse_instant(args.outage, "--outage") if args.outage else None
    tz = ZoneInfo(ctx.fleet.timezone)
    now_month = month_of(ctx.now_ms, tz)
    months = [previous_month(*now_month), now_month]
    if start is not None and month_of(start, tz) not in months:
        months = [month_of(start, tz), next_month(*month_of(start, tz))]
    with opened(ctx.db_path, create=False) as store:
        results = [month_report(store, ctx.fleet, y, m, ctx.now_ms, [args.region]) for y, m in months]
        outage = outage_of(outages(results, args.region), args.region, start, tz)
        store.record_events(update_event(ctx.cfg, args.region, outage, args.status, message, ctx.by, ctx.now_ms))
    print(f"incident update recorded: {args.region} outage since {iso(outage.start_ms)}, {args.status}")
    return 0


def incident_import(ctx: Context, args: argparse.Namespace) -> int:
    fmt = ticket_format(ctx.cfg, args.preset)
    environments = {r.name: r.environment for r in ctx.cfg.regions}
    tickets = read_tickets(read_input(args.file), args.file, fmt, Regions(environments, args.region), args.timezone,
                           ctx.now_ms)
    lines = [f"{t.fields.ticket} (line {t.line}): {t.note}" for t in tickets if t.note]
    with opened(ctx.db_path, dry_run=args.dry_run) as store, store.transaction():  # every ticket, or none
        plan = plan_tickets(tickets, store.ticket_rows())
        for t in plan.add:
            new_id = 0 if args.dry_run else store.add_incident(
                region=t.region, component=None, severity=t.severity, opened_ms=t.opened_ms,
                resolved_ms=t.resolved_ms, title=t.title, by=ctx.by, now_ms=ctx.now_ms, ticket=t.fields)
            lines.append(f"incident {new_id or '(new)'} recorded from {t.fields.ticket}: {t.severity}, {t.region}, "
                         f"opened {iso(t.opened_ms)}, " + (f"resolved {iso(t.resolved_ms)}" if t.resolved_ms else "open"))
        for row, t, changes in plan.change:
            if not args.dry_run:
                store.change_incident(row["id"], changes, ctx.now_ms)
            lines.append(f"incident {row['id']} ({t.fields.ticket}) changed: "
                         + "; ".join(described(k, row[k], v) for k, v in changes.items()))
    done = "would be" if args.dry_run else "were"
    lines.append(f"{len(tickets)} tickets in {args.file}: {len(plan.add)} new, {len(plan.change)} changed, "
                 f"{plan.unchanged} as recorded" + (f" (dry run: nothing stored; {len(plan.add) + len(plan.change)} "
                                                    f"{done} written)" if args.dry_run else ""))
    print("\n".join(lines))
    return 0


def ticket_format(cfg: Config, name: str) -> TicketFormat:
    """The preset ``name``, or the config's ticket export of that name."""
    if name in PRESETS:
        return PRESETS[name]
    export = next((e for e in cfg.ticket_exports if e.name == name), None)
    if export is None:
        described_ones = [e.name for e in cfg.ticket_exports]
        raise InputError(f"--preset {name!r}: not a preset ({', '.join(PRESETS)}) nor one of the config's "
                         f"ticket_exports ({', '.join(described_ones) or 'none'}); describe its columns there")
    columns = export.columns
    return TicketFormat(export.name, columns.ticket, columns.opened, columns.priority,
                        {k.casefold(): v for k, v in export.priorities.items()}, tuple(columns.resolved),
                        columns.title, columns.responded, columns.responded_after_minutes, columns.updates,
                        export.updates_style, columns.region, tuple(export.time_formats), export.timezone)


COMMANDS = {
    "maintenance add": maintenance_add, "maintenance list": maintenance_list,
    "maintenance cancel": maintenance_cancel, "maintenance import": maintenance_import,
    "maintenance export": maintenance_export, "exclusion add": exclusion_add, "exclusion list": exclusion_list,
    "exclusion withdraw": exclusion_withdraw,
    "incident add": incident_add, "incident list": incident_list, "incident resolve": incident_resolve,
    "incident classify": incident_classify, "incident update": incident_update,
    "incident import": incident_import,
}
