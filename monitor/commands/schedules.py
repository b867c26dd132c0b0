"""`schedules list` (each schedule's next sending and its last, with the outcome) and `claim mark-sent
--month M` (the claim was sent to the vendor: its reminders stop)."""
from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from ..errors import InputError
from ..paperwork import sent_mark, sent_mark_id
from ..schedules import about, next_due
from ..sla.calendar import from_ms, local_text, parse_month, previous_month
from ..storage import opened
from .common import Context, emit_rows
from .parsing import command, group, rows_format

COLUMNS = ["schedule", "send", "to", "next", "last", "last_month", "outcome", "error"]


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``schedules list``."""
    schedules = group(sub, "schedules", "the documents the daemon mails by itself: when, and how it went",
                      "sla-monitor schedules list")
    rows_format(command(schedules, "list", "each schedule's next sending and its last one, with the outcome",
                        "sla-monitor schedules list --format json"))


def add_mark_sent(claim: argparse.ArgumentParser) -> None:
    """``claim mark-sent --month M``, under ``claim``."""
    actions = claim.add_subparsers(dest="action", metavar="ACTION")
    p = command(actions, "mark-sent", "record that the claim for a month was sent to the vendor: its reminders stop",
                "sla-monitor claim mark-sent --month 2026-10")
    p.add_argument("--month", required=True, help="YYYY-MM: the month whose claim was sent")


def schedules_list(ctx: Context, args: argparse.Namespace) -> int:
    tz = ZoneInfo(ctx.cfg.timezone)
    window = ctx.cfg.policy.claim_window_days
    local = from_ms(ctx.now_ms).astimezone(tz)
    rows = []
    with opened(ctx.db_path, create=False) as store:
        for schedule in ctx.cfg.schedules:
            year, month, sendings = local.year, local.month, []
            for _ in range(3):  # the months whose sendings can have run by now
                year, month = previous_month(year, month)
                sendings += about(schedule, year, month, tz, window)
            by_id = {o.id: o for o in sendings}
            log = store.event_log_of(list(by_id))
            last = log[-1] if log else None
            upcoming = next_due(schedule, ctx.now_ms, tz, window)
            rows.append({"schedule": schedule.name, "send": schedule.send, "to": schedule.to,
                         "next": f"{local_text(upcoming.due_ms, tz)} ({upcoming.kind} {upcoming.label})",
                         "last": local_text(last["occurred_at_ms"], tz) if last else None,
                         "last_month": f"{by_id[last['id']].kind} {by_id[last['id']].label}" if last else None,
                         "outcome": None if last is None else (last["status"] or last["type"].split(".")[-1]),
                         "error": last["last_error"] if last else None})
    emit_rows(rows, args.format, COLUMNS)
    return 0


def claim_mark_sent(ctx: Context, args: argparse.Namespace) -> int:
    year, month = parse_month(args.month)
    label = f"{year:04d}-{month:02d}"
    event = sent_mark(label, ctx.by, ctx.now_ms)
    with opened(ctx.db_path, create=False) as store:
        if store.event_log_of([sent_mark_id(label)]):
            raise InputError(f"the claim for {label} is already marked sent")
        store.record_events([(event, [])])
    print(f"claim {label}: marked sent; no more reminders for it")
    return 0


COMMANDS = {"schedules list": schedules_list}
