"""`make bench-scale`: a year of stored samples for 500 probes; the figures refresh, a month's report, the
year's twelve reports and the import of a month against it, each timed with its peak RSS.

The store (generated once, kept in bench/out/scale/; about 8 GB): 500 HTTP probes (10 regions × 5
components × 10 probes) sampled every 60 s from 2025-11-01 to 2026-11-01, 262.8 M samples. The samples
are the same in every month; the state changes are not: month k (0 = Nov 2025) has 2 × (k + 1) outages
per region, every probe of the region down together for 3 to 40 minutes. A report that grows with the
month's state changes, not with its samples, takes about 12× longer for Oct 2026 than for Nov 2025.

Each figure runs in a fresh process (``python bench/scale.py --measure …``): wall time, CPU and peak RSS
from wait4. Nothing here talks to the network.

`make bench-scale-postgres` (``--postgres``): the same year copied into PostgreSQL with ``store copy``
(a throwaway cluster on loopback), then the figures refresh and the first and last month's reports on
both stores. Figure to reach (issue 25): PostgreSQL ≤ 2× SQLite's time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "scale"
DB = OUT / "year.db"
CONFIG = OUT / "scale.yaml"
REGIONS, COMPONENTS, PER_COMPONENT = 10, 5, 10
STEP_MS = 60_000
START = dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc)
MONTHS = [(2025 + (10 + k) // 12, (10 + k) % 12 + 1) for k in range(12)]  # Nov 2025 … Oct 2026
NOW = "2026-10-31T23:00:00Z"  # figures: October to date, September before it
NOW_MS = int(dt.datetime(2026, 10, 31, 23, tzinfo=dt.timezone.utc).timestamp()) * 1000
IMPORT_MONTH = (2026, 11)


def ms(when: dt.datetime) -> int:
    return int(when.timestamp()) * 1000


def month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def probes() -> list[tuple[str, int]]:
    """(probe id, region index) of the 500 probes."""
    return [(f"r{r}c{c}p{k}", r) for r in range(REGIONS) for c in range(COMPONENTS) for k in range(PER_COMPONENT)]


def write_config() -> None:
    lines = ["service: bench scale", "timezone: UTC", f"storage: {{path: {DB}}}", "regions:"]
    for r in range(REGIONS):
        lines.append(f"  - name: region{r}\n    components:")
        for c in range(COMPONENTS):
            lines.append(f"      - name: c{c}\n        probes:")
            lines += [f'          - {{id: r{r}c{c}p{k}, kind: http, url: "http://127.0.0.1:9/{r}/{c}/{k}", interval: 60s}}'
                      for k in range(PER_COMPONENT)]
    CONFIG.write_text("\n".join(lines) + "\n")


def outages(months: list[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
    """Per region, its down spells [start, end) in ms: 2 × (k + 1) in month k, 3 to 40 minutes each."""
    rng = random.Random(13)
    spells: dict[int, list[tuple[int, int]]] = {r: [] for r in range(REGIONS)}
    for k, (year, month) in enumerate(months):
        lo = ms(month_start(year, month))
        hi = ms(month_start(year + month // 12, month % 12 + 1))
        for r in range(REGIONS):
            for _ in range(2 * (k + 1)):
                start = lo + rng.randrange(0, (hi - lo) // STEP_MS - 60) * STEP_MS
                spells[r].append((start, start + rng.randint(3, 40) * STEP_MS))
    return {r: sorted(s) for r, s in spells.items()}


def down_at(spells: list[tuple[int, int]], lo: int, hi: int) -> set[int]:
    """The sample instants in [lo, hi) inside a spell."""
    return {ts for start, end in spells for ts in range(max(start, lo), min(end, hi), STEP_MS)}


def generate() -> None:
    """The year store, through the store's own bulk path (insert, then one refold per probe)."""
    sys.path.insert(0, str(ROOT))
    from monitor.config import load_config
    from monitor.config.fleet import stale_ms_by_probe
    from monitor.storage import Store

    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    write_config()
    stale_ms = stale_ms_by_probe(load_config(str(CONFIG)))  # as the daemon and the import fold them
    lo, hi = ms(START), ms(month_start(2026, 11))
    spells = outages(MONTHS)
    store = Store.open(DB)
    vantage = store.id_for("vantages", "local")
    started = time.perf_counter()
    for n, (probe, region) in enumerate(probes()):
        pid = store.id_for("probes", probe)
        down = down_at(spells[region], lo, hi)
        rows = [(pid, vantage, ts, 0, None, "HTTP 503 (expected 200)") if ts in down else (pid, vantage, ts, 1, 5.0, None)
                for ts in range(lo, hi, STEP_MS)]
        with store.transaction():  # chained as the daemon's writes are, so that the daemon starts on a chain
            batch = store.next_batch()
            rows = [(*row, None, None, batch) for row in rows]
            store.chain_batch(batch, rows)
            store.insert_samples(rows)
            store.refold(pid, vantage, lo, hi - STEP_MS, stale_ms[probe])
        if n % 50 == 49:
            print(f"  {n + 1} probes, {time.perf_counter() - started:.0f} s", flush=True)
    store.close()
    (OUT / "generated.json").write_text(json.dumps({"samples": len(probes()) * ((hi - lo) // STEP_MS),
                                                    "seconds": round(time.perf_counter() - started)}))


def import_file() -> Path:
    """A month of samples (November 2026) for the 500 probes, as JSONL: 21.6 M lines."""
    path = OUT / "import-month.jsonl"
    if path.exists():
        return path
    lo, hi = ms(month_start(*IMPORT_MONTH)), ms(month_start(2026, 12))
    spells = outages([IMPORT_MONTH] * 6)  # six months' worth of outages in one: 12 per region
    with open(path, "w") as out:
        for ts in range(lo, hi, STEP_MS):
            stamp = dt.datetime.fromtimestamp(ts / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            for probe, region in probes():
                ok = not any(s <= ts < e for s, e in spells[region])
                out.write(f'{{"ts": "{stamp}", "probe": "{probe}", "ok": {"true" if ok else "false"}}}\n')
    return path


# -- the measured operations, each in its own process ------------------------------------------------

def measure_refresh(location: str) -> dict:
    """The daemon's figures refresh (month to date, previous month, 90 daily bars) on the year store at
    ``location`` (the SQLite file, or its copy in PostgreSQL)."""
    import asyncio

    from monitor.clock import FixedClock
    from monitor.config import load_config, to_fleet
    from monitor.live.dbthread import DbThread
    from monitor.live.figures import LiveFigures
    from monitor.storage import open_store

    async def run() -> dict:
        fleet = to_fleet(load_config(str(CONFIG)))
        reader = DbThread(lambda: open_store(location, create=False))
        await reader.start()
        figures = LiveFigures(reader, fleet, FixedClock(NOW_MS), capture=lambda now: {})
        times = []
        for _ in range(3):
            started = time.perf_counter()
            await figures.refresh()
            times.append(time.perf_counter() - started)
        await reader.close()
        return {"refresh_s": [round(t, 2) for t in times]}

    return asyncio.run(run())


def measure_year() -> dict:
    """The twelve monthly reports of the year, in one process (what a yearly summary computes)."""
    from monitor.accounting import month_report
    from monitor.config import load_config, to_fleet
    from monitor.storage import opened

    fleet = to_fleet(load_config(str(CONFIG)))
    per_month, total = {}, 0.0
    with opened(DB, create=False) as store:
        for year, month in MONTHS:
            times = []
            for _ in range(5):  # the first pays for the pages it reads; the median is the engine's time
                started = time.perf_counter()
                result = month_report(store, fleet, year, month, NOW_MS)
                times.append(time.perf_counter() - started)
            total += times[0]
            per_month[f"{year}-{month:02d}"] = {"ms_median": round(1000 * sorted(times)[2]),
                                                "periods": sum(len(r.periods) for r in result.regions)}
    return {"year_first_pass_s": round(total, 2), "months": per_month}


def measured(cmd: list[str], figures_out: bool = False) -> dict:
    """Run ``cmd``; wall and CPU seconds, peak RSS MB, the size of what it printed and (``figures_out``:
    one of this file's --measure runs) the figures it printed."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out}")
    return {"wall_s": round(time.perf_counter() - started, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "rss_mb": round(usage.ru_maxrss / 1024, 1), "output_bytes": len(out),
            **(json.loads(out.splitlines()[-1]) if figures_out else {})}


def segment_counts() -> dict[str, int]:
    """State changes per month: the segments that start in it (read through the store)."""
    sys.path.insert(0, str(ROOT))
    from monitor.storage import opened

    counts = {}
    with opened(DB, create=False) as store:
        for year, month in MONTHS:
            lo, hi = ms(month_start(year, month)), ms(month_start(year + month // 12, month % 12 + 1))
            counts[f"{year}-{month:02d}"] = sum(sum(1 for s in segs if lo <= s[0] < hi)
                                                for segs in store.segments_between(lo, hi).values())
    return counts


def against_postgres() -> None:
    """The year store copied into a throwaway PostgreSQL cluster (the tests' helper, Debian's
    postgresql, fsync off), then the figures refresh and the first and last month's reports on each
    store, interleaved (SQLite, PostgreSQL, SQLite, …), three rounds."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_server import PgServer, binaries

    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL not found: apt-get install postgresql (Debian) and run again")
    server = PgServer(bindir).start()
    try:
        url = server.fresh_url()
        sla = [str(ROOT / ".venv/bin/sla-monitor"), "--config", str(CONFIG)]
        copy = measured(sla + ["store", "copy", "--from", str(DB), "--to", url])
        print("store copy:", json.dumps(copy), flush=True)
        rounds: dict[str, dict[str, list]] = {"SQLite": {}, "PostgreSQL": {}}
        for _ in range(3):
            for name, location in (("SQLite", str(DB)), ("PostgreSQL", url)):
                runs = rounds[name]
                runs.setdefault("refresh", []).append(measured(
                    [sys.executable, __file__, "--measure", "refresh", "--db", location], figures_out=True))
                for month in ("2025-11", "2026-10"):
                    runs.setdefault(month, []).append(measured(
                        sla + ["--db", location, "--now", NOW, "report", "--month", month, "--format", "json"]))
        print(json.dumps(rounds), flush=True)
    finally:
        server.stop()

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]
    print(f"\nstore copy of the year (SQLite → PostgreSQL): {copy['wall_s']} s\n\n"
          "| store | refresh s: first / after (medians) | vs SQLite | report 2025-11 s | vs SQLite | report 2026-10 s "
          "| vs SQLite |\n|---|---|---|---|---|---|---|")
    base: dict[str, float] = {}
    for name, runs in rounds.items():
        first = median([r["refresh_s"][0] for r in runs["refresh"]])
        later = median([r["refresh_s"][-1] for r in runs["refresh"]])
        nov, octo = median([r["wall_s"] for r in runs["2025-11"]]), median([r["wall_s"] for r in runs["2026-10"]])
        base = base or {"first": first, "nov": nov, "oct": octo}
        print(f"| {name} | {first:.2f} / {later:.2f} | {first / base['first']:.2f}× | {nov:.2f} | "
              f"{nov / base['nov']:.2f}× | {octo:.2f} | {octo / base['oct']:.2f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", choices=["refresh", "year"], help="(internal) one measured operation")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the year store")
    parser.add_argument("--db", default=str(DB), help="(internal) the store --measure refresh reads")
    parser.add_argument("--postgres", action="store_true",
                        help="instead: copy the year store into PostgreSQL and time the refresh and reports on both")
    args = parser.parse_args()
    if args.measure:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure_refresh(args.db) if args.measure == "refresh" else measure_year()))
        return
    if args.regenerate or not (OUT / "generated.json").exists():
        print(f"generating {DB} (once; about 8 GB) …", flush=True)
        generate()
    print("generated:", (OUT / "generated.json").read_text(), flush=True)
    if args.postgres:
        against_postgres()
        return
    sla = [str(ROOT / ".venv/bin/sla-monitor"), "--config", str(CONFIG), "--db", str(DB), "--now", NOW]
    figures = {"store_gb": round(DB.stat().st_size / 1e9, 2), "segments_per_month": segment_counts()}
    figures["refresh"] = measured([sys.executable, __file__, "--measure", "refresh"], figures_out=True)
    figures["report_first_month"] = measured(sla + ["report", "--month", "2025-11", "--format", "json"])
    figures["report_last_month"] = measured(sla + ["report", "--month", "2026-10", "--format", "json"])
    figures["year"] = measured([sys.executable, __file__, "--measure", "year"], figures_out=True)
    source = import_file()
    copy = OUT / "import-copy.db"
    shutil.copyfile(DB, copy)  # the import changes the store: into a copy, the year store stays as generated
    try:
        figures["import_month"] = measured([str(ROOT / ".venv/bin/sla-monitor"), "--config", str(CONFIG), "--db",
                                            str(copy), "--now", "2026-12-05T00:00:00Z", "import", str(source)])
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
