"""`make bench-postgres`: the PostgreSQL store against the SQLite one on the same month, in the same run:
import (samples/s) and a month's report (whole process, median of interleaved runs). The server is a
throwaway cluster on a free loopback port (the tests' own helper, tests/pg_server.py: Debian's
postgresql package). Prints a Markdown table for bench/RESULTS.md.

Figures to reach (issue 25): import ≥ 50 % of SQLite's rate; the report ≤ 2× SQLite's time.
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
from run import NOW, OUT, generate, measured_cpu, sla  # noqa: E402


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
        for _ in range(args.runs):  # interleaved, so that the machine's drift hits both alike
            for name, db in stores.items():
                wall, cpu, rss, _ = measured_cpu(sla("--db", db, "--now", NOW, "report", "--month", "2026-11",
                                                     "--format", "json"))
                reports[name].append((wall, cpu, rss))
    finally:
        server.stop()
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}; gen_month.py's month (50 probes, 1/min, 2.16 M samples)\n")
    print("| store | import samples/s | vs SQLite | import CPU s (client) | report --format json wall s (median) "
          "| vs SQLite | report CPU s | peak RSS MB |\n|---|---|---|---|---|---|---|---|")
    base_rate = imports["SQLite"][0]
    base_report = statistics.median(r[0] for r in reports["SQLite"])
    for name in stores:
        rate, _, cpu, _ = imports[name]
        wall = statistics.median(r[0] for r in reports[name])
        print(f"| {name} | {rate:,.0f} | {rate / base_rate:.2f}× | {cpu:.1f} | {wall:.3f} | {wall / base_report:.2f}× | "
              f"{statistics.median(r[1] for r in reports[name]):.3f} | {max(r[2] for r in reports[name]):.0f} |")


if __name__ == "__main__":
    main()
