"""`hooks list` (the outbox), `hooks test NAME` (send a test event to one destination) and `hooks
listen` (a local receiver, ``listen.py``)."""
from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from ..destinations.transport import Result
from ..errors import InputError
from ..hooks import events
from ..sla.calendar import iso
from ..storage import opened
from . import listen
from .common import Context, emit_rows
from .parsing import command, group, rows_format, whole_number


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``hooks list`` and ``hooks test``."""
    hooks = group(sub, "hooks", "alert hooks: the outbox of events and their deliveries, test sends",
                  "sla-monitor hooks list", "sla-monitor hooks test ops-slack")
    p = command(hooks, "list", "recent events and their deliveries", "sla-monitor hooks list --limit 20")
    rows_format(p)
    p.add_argument("--limit", type=whole_number, default=50, help="how many events (default 50)")
    command(hooks, "test", "send a test event to a destination now",
            "sla-monitor hooks test ops-slack").add_argument("name", help="a hooks.destinations[].name")
    listen.add_arguments(command(hooks, "listen", "a local receiver: print the alerts and events posted to it",
                                 "sla-monitor hooks listen --listen 127.0.0.1:9099"))


def hooks_list(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        rows = store.event_log(args.limit)
    for row in rows:
        row["occurred_at"] = iso(row.pop("occurred_at_ms"))
        row["delivered_at"] = iso(row.pop("delivered_at_ms"))
    emit_rows(rows, args.format, ["seq", "type", "region", "severity", "occurred_at", "destination", "status",
                                  "attempts", "last_error"])
    return 0


def hooks_test(ctx: Context, args: argparse.Namespace) -> int:
    # aiohttp only here: every other command starts without it (it costs ~0.2 s of imports).
    import asyncio

    import aiohttp

    from ..redact import safe_error

    dest = next((d for d in ctx.cfg.hooks.destinations if d.name == args.name), None)
    if dest is None:
        known = ", ".join(d.name for d in ctx.cfg.hooks.destinations) or "none configured"
        raise InputError(f"no hook destination {args.name!r} (known: {known})")
    now = ctx.clock.now_ms()  # the wall clock, whatever --now says: receivers check timestamps against theirs
    event = events.trial_event(now, ctx.by)
    # Where a test opens something (a PagerDuty incident, an Alertmanager alert), it is closed at once.
    closing = events.trial_event(now, ctx.by, resolved=True) if dest.stateful else None

    async def send() -> Result:
        async with aiohttp.ClientSession() as session:
            result = await dest.send(session, *dest.build_payload(event, now))
            if result.ok and closing is not None:
                result = await dest.send(session, *dest.build_payload(closing, ctx.clock.now_ms()))
            return result

    result = asyncio.run(send())
    if not result.ok:
        error = safe_error(result.error, dest.secrets())
        print(f"hooks test {dest.name}: FAILED ({'permanent' if result.permanent else 'transient'}): {error}")
        return 1
    # The host only: a Slack or webhook URL's path is often the secret itself.
    print(f"hooks test {dest.name}: delivered ({dest.type} at {urlsplit(dest.url).hostname})")
    return 0

COMMANDS = {"hooks list": hooks_list, "hooks test": hooks_test}
