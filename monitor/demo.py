"""`make demo-month`: generate a scripted month for config/demo-month.yaml, import it, report it.

The month is a named one (``--month``; by default October 2026, the month the README shows), so that
its figures are the same on whatever day the demo is run. The script has a counted outage,
a brief blip, an outage partly excused by Genesys Cloud, a maintenance window with notice, an
outage that breaches 99.9 %, a Management Panel outage and a non-production outage; and the vendor's
own status page, which posts one outage late, never posts another, and posts one we did not see.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from .cli import main as cli
from .config import load_config
from .sla.calendar import MonthError, iso, month_bounds, parse_month

MIN = 60_000
DEMO_MONTH = "2026-10"  # the README's walkthrough and its figures are of this month


def script(month_start: int) -> tuple[dict[str, list[tuple[int, int]]], list[dict]]:
    """Down intervals per probe and maintenance windows, as offsets into the month."""
    def at(day: int, hh: int, mm: int = 0) -> int:
        return month_start + ((day - 1) * 24 * 60 + hh * 60 + mm) * MIN

    down = {
        "eu-west-widget": [(at(3, 10), at(3, 10, 25)), (at(12, 9, 5), at(12, 9, 50))],
        "eu-west-api": [(at(9, 14), at(9, 14, 8))],
        "genesys-euw1-api": [(at(12, 9), at(12, 9, 40))],
        "us-east-widget": [(at(15, 2, 10), at(15, 2, 50)), (at(20, 8), at(20, 9, 10))],
        "eu-west-panel": [(at(22, 13), at(22, 16))],
        "staging-widget": [(at(5, 9), at(5, 11))],
    }
    maintenance = [{"region": "us-east", "start": at(15, 2), "end": at(15, 3), "announced_at": at(12, 2),
                    "reason": "database upgrade"}]
    return down, maintenance


def vendor_page(month_start: int) -> dict:
    """TrueEngage's own status page over the month (its ``/api/v2/incidents.json``): it posts eu-west's
    outage of the 3rd 40 minutes late as "degraded performance", that of the 12th 10 minutes late, never
    us-east's of the 20th, and posts an incident we did not observe on the 25th."""
    def at(day: int, hh: int, mm: int = 0) -> str:
        return iso(month_start + ((day - 1) * 24 * 60 + hh * 60 + mm) * MIN)

    def incident(ident: str, name: str, component: str, impact: str, created: str, resolved: str) -> dict:
        return {"id": ident, "name": name, "status": "resolved", "impact": impact, "created_at": created,
                "started_at": created, "resolved_at": resolved, "shortlink": f"http://127.0.0.1:18092/incidents/{ident}",
                "components": [{"id": f"cmp-{component}", "name": component, "status": "operational"}]}

    return {"page": {"id": "trueengage", "name": "TrueEngage"}, "incidents": [
        incident("te-1003", "Degraded video quality in EU West", "EU West", "minor", at(3, 10, 40), at(3, 10, 45)),
        incident("te-1012", "Video calls failing in EU West", "EU West", "major", at(12, 9, 15), at(12, 9, 55)),
        incident("te-1025", "Elevated error rates in US East", "US East", "minor", at(25, 14), at(25, 14, 30)),
    ]}


def write_month(path: Path, probes: list[str], start: int, end: int, down: dict) -> int:
    """A sample a minute per probe; returns how many were written."""
    count = 0
    with open(path, "w") as f:
        for t in range(start, end, MIN):
            ts = iso(t)
            for probe in probes:
                ok = not any(a <= t < b for a, b in down.get(probe, ()))
                f.write(json.dumps({"ts": ts, "probe": probe, "ok": ok, "latency_ms": 40.0 if ok else None,
                                    "error": None if ok else "HTTP 503"}) + "\n")
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="config/demo-month.yaml")
    parser.add_argument("--db", default="data/demo-month.db")
    parser.add_argument("--month", default=DEMO_MONTH, help=f"YYYY-MM (default {DEMO_MONTH}, the README's)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    tz = ZoneInfo(cfg.timezone)
    try:
        year, month = parse_month(args.month)
    except MonthError as exc:
        parser.error(str(exc))
    start, end = month_bounds(year, month, tz)
    db, samples = Path(args.db), Path(args.db).with_suffix(".jsonl")
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    down, maintenance = script(start)
    probes = [p.id for p, _, _ in cfg.all_probes()]
    print(f"demo: writing {len(probes)} probes × a sample a minute for {year:04d}-{month:02d} to {samples}")
    write_month(samples, probes, start, end, down)
    base = ["--config", args.config, "--db", str(db)]
    if cli(base + ["import", str(samples)]):
        return 1
    for m in maintenance:
        cli(base + ["maintenance", "add", "--region", m["region"], "--start", iso(m["start"]), "--end", iso(m["end"]),
                    "--kind", "scheduled", "--announced-at", iso(m["announced_at"]), "--reason", m["reason"]])
    page = db.with_name(db.stem + "-status.json")
    page.write_text(json.dumps(vendor_page(start), indent=1))
    if cli(base + ["vendor-status", "import", str(page)]):
        return 1
    print()
    code = cli(base + ["report", "--month", f"{year:04d}-{month:02d}"])
    print(f"\nMore: .venv/bin/sla-monitor --config {args.config} --db {db} report --month {year:04d}-{month:02d} "
          "--format markdown|json|csv, … outages, … incident list")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
