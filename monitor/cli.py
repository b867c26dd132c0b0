"""`sla-monitor` command line: parse, call, print. Exit 0 ok, 1 runtime failure, 2 bad input or config."""
from __future__ import annotations

import argparse
import getpass
import os
import sqlite3
import sys
import textwrap
from pathlib import Path
from typing import Sequence

from . import __version__
from .clock import SYSTEM
from .commands import evidence as evidence_cmds
from .commands import hooks as hook_cmds
from .commands import init as init_cmd
from .commands import listen as listen_cmd
from .commands import probe as probe_cmd
from .commands import records as record_cmds
from .commands import records_code as records_code_cmds
from .commands import schedules as schedule_cmds
from .commands import vendor as vendor_cmds
from .commands.common import DEFAULT_CONFIG, Context, emit_rows
from .commands.parsing import command, group, rows_format, valid_listen
from .commands.reporting import claim_for, range_for, report_for, write_output
from .commands.style import paint
from .config import ConfigError, load_config
from .config.fleet import stale_ms_by_probe
from .errors import InputError, PrometheusError, parse_instant
from .importer import import_samples
from .paperwork import terms_of
from .reports import FORMATS, render, render_range
from .reports.html import render_template, to_pdf
from .reports.markdown import claim_markdown
from .reports.render import as_json
from .reports.serialize import RANGE_COLUMNS, exclusion_reasons, outage_summary_rows, range_rows
from .sla.calendar import MonthError, iso
from .storage import StoreError, StoreUnavailable, opened
from .storage.location import copy_between, is_postgres, migrate, new_file, shown
from .storage.schema import SCHEMA_VERSION


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options, then one sub-command (each with examples in its --help)."""
    parser = argparse.ArgumentParser(
        prog="sla-monitor", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill("Holds a SaaS provider to its SLA: probes each region, computes monthly "
                                  "availability, error budget and service credits, alerts, and writes the month's "
                                  "report and credit claim.", 90),
        epilog="examples:\n  sla-monitor init --service TrueEngage --region eu-west=https://eu.example.com "
               "--output monitor.yaml\n  sla-monitor --config monitor.yaml probe --once\n"
               "  sla-monitor --config monitor.yaml run\n  sla-monitor --config monitor.yaml report --month 2026-11\n\n"
               "Exit codes: 0 ok, 1 runtime failure (or a probe failed), 2 bad input or config.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", help=f"config file (default: $SLA_MONITOR_CONFIG, then {DEFAULT_CONFIG})")
    parser.add_argument("--db", help="the store: a SQLite path or sqlite:///PATH (overrides storage.path and url)")
    parser.add_argument("--now", help="evaluate as of this ISO instant instead of the clock (reproducible reports)")
    parser.add_argument("--by", help="who is recording a change (default: $USER)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init_cmd.add_parser(sub)
    rows_format(command(sub, "check-config", "validate the config and say what it defines",
                        "sla-monitor --config monitor.yaml check-config"))
    probe_cmd.add_parser(sub)
    p = command(sub, "run", "the daemon: probe on schedule, serve /metrics, the API and the status page",
                "sla-monitor --config monitor.yaml run", "sla-monitor run --listen 0.0.0.0:9465 --log-format json",
                details="SIGTERM or Ctrl-C stops it after in-flight probes end; nothing committed is lost.")
    p.add_argument("--listen", help="HOST:PORT (default: web.listen)")
    p.add_argument("--standby", action="store_true",
                   help="with a PostgreSQL store: wait while another daemon is active on the database, and take "
                        "over when it stops (the second of an HA pair)")
    p.add_argument("--log-format", choices=["text", "json"], default="text")
    p = command(sub, "import", "import samples from JSONL or a Prometheus (one transaction: all or none)",
                "sla-monitor import samples.jsonl",
                "sla-monitor import --from-prometheus http://127.0.0.1:9090 --start 2026-10-01T00:00:00Z "
                "--end 2026-11-01T00:00:00Z --match 'probe_success{job=\"blackbox\"}'")
    p.add_argument("file", nargs="?", help='JSONL file, or "-" for standard input')
    p.add_argument("--from-prometheus", metavar="URL", nargs="?", const="",
                   help="read probe_success (and probe_duration_seconds) from this Prometheus HTTP API instead "
                        "(no URL: source.prometheus.url)")
    p.add_argument("--start", metavar="ISO", help="with --from-prometheus: the first instant to read")
    p.add_argument("--end", metavar="ISO", help="with --from-prometheus: read up to this instant (excluded)")
    p.add_argument("--match", metavar="SELECTOR",
                   help='with --from-prometheus: which series, e.g. probe_success{job="blackbox"} (default: all)')
    command(sub, "prune", "delete raw samples older than storage.sample_retention_days (state segments stay)",
            "sla-monitor prune")
    store = group(sub, "store", "the store itself: its schema",
                  "sla-monitor store migrate", "sla-monitor --db postgresql://sla@db.internal/sla store migrate")
    command(store, "migrate", "create the store's schema, or bring it to this version's (it refuses a newer one)",
            "sla-monitor store migrate",
            details="The daemon and every command migrate the store when they open it; this does it on its own, "
                    "before the daemons of a shared PostgreSQL database are upgraded.")
    p = command(store, "copy", "copy a whole store into a new, empty one: SQLite into PostgreSQL, or back",
                "sla-monitor store copy --from data/sla-monitor.db --to postgresql://sla@db.internal/sla",
                details="Every sample, segment, record and event, with its ids: the reports of the copy are the "
                        "original's. Resumable: a copy stopped half-way is refused by every other command, and "
                        "the same command again goes on where it stopped. Stop the daemon first, so that nothing "
                        "is written to the source meanwhile.")
    p.add_argument("--from", dest="source", required=True, metavar="STORE", help="the store to copy: a path or URL")
    p.add_argument("--to", dest="target", required=True, metavar="STORE",
                   help="the new store: a path or URL (created if missing; refused if it holds data other than "
                        "an unfinished copy of the same store)")

    record_cmds.add_parsers(sub)
    records_code_cmds.add_parsers(sub)
    vendor_cmds.add_parsers(sub)
    evidence_cmds.add_parsers(sub)
    hook_cmds.add_parsers(sub)

    p = command(sub, "outages", "unavailability periods with their pieces and exclusions",
                "sla-monitor outages --month 2026-11 --region eu-west")
    p.add_argument("--region")
    p.add_argument("--month", help="YYYY-MM (default: the current month)")
    rows_format(p)
    p = command(sub, "report", "monthly availability, error budget and credits per region",
                "sla-monitor report --month 2026-11", "sla-monitor report --month 2026-11 --format pdf --output nov.pdf",
                "sla-monitor report --from 2026-01 --to 2026-12 --format html --output 2026.html")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="YYYY-MM, a calendar month in the config's timezone")
    which.add_argument("--from", dest="first", metavar="YYYY-MM",
                       help="with --to: an overview of every month from this one to --to (both included)")
    p.add_argument("--to", dest="last", metavar="YYYY-MM")
    p.add_argument("--region")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="table (default), json, csv; markdown, html, pdf: the document to send (pdf needs --output "
                        "or a pipe)")
    p.add_argument("--output", metavar="FILE", help="write here (replaced whole) instead of standard output")
    p = command(sub, "claim", "the service credit claim letter for a month, with its evidence",
                "sla-monitor claim --month 2026-10 --format pdf --output claim-2026-10.pdf",
                details="Refused for a month not over, past its claim period, or with nothing to claim; --force "
                        "prints it anyway, marked.")
    p.add_argument("--month", help="YYYY-MM: a month that is over, inside its claim period (required)")
    p.add_argument("--region", help="claim for this region only")
    p.add_argument("--format", choices=["html", "pdf", "markdown"], default="html")
    p.add_argument("--output", metavar="FILE", help="write here (replaced whole) instead of standard output")
    p.add_argument("--force", action="store_true",
                   help="print it even for a month not over, past its claim period or with nothing to claim (marked)")
    schedule_cmds.add_mark_sent(p)
    schedule_cmds.add_parsers(sub)
    p = command(sub, "completion", "print a shell completion script",
                "sla-monitor completion bash > ~/.local/share/bash-completion/completions/sla-monitor",
                "sla-monitor completion zsh > ~/.zfunc/_sla-monitor")
    p.add_argument("shell", choices=["bash", "zsh", "tcsh"])
    return parser


def _context(args: argparse.Namespace) -> Context:
    config_path = args.config or os.environ.get("SLA_MONITOR_CONFIG") or DEFAULT_CONFIG
    # Only the commands that send alerts need the destinations' secrets (a report needs no webhook key).
    sends = args.command == "run" or (args.command == "hooks" and args.action == "test")
    cfg = load_config(config_path, sends=sends)
    now = parse_instant(args.now, "--now") if args.now else SYSTEM.now_ms()
    return Context(cfg=cfg, db_path=args.db or cfg.storage.location, now_ms=now,
                   by=args.by or os.environ.get("USER") or getpass.getuser(), clock=SYSTEM)


def cmd_check_config(ctx: Context, args: argparse.Namespace) -> int:
    probes = list(ctx.cfg.all_probes())
    regions = ctx.cfg.regions
    health = ctx.cfg.vantage_health
    summary = {"service": ctx.cfg.service, "regions": len(regions),
               "production_regions": sum(r.environment == "production" for r in regions),
               "components": sum(len(r.components) for r in regions), "probes": len(probes),
               "third_parties": len(ctx.cfg.third_parties), "timezone": ctx.cfg.timezone, "store": shown(ctx.db_path),
               "vantage_health_probes": len(health.probes)}
    if args.format == "json":
        sys.stdout.write(as_json(summary))
    else:
        print(f"{paint('config OK', 'green', sys.stdout)}: service {ctx.cfg.service!r}, {len(regions)} regions "
              f"({summary['production_regions']} production), {summary['components']} components, {len(probes)} probes, "
              f"{summary['third_parties']} third parties, timezone {ctx.cfg.timezone}, store {shown(ctx.db_path)}")
        if health.probes:
            print(f"vantage health: {len(health.probes)} control targets, healthy while {health.min_ok} pass")
    for unset in ctx.cfg.unchecked_hooks:
        print(f"warning: {unset}: `run` and `hooks test` refuse to start without it; the hooks section was "
              "not checked", file=sys.stderr)
    if not health.probes:
        print("note: no vantage_health probes: when this host loses its network, only the failures listed as the "
              "monitor's own are unknown; add control targets (see config/example.yaml)", file=sys.stderr)
    return 0


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    if args.from_prometheus is not None:
        return cmd_import_prometheus(ctx, args)
    if args.file is None:
        raise InputError("import needs a JSONL FILE (or -), or --from-prometheus URL --start ISO --end ISO")
    if args.start or args.end or args.match:
        raise InputError("--start, --end and --match go with --from-prometheus")
    name = "<stdin>" if args.file == "-" else args.file
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as exc:
        raise InputError(f"{args.file}: cannot read: {exc.strerror}") from None
    new_store = new_file(ctx.db_path)
    try:
        with stream, opened(ctx.db_path) as store:
            result = import_samples(store, stream, name, stale_ms_by_probe(ctx.cfg), list(ctx.cfg.vantages),
                                    ctx.cfg.vantage, ctx.now_ms)
    except InputError:
        if new_store:  # nothing was imported: leave no empty store behind either
            for suffix in ("", "-wal", "-shm"):
                Path(f"{ctx.db_path}{suffix}").unlink(missing_ok=True)
        raise
    print(f"imported {result.samples} samples from {name} ({result.keys} probe/vantage timelines) into {shown(ctx.db_path)}")
    return 0


def cmd_import_prometheus(ctx: Context, args: argparse.Namespace) -> int:
    from .sources.backfill import backfill

    url = args.from_prometheus or ctx.cfg.source.prometheus.url
    if not url:
        raise InputError("--from-prometheus needs a URL (e.g. http://127.0.0.1:9090), or source.prometheus.url "
                         "in the config")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--from-prometheus {url!r}: expected an http:// or https:// URL of the Prometheus HTTP API")
    if args.file is not None:
        raise InputError("give a JSONL FILE or --from-prometheus, not both")
    if not args.start or not args.end:
        raise InputError("--from-prometheus needs --start ISO and --end ISO (e.g. --start 2026-10-01T00:00:00Z "
                         "--end 2026-11-01T00:00:00Z)")
    start, end = parse_instant(args.start, "--start"), parse_instant(args.end, "--end")
    if end <= start:
        raise InputError(f"--end {args.end} is not after --start {args.start}")
    if end > ctx.now_ms:
        raise InputError(f"--end {args.end} is in the future (now is {iso(ctx.now_ms)}); samples record what was seen")
    new_store = new_file(ctx.db_path)
    try:
        with opened(ctx.db_path) as store:
            result = backfill(store, ctx.cfg, url, start, end, args.match, stale_ms_by_probe(ctx.cfg), ctx.now_ms)
    except (InputError, PrometheusError):
        if new_store:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{ctx.db_path}{suffix}").unlink(missing_ok=True)
        raise
    imported = result.imported
    print(f"imported {imported.samples} samples from {url} ({imported.keys} probe/vantage timelines, "
          f"{result.requests} queries) into {shown(ctx.db_path)}")
    if result.skipped:
        first = sorted(result.skipped)[:5]
        print(f"skipped {len(result.skipped)} series that are no configured probe (set source.prometheus.probe_labels "
              f"or the probes' targets if they should be): {'; '.join(first)}"
              + (" …" if len(result.skipped) > 5 else ""), file=sys.stderr)
    for warning in result.warnings[:5]:
        print(f"sla-monitor: warning: Prometheus said: {warning}", file=sys.stderr)
    return 0


def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    days = ctx.cfg.storage.sample_retention_days
    if days is None:
        print("storage.sample_retention_days is null: raw samples are kept for ever; nothing pruned")
        return 0
    if ctx.now_ms > ctx.clock.now_ms() + 60_000:
        raise InputError(f"--now {iso(ctx.now_ms)} is in the future: prune would delete samples the retention keeps "
                         "and refuse every later import before it; run it without --now")
    with opened(ctx.db_path, create=False) as store:
        removed = store.prune_samples(ctx.now_ms - days * 86_400_000)
    print(f"pruned {removed} raw samples older than {days} days (state segments kept)")
    return 0


def cmd_store_migrate(ctx: Context, args: argparse.Namespace) -> int:
    where, before = migrate(ctx.db_path)
    if before == SCHEMA_VERSION:
        print(f"store {where}: schema version {SCHEMA_VERSION}, already current")
    else:
        print(f"store {where}: schema " + (f"created at version {SCHEMA_VERSION}" if before == 0 else
                                           f"migrated from version {before} to {SCHEMA_VERSION}"))
    return 0


def cmd_store_copy(args: argparse.Namespace) -> int:
    if shown(args.source) == shown(args.target):
        raise InputError("--from and --to name the same store")
    copied = copy_between(args.source, args.target)
    records = sum(copied[t] for t in ("maintenance", "exclusions", "incidents", "incident_overrides"))
    print(f"copied {copied['samples']} samples, {copied['segments']} segments, {records} records and "
          f"{copied['events']} events from {shown(args.source)} to {shown(args.target)}")
    return 0


def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    if args.first is None:
        if args.last is not None:
            raise InputError("--to goes with --from (a range of months); for one month use --month")
        write_output(render(report_for(ctx, args.month, args.region), args.format, terms_of(ctx.cfg)), args.output)
        return 0
    if args.last is None:
        raise InputError("--from needs --to (the last month of the range, e.g. --from 2026-01 --to 2026-12)")
    rows = range_rows(range_for(ctx, args.first, args.last, args.region))
    write_output(render_range(rows, RANGE_COLUMNS, args.format, terms_of(ctx.cfg), ctx.fleet.timezone,
                              float(ctx.cfg.policy.target_percent), ctx.now_ms), args.output)
    return 0


def cmd_claim(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "mark-sent":
        return schedule_cmds.claim_mark_sent(ctx, args)
    if args.month is None:
        raise InputError("claim needs --month YYYY-MM (a month that is over, inside its claim period)")
    view = claim_for(ctx, args.month, args.region, args.force)
    if args.format == "markdown":
        document: str | bytes = claim_markdown(view)
    else:
        html = render_template("claim.html", v=view)
        document = to_pdf(html) if args.format == "pdf" else html
    write_output(document, args.output)
    for mark in view["marks"]:
        print(f"sla-monitor: warning: {mark}", file=sys.stderr)
    return 0


def cmd_outages(ctx: Context, args: argparse.Namespace) -> int:
    rows = outage_summary_rows(report_for(ctx, args.month, args.region))
    emit_rows(rows, args.format, ["region", "start", "end", "minutes", "counted_minutes", "open"],
              extra=exclusion_reasons,
              extra_header="exclusions")
    return 0


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    import asyncio

    from . import logs
    from .app import serve

    if args.now:
        raise InputError("--now is for reports; the daemon runs on the clock")
    if args.listen is not None and not valid_listen(args.listen):
        raise InputError(f"--listen {args.listen!r} must be HOST:PORT with a port 0–65535 (e.g. 127.0.0.1:9465)")
    if args.standby and not is_postgres(ctx.db_path):
        raise InputError("--standby needs a PostgreSQL store (storage.url: postgresql://…) that both daemons "
                         "share; a SQLite file belongs to one daemon")
    daemon = ctx.cfg.daemon
    if (daemon.mode == "vantage" or ctx.cfg.source.store is not None) and not is_postgres(ctx.db_path):
        raise InputError(f"--db {ctx.db_path!r}: daemon.mode: {daemon.mode} shares a PostgreSQL database with other "
                         "daemons (postgresql://…); a SQLite file belongs to one daemon")
    logs.setup(args.log_format)
    return asyncio.run(serve(ctx.cfg, ctx.db_path, args.listen, args.log_format, args.standby))


COMMANDS = {
    "run": cmd_run, "probe": probe_cmd.cmd_probe,
    "check-config": cmd_check_config, "import": cmd_import, "prune": cmd_prune,
    "report": cmd_report, "claim": cmd_claim, "outages": cmd_outages, "store migrate": cmd_store_migrate,
    **record_cmds.COMMANDS, **hook_cmds.COMMANDS, **schedule_cmds.COMMANDS, **evidence_cmds.COMMANDS,
    **vendor_cmds.COMMANDS, **records_code_cmds.COMMANDS,
}
# These need no config: they write one, or describe the command line itself.
WITHOUT_CONFIG = {"init": init_cmd.cmd_init, "completion": lambda args: print_completion(args.shell),
                  "hooks listen": listen_cmd.cmd_listen, "store copy": cmd_store_copy, **evidence_cmds.WITHOUT_CONFIG}


def print_completion(shell: str) -> int:
    """The completion script for ``shell``, generated from the parser (so it knows every command)."""
    import shtab

    print(shtab.complete(build_parser(), shell=shell))
    return 0


def _say(kind: str, message: str) -> None:
    print(f"sla-monitor: {paint(kind, 'red', sys.stderr)}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sla-monitor` console script."""
    args = build_parser().parse_args(argv)
    try:
        without = WITHOUT_CONFIG.get(f"{args.command} {getattr(args, 'action', '')}".strip()) or WITHOUT_CONFIG.get(
            args.command)
        if getattr(args, "bundle", None) is not None:  # the vendor's check of a bundle needs no config
            without = evidence_cmds.verify_bundle_command
        if without is not None:
            code = without(args)
        else:
            ctx = _context(args)
            grouped = args.command in (*record_cmds.GROUPS, *vendor_cmds.GROUPS, *records_code_cmds.GROUPS, "hooks", "store",
                                       "schedules", "evidence")
            code = COMMANDS[f"{args.command} {args.action}" if grouped else args.command](ctx, args)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at the interpreter's exit
        return code
    except ConfigError as exc:
        for problem in exc.problems:
            _say("config error", problem)
        return 2
    except (InputError, StoreError, MonthError) as exc:
        _say("error", str(exc))
        return 2
    except (StoreUnavailable, PrometheusError) as exc:
        _say("failed", str(exc))
        return 1
    except BrokenPipeError:  # `sla-monitor … | head`: the reader has had enough, which is no error to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 141  # as a shell reports a command ended by SIGPIPE
    except (sqlite3.Error, OSError) as exc:
        _say("failed", f"{type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

