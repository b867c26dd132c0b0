"""`records apply FILE.yaml [--dry-run]` and `records export --source NAME`: maintenance windows,
exclusions and incident overrides kept as code (``records_file.py``)."""
from __future__ import annotations

import argparse
import sys
from typing import Mapping

from ..errors import InputError
from ..records_file import KINDS, Rules, Step, export_yaml, managed, plan, read_file, step_text
from ..storage import opened
from ..storage.interface import Storage
from .common import Context
from .parsing import command, group


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``records apply`` and ``records export``."""
    records = group(sub, "records", "maintenance, exclusions and overrides kept in a YAML file (records as code)",
                    "sla-monitor records apply change-calendar.yaml --dry-run",
                    "sla-monitor records export --source change-calendar > change-calendar.yaml")
    p = command(records, "apply", "make the records a file manages equal to it: adds, changes, cancels (a plan first)",
                "sla-monitor records apply change-calendar.yaml", "sla-monitor records apply change-calendar.yaml --dry-run",
                details="Only records this file manages are touched (marked SOURCE:KEY, SOURCE being the file's "
                        "source: or its name); records entered by hand never are. Applying it twice changes nothing "
                        "the second time. All or none.")
    p.add_argument("file", help="a records file (YAML)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p = command(records, "export", "write the records a source manages as its file (apply of it changes nothing)",
                "sla-monitor records export --source change-calendar --output change-calendar.yaml")
    p.add_argument("--source", required=True, help="the file's source name")
    p.add_argument("--output", help="the file to write (default: standard output)")


def _stored(store: Storage, source: str) -> Mapping[str, Mapping[str, dict]]:
    """The current records ``source`` manages, per kind, by key (cancelled and withdrawn ones are history)."""
    return {"maintenance": managed([dict(r) for r in store.maintenance_rows() if not r["cancelled"]], source),
            "exclusions": managed([dict(r) for r in store.exclusion_rows() if r["withdrawn_at_ms"] is None], source),
            "overrides": managed(store.override_rows(), source)}


def records_apply(ctx: Context, args: argparse.Namespace) -> int:
    source, entries = read_file(args.file, Rules.of(ctx.cfg))
    with opened(ctx.db_path, dry_run=args.dry_run) as store, store.transaction():  # every step, or none
        steps, unchanged = plan(entries, _stored(store, source))
        _refuse_others(store, steps, source)
        lines = [step_text(step, kind) for kind in KINDS for step in steps if _kind(step) == kind]
        if not args.dry_run:
            for step in steps:
                _apply(store, step, source, ctx)
    counts = {action: sum(s.action == action for s in steps) for action in ("add", "change", "cancel")}
    lines.append(f"{source}: {counts['add']} to add, {counts['change']} to change, {counts['cancel']} to cancel, "
                 f"{unchanged} as in the file" + (" (dry run: nothing changed)" if args.dry_run else
                                                  "; applied" if steps else "; nothing to do"))
    print("\n".join(lines))
    return 0


def _refuse_others(store: Storage, steps: list[Step], source: str) -> None:
    """An override the file would add where the incident has one it does not manage (entered by hand, or
    by another file): refused, since a record entered by hand is never touched."""
    others = {row["incident_id"]: row["managed_by"] for row in store.override_rows()}
    for step in steps:
        if step.action == "add" and step.entry is not None and step.entry.kind == "overrides":
            incident = step.entry.values["incident_id"]
            if incident in others:
                owner = f"the records file {others[incident].partition(':')[0]}" if others[incident] else "hand"
                raise InputError(f"overrides key {step.entry.key}: {incident} already has an override set by {owner}; "
                                 "it is left as it is: take the entry out of this file, or that override off first")


def _kind(step: Step) -> str:
    if step.entry is not None:
        return step.entry.kind
    assert step.row is not None
    return "overrides" if "incident_id" in step.row else "maintenance" if "kind" in step.row else "exclusions"


def _apply(store: Storage, step: Step, source: str, ctx: Context) -> None:
    kind, row = _kind(step), step.row
    if row is not None and kind != "overrides":  # a change replaces the record, the old one kept as history
        if kind == "maintenance":
            store.cancel_maintenance(row["id"], ctx.by, ctx.now_ms)
        else:
            store.withdraw_exclusion(row["id"], ctx.now_ms)
    if step.entry is None:
        if kind == "overrides" and row is not None:
            store.drop_override(row["incident_id"], ctx.now_ms)
        return
    values, managed_by = step.entry.values, f"{source}:{step.entry.key}"
    if kind == "maintenance":
        store.add_maintenance(**values, by=ctx.by, now_ms=ctx.now_ms, managed_by=managed_by)
    elif kind == "exclusions":
        store.add_exclusion(**values, by=ctx.by, now_ms=ctx.now_ms, managed_by=managed_by)
    else:
        store.put_override({**values, "updated_by": ctx.by, "updated_at_ms": ctx.now_ms, "managed_by": managed_by},
                           ctx.now_ms)


def records_export(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        text = export_yaml(args.source, _stored(store, args.source), ctx.cfg.storage.max_window_days)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


GROUPS = ("records",)
COMMANDS = {"records apply": records_apply, "records export": records_export}
