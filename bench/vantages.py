"""`make bench-vantages`: three vantages × N HTTP probes every interval, writing their samples into one
PostgreSQL database (`daemon.mode: vantage`), against the same three daemons each writing a SQLite file
of its own (`daemon.mode: probe`), one run after the other on the same nginx.

Each vantage probes its own paths (/a/t/1 …), so that nginx's arrival log gives each target's jitter
as that vantage's schedule made it. Figures per run, over all three daemons: CPU-ms per probe (every
process), probes/s, schedule drift p50/p99 (their histograms summed, interpolated like
histogram_quantile), target jitter p50/p99, samples in the store(s) afterwards, RSS. The server is a
throwaway cluster on a free loopback port (the tests' helper, tests/pg_server.py: Debian's
postgresql, with the tests' settings: fsync off).

Figure to reach (issue 25): the PostgreSQL run's timing figures (jitter, CPU per probe) within 10 % of
the SQLite run's.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from daemon import (  # noqa: E402
    OUT,
    drift_quantile,
    parse,
    proc_cpu_s,
    proc_rss_mb,
    region_lines,
    start_nginx,
    target_jitter,
    tree,
    tree_cpu_s,
)
from pg_server import PgServer, binaries  # noqa: E402

VANTAGES = ("a", "b", "c")
FIRST_PORT = 18410


def write_config(vantage: str, n: int, interval: float, store: str, mode: str, port: int, refresh: str) -> Path:
    """One vantage's config: the same probe ids everywhere, its own paths on the target."""
    storage = f"{{url: '{store}', buffer: '{OUT}/buffer-{vantage}.db'}}" if mode == "vantage" else f"{{path: '{store}'}}"
    lines = ["service: bench vantages", "timezone: UTC", f"storage: {storage}", f'web: {{listen: "127.0.0.1:{port}"}}',
             f"vantage: {vantage}", f"vantages: [{', '.join(VANTAGES)}]",
             f"daemon: {{mode: {mode}, max_connections: 100, flush_interval: 2s, refresh_interval: {refresh}}}",
             *region_lines(n, interval, f"/{vantage}")]
    path = OUT / f"vantage-{vantage}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def scrape(port: int) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        return parse(response.read().decode())


def summed(figures: list[dict]) -> dict:
    """The daemons' counters and histogram buckets, added up."""
    total: dict = {}
    for one in figures:
        for key, value in one.items():
            total[key] = total.get(key, 0) + value
    return total


def run(backend: str, n: int, interval: float, warmup: float, window: float, url: str | None,
        server_pid: int, refresh: str) -> dict:
    """The three daemons on ``backend``: their figures over the window (and the CPU of the PostgreSQL
    server, ``server_pid`` and its backends, which runs idle in the SQLite run)."""
    procs, ports = [], []
    for k, vantage in enumerate(VANTAGES):
        port = FIRST_PORT + k
        if backend == "postgresql":
            config = write_config(vantage, n, interval, url or "", "vantage", port, refresh)
        else:
            db = OUT / f"vantage-{vantage}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            config = write_config(vantage, n, interval, str(db), "probe", port, refresh)
        procs.append(subprocess.Popen([str(ROOT / ".venv/bin/sla-monitor"), "--config", str(config), "run"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        ports.append(port)
    try:
        time.sleep(warmup)
        before = summed([scrape(p) for p in ports])
        pids = [tree(proc.pid) for proc in procs]  # each daemon: its engine, then its probe process

        def cpu() -> tuple[float, float, float]:
            """CPU seconds of every daemon process, of the probe processes alone, and of the server."""
            return (sum(proc_cpu_s(p) for one in pids for p in one), sum(proc_cpu_s(p) for one in pids for p in one[1:]),
                    tree_cpu_s(server_pid))
        (cpu0, probe0, server0), t0, since = cpu(), time.perf_counter(), time.time()
        time.sleep(window)
        (cpu1, probe1, server1), t1, until = cpu(), time.perf_counter(), time.time()
        after = summed([scrape(p) for p in ports])
        rss = sum(proc_rss_mb(p)[0] for one in pids for p in one)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    done = after["monitor_probe_schedule_drift_seconds_count"] - before["monitor_probe_schedule_drift_seconds_count"]
    wall = t1 - t0
    return {"t0": since, "t1": until, "backend": backend, "expected_pps": len(VANTAGES) * n / interval,
            "achieved_pps": round(done / wall, 1), "cpu_util": round((cpu1 - cpu0) / wall, 3),
            "cpu_ms_per_probe": round(1000 * (cpu1 - cpu0) / done, 3) if done else None,
            "probe_process_cpu_ms_per_probe": round(1000 * (probe1 - probe0) / done, 3) if done else None,
            "server_cpu_ms_per_probe": round(1000 * (server1 - server0) / done, 3) if done else None,
            "drift_p50_ms": round(1000 * (drift_quantile(before, after, 0.5) or 0), 2),
            "drift_p99_ms": round(1000 * (drift_quantile(before, after, 0.99) or 0), 2),
            "rss_mb": round(rss, 1), "stored": stored(backend, url)}


def stored(backend: str, url: str | None) -> int:
    """Samples in the store(s) after the run, all vantages."""
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(url or "") as conn:
            row = conn.execute("SELECT count(*) FROM samples").fetchone()
            return int(row[0]) if row else 0
    return sum(sqlite3.connect(OUT / f"vantage-{v}.db").execute("SELECT count(*) FROM samples").fetchone()[0]
               for v in VANTAGES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000, help="probes per vantage")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=25.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--refresh", default="15s", help="the daemons' daemon.refresh_interval (figures)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one of the two runs")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL not found: apt-get install postgresql (Debian) and run again")
    server = PgServer(bindir).start()
    rows = []
    try:
        for backend in [args.only] if args.only else ["sqlite", "postgresql"]:
            log = OUT / "logs" / f"vantages-{backend}.arrivals"
            log.unlink(missing_ok=True)
            nginx = start_nginx(log)
            try:
                figures = run(backend, args.n, args.interval, args.warmup, args.window,
                              server.fresh_url() if backend == "postgresql" else None, server.postmaster_pid(),
                              args.refresh)
            finally:
                nginx.terminate()
                nginx.wait(10)  # flushes the log
            figures.update(target_jitter(log, args.interval, figures.pop("t0"), figures.pop("t1")))
            print(f"{backend}:", json.dumps(figures), flush=True)
            rows.append(figures)
    finally:
        server.stop()
    base = rows[0]
    print(f"\n| store | probes/s (expected {base['expected_pps']:g}) | CPU-ms/probe, all (probe processes) | "
          f"vs SQLite | server CPU-ms/probe | drift p50 / p99 ms | target jitter p50 / p99 ms | RSS MB (all) | "
          f"samples stored |\n|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['backend']} | {row['achieved_pps']} | {row['cpu_ms_per_probe']} "
              f"({row['probe_process_cpu_ms_per_probe']}) | {row['cpu_ms_per_probe'] / base['cpu_ms_per_probe']:.2f}× "
              f"({row['probe_process_cpu_ms_per_probe'] / base['probe_process_cpu_ms_per_probe']:.2f}×) | "
              f"{row['server_cpu_ms_per_probe']} | "
              f"{row['drift_p50_ms']} / {row['drift_p99_ms']} "
              f"| {row['target_jitter_p50_ms']} / {row['target_jitter_p99_ms']} | {row['rss_mb']} | {row['stored']:,} |")


if __name__ == "__main__":
    main()
