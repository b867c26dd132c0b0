"""`sla-monitor probe [--once] [PROBE…]`: run probes now and print what each saw, to check a config
before starting the daemon. Nothing is stored. Exit 0 when every probe passed, 1 when one did not."""
from __future__ import annotations

import argparse
import asyncio
import sys

from tabulate import tabulate

from ..checks import Probe
from ..errors import InputError
from ..probes.base import ProbeContext
from ..probes.runner import run_probe
from ..reports.render import as_json
from ..samples import Sample
from .common import Context
from .parsing import command, rows_format
from .style import paint

MAX_AT_ONCE = 50  # probes in flight at once: a config check must not look like a load test


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``probe``."""
    p = command(sub, "probe", "run probes now and print what each saw (nothing is stored)",
                "sla-monitor --config monitor.yaml probe --once",
                "sla-monitor probe --once eu-west-health genesys-euw1-status",
                "sla-monitor probe --every 10s eu-west-health   # again every 10 s until Ctrl-C",
                details="Without --once it probes again every --every (default 30s) until interrupted. Exit 0 "
                        "when every probe passed, 1 when one failed or could not tell.")
    p.add_argument("probes", nargs="*", metavar="PROBE", help="probe ids (default: every probe, control targets too)")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--every", default="30s", help="pause between rounds without --once (default 30s)")
    rows_format(p)


def cmd_probe(ctx: Context, args: argparse.Namespace) -> int:
    """Run the chosen probes (once, or round after round) and print a table or JSON."""
    from ..values import parse_duration_ms

    everything = {p.id: (p, region or "third party", component)
                  for p, region, component in ctx.cfg.all_probes()}
    everything.update({p.id: (p, "vantage health", "control") for p in ctx.cfg.vantage_health.probes})
    unknown = [name for name in args.probes if name not in everything]
    if unknown:
        raise InputError(f"no probe {', '.join(map(repr, unknown))} in the config (known: "
                         f"{', '.join(list(everything)[:10])}{' …' if len(everything) > 10 else ''})")
    chosen = [everything[name] for name in (args.probes or everything)]
    try:
        pause_s = parse_duration_ms(args.every) / 1000
    except ValueError as exc:
        raise InputError(f"--every {args.every!r}: {exc}") from None
    try:
        return asyncio.run(_rounds(ctx, chosen, args.once, pause_s, args.format))
    except KeyboardInterrupt:  # Ctrl-C ends the rounds: the shell's convention for it
        return 130


async def _rounds(ctx: Context, chosen: list[tuple[Probe, str, str]], once: bool, pause_s: float, fmt: str) -> int:
    probe_ctx = ProbeContext(ctx.clock, user_agent=f"sla-monitor (vantage {ctx.cfg.vantage})")
    limit = asyncio.Semaphore(MAX_AT_ONCE)

    async def one(probe: Probe) -> Sample:
        async with limit:
            return await run_probe(probe, probe_ctx, ctx.cfg.vantage)
    try:
        while True:
            samples = await asyncio.gather(*(one(probe) for probe, _, _ in chosen))
            rows = [row(sample, where, component) for sample, (_, where, component) in zip(samples, chosen, strict=True)]
            print_rows(rows, fmt)
            if once:
                return 0 if all(r["result"] == "ok" for r in rows) else 1
            await asyncio.sleep(pause_s)
    finally:
        await probe_ctx.close()


def row(sample: Sample, where: str, component: str) -> dict:
    """What one probe saw, as the table and the JSON print it: the error, a warning (a certificate
    expiring soon), or the HTTP status."""
    result = {True: "ok", False: "failed", None: "unknown"}[sample.ok]
    warning = (sample.detail or {}).get("warning")
    detail = sample.error or warning or (f"HTTP {sample.status_code}" if sample.status_code else "")
    return {"probe": sample.probe, "region": where, "component": component, "result": result,
            "latency_ms": None if sample.latency_ms is None else round(sample.latency_ms, 1), "detail": detail}


def print_rows(rows: list[dict], fmt: str) -> None:
    """A table for people (results in colour on a terminal) or JSON."""
    if fmt == "json":
        sys.stdout.write(as_json(rows))
        return
    colours = {"ok": "green", "failed": "red", "unknown": "yellow"}
    table = [[r["probe"], r["region"], r["component"], paint(r["result"], colours[r["result"]], sys.stdout),
              "" if r["latency_ms"] is None else f"{r['latency_ms']:.1f}", r["detail"]] for r in rows]
    print(tabulate(table, ["probe", "region", "component", "result", "latency ms", "detail"], disable_numparse=True))
    sys.stdout.flush()
