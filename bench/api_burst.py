"""`make bench-api`: do report requests hold back sample flushes? (issue 11)

The daemon probes 200 loopback targets every second (the simulated fleet), stores every sample and
flushes every second. For --window seconds it runs quietly; then for --window seconds clients keep
--clients clients asking /api/v1/availability and /api/v1/outages in flight, for the current month and
for past months in turn, each client waiting --pause seconds between requests. Figures: the largest gap between two flushes and the 99th percentile of
flush duration, quiet against burst, and how the burst's requests were answered. Only loopback.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.app import Daemon  # noqa: E402
from monitor.config import parse_config  # noqa: E402
from monitor.simulate import Fleet, Target  # noqa: E402


def config_text(fleet: Fleet, db: str, probes: int) -> str:
    ports = [t.port for t in fleet.targets.values()]
    lines = [f'          - {{id: p{i}, kind: http, url: "http://127.0.0.1:{ports[i % len(ports)]}/h{i}", '
             'interval: 1s, timeout: 900ms}' for i in range(probes)]
    return f"""
service: api burst bench
storage: {{path: {db}}}
web: {{listen: "127.0.0.1:0", rate_limit: null}}  # the burst measures flushes, not the limit
daemon: {{flush_interval: 1s, refresh_interval: 15s}}
regions:
  - name: r
    components:
      - name: c
        probes:
{chr(10).join(lines)}
"""


class FlushLog:
    """Wraps the writer's flush: when each flush ended and how long it took."""

    def __init__(self, writer):
        self.ends: list[float] = []
        self.durations: list[float] = []
        original = writer.flush

        async def timed():
            started = time.perf_counter()
            result = await original()
            self.durations.append(time.perf_counter() - started)
            self.ends.append(time.perf_counter())
            return result

        writer.flush = timed

    def since(self, t0: float) -> tuple[float, float]:
        ends = [e for e in self.ends if e >= t0]
        durations = [d for d, e in zip(self.durations, self.ends) if e >= t0]
        gaps = [b - a for a, b in zip(ends, ends[1:])]
        p99 = statistics.quantiles(durations, n=100)[98] if len(durations) >= 2 else max(durations, default=0)
        return max(gaps, default=0.0), p99


async def main(args) -> None:
    fleet = Fleet()
    for i in range(8):
        fleet.add(Target(f"t{i}", 0))
    await fleet.start(0)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "b.db")
        daemon = Daemon(parse_config(config_text(fleet, db, args.probes)), db, registry=CollectorRegistry())
        await daemon.start()
        log = FlushLog(daemon.writer)
        daemon._tasks[0].cancel()  # the writer loop started with the original flush: restart it
        daemon._tasks[0] = asyncio.create_task(daemon.writer.run())
        await asyncio.sleep(args.window)
        quiet = log.since(time.perf_counter() - args.window)
        burst_start = time.perf_counter()
        # The clients run in a process of their own, as real clients would: only the daemon's own work
        # (answering) competes with its flushes.
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__)), "--clients-only", str(daemon.port), "--clients", str(args.clients),
            "--window", str(args.window), "--pause", str(args.pause), stdout=asyncio.subprocess.PIPE)
        out, _ = await child.communicate()
        statuses = json.loads(out)
        burst = log.since(burst_start)
        await daemon.stop()
    await fleet.stop()
    print("| phase | largest gap between flushes s | flush p99 s |\n|---|---|---|")
    print(f"| quiet ({args.probes} probes/s) | {quiet[0]:.3f} | {quiet[1]:.4f} |")
    rate = "as fast as answered" if not args.pause else f"each every {args.pause:g} s"
    print(f"| {args.clients} clients asking for reports, {rate} | {burst[0]:.3f} | {burst[1]:.4f} |")
    print(f"answers during the burst: {dict(sorted(statuses.items()))}")


async def clients(port: int, count: int, window: float, pause: float) -> None:
    """``count`` clients, each asking, waiting ``pause`` seconds, and asking again for ``window`` seconds
    (``pause`` 0: as fast as answered); print the answers' statuses as JSON."""
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + window
    months = ["", "?month=2026-10", "?month=2026-09", "?month=2026-08"]

    async def client(n: int):
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            i = n
            while time.perf_counter() < stop:
                path = ("/api/v1/availability" if i % 2 else "/api/v1/outages") + months[i % len(months)]
                async with http.get(path) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                i += 1
                await asyncio.sleep(pause)

    await asyncio.gather(*(client(n) for n in range(count)))
    print(json.dumps(statuses))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds each client waits between requests")
    parser.add_argument("--clients-only", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.clients_only:
        asyncio.run(clients(parsed.clients_only, parsed.clients, parsed.window, parsed.pause))
    else:
        asyncio.run(main(parsed))
