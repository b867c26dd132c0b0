"""`make bench-postgres`: the PostgreSQL store against the SQLite one on the same month, in the same run:
import (samples/s), a month's report (whole process) and the daemon's figures refresh (in process: the
month to date, the month before, 90 days of history and the latency charts), medians of interleaved
runs. The server is a
throwaway cluster on a free loopback port (the tests' own helper, tests/pg_server.py: Debian's
postgresql package). Prints a Markdown table for bench/RESULTS.md.

Figures to reach (issue 25): import ≥ 50 % of SQLite's rate; the report and a figures refresh ≤ 2×
SQLite's time.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from pg_server import PgServer, binaries  # noqa: E402
from run import CONFIG, NOW, OUT, generate, measured_cpu, sla  # noqa: E402

REFRESH_AT = "2026-11-30T23:00:00Z"  # the month's last hour: the month to date is the whole generated month


def refresh_seconds(db: str) -> float:
    """One full figures refresh of the daemon (nothing computed before), on ``db``."""
    import asyncio

    from monitor.clock import FixedClock
    from monitor.config import load_config, to_fleet
    from monitor.errors import parse_instant
    from monitor.live.dbthread import DbThread
    from monitor.live.figures import LiveFigures
    from monitor.storage import open_store

    async def once() -> float:
        thread = DbThread(lambda: open_store(db, create=False))
        await thread.start()
        try:
            figures = LiveFigures(thread, to_fleet(load_config(str(CONFIG))), FixedClock(parse_instant(REFRESH_AT, "at")))
            start = time.perf_counter()
            await figures.refresh()
            return time.perf_counter() - start
        finally:
            await thread.close()
    return asyncio.run(once())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared"), help="the shared/ folder (gen_month.py)")
    parser.add_argument("--runs", type=int, default=5, help="report runs per store (median)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    month = generate(Path(args.shared) / "bench", "m60.jsonl")
    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")
    server = PgServer(bindir).start()
    try:
        stores = {"SQLite": str(OUT / "pg-compare.db"), "PostgreSQL": server.fresh_url()}
        for suffix in ("", "-wal", "-shm"):
            Path(f"{stores['SQLite']}{suffix}").unlink(missing_ok=True)
        imports = {}
        for name, db in stores.items():
            wall, cpu, rss, out = measured_cpu(sla("--db", db, "--now", NOW, "import", str(month)), stdout=None)
            count = int(re.search(r"imported (\d+) samples", out).group(1))
            imports[name] = (count / wall, wall, cpu, rss)
            print(f"import into {name}: {count} samples in {wall:.1f} s", flush=True)
        reports: dict[str, list[tuple[float, float, float]]] = {name: [] for name in stores}
        refreshes: dict[str, list[float]] = {name: [] for name in stores}
        for _ in range(args.runs):  # interleaved, so that the machine's drift hits both alike
            for name, db in stores.items():
                wall, cpu, rss, _ = measured_cpu(sla("--db", db, "--now", NOW, "report", "--month", "2026-11",
                                                     "--format", "json"))
                reports[name].append((wall, cpu, rss))
                refreshes[name].append(refresh_seconds(db))
    finally:
        server.stop()
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}; gen_month.py's month (50 probes, 1/min, 2.16 M samples)\n")
    print("| store | import samples/s | vs SQLite | import CPU s (client) | report --format json wall s (median) "
          "| vs SQLite | report CPU s | peak RSS MB | figures refresh s (median) | vs SQLite |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    base_rate = imports["SQLite"][0]
    base_report = statistics.median(r[0] for r in reports["SQLite"])
    base_refresh = statistics.median(refreshes["SQLite"])
    for name in stores:
        rate, _, cpu, _ = imports[name]
        wall = statistics.median(r[0] for r in reports[name])
        refresh = statistics.median(refreshes[name])
        print(f"| {name} | {rate:,.0f} | {rate / base_rate:.2f}× | {cpu:.1f} | {wall:.3f} | {wall / base_report:.2f}× | "
              f"{statistics.median(r[1] for r in reports[name]):.3f} | {max(r[2] for r in reports[name]):.0f} | "
              f"{refresh:.3f} | {refresh / base_refresh:.2f}× |")


if __name__ == "__main__":
    main()
