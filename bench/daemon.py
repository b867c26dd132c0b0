"""`make bench-daemon`: the daemon probing 5,000 HTTP targets every 10 s, beside the bare floor.

Both run against the same nginx on 127.0.0.1 (Debian's package; installed by the caller), one
after the other, each for --warmup + --window seconds:
- floor: ../shared/bench/probe_floor.py --scheduler apscheduler --no-reuse (fresh connections, as
  the daemon's default).
- ours: `sla-monitor run` on a generated config of N probes, samples stored, state and gauges kept.
Figures: CPU-ms per probe, probes/s, drift p50/p99 (ours from its histogram, interpolated like
histogram_quantile), skipped runs, RSS, and the time of a /metrics scrape.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "daemon"
NGINX_PORT, DAEMON_PORT = 18400, 18401


def start_nginx() -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise SystemExit("nginx not found: apt-get install nginx-light (Debian) and run again")
    (OUT / "logs").mkdir(parents=True, exist_ok=True)
    conf = OUT / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {OUT}/nginx.pid;
error_log {OUT}/logs/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{NGINX_PORT} backlog=4096;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(OUT), "-g", "daemon off;"])
    time.sleep(0.5)
    return proc


def floor(shared: Path, n: int, interval: float, warmup: float, window: float) -> dict:
    out = subprocess.run([sys.executable, str(shared / "probe_floor.py"), "--n", str(n), "--interval", str(interval),
                          "--warmup", str(warmup), "--window", str(window), "--scheduler", "apscheduler",
                          "--no-reuse", "--base", f"http://127.0.0.1:{NGINX_PORT}/t/"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_config(n: int, interval: float) -> Path:
    lines = ["service: bench daemon", "timezone: UTC", f"storage: {{path: {OUT}/daemon.db}}",
             f'web: {{listen: "127.0.0.1:{DAEMON_PORT}"}}', "daemon: {max_connections: 100}", "regions:"]
    per_region, per_component = 50, 10
    for r in range(n // per_region):
        lines.append(f"  - name: r{r}\n    components:")
        for c in range(per_region // per_component):
            lines.append(f"      - name: c{c}\n        probes:")
            for k in range(per_component):
                i = r * per_region + c * per_component + k + 1
                lines.append(f'          - {{id: p{i}, kind: http, url: "http://127.0.0.1:{NGINX_PORT}/t/{i}", '
                             f"interval: {int(interval * 1000)}ms, timeout: 5s}}")
    path = OUT / "daemon.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def scrape() -> tuple[str, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{DAEMON_PORT}/metrics", timeout=30) as response:
        text = response.read().decode()
    return text, time.perf_counter() - started


def parse(text: str) -> dict:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


def drift_quantile(before: dict, after: dict, q: float) -> float | None:
    """histogram_quantile over the window's bucket increments (linear inside a bucket)."""
    prefix = "monitor_probe_schedule_drift_seconds_bucket{le="
    buckets = sorted((float(k[len(prefix) + 1:-2]) if "+Inf" not in k else float("inf"), after[k] - before.get(k, 0))
                     for k in after if k.startswith(prefix))
    total = buckets[-1][1]
    if not total:
        return None
    rank, lower, seen = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - seen) / max(count - seen, 1e-9)
        lower, seen = upper, count
    return None


def ours(n: int, interval: float, warmup: float, window: float) -> dict:
    config = write_config(n, interval)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT}/daemon.db{suffix}").unlink(missing_ok=True)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/sla-monitor"), "--config", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        time.sleep(warmup)
        before, _ = scrape()
        cpu0, t0 = proc_cpu_s(proc.pid), time.perf_counter()
        time.sleep(window)
        cpu1, t1 = proc_cpu_s(proc.pid), time.perf_counter()
        after, _ = scrape()
        scrapes = [scrape()[1] for _ in range(10)]
        rss, peak = proc_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)
    b, a = parse(before), parse(after)
    done = a["monitor_probe_schedule_drift_seconds_count"] - b["monitor_probe_schedule_drift_seconds_count"]
    skipped = sum(v - b.get(k, 0) for k, v in a.items() if k.startswith("monitor_probe_runs_skipped_total"))
    wall, cpu = t1 - t0, cpu1 - cpu0
    return {"n": n, "window_s": round(wall, 1), "expected_pps": n / interval, "achieved_pps": round(done / wall, 1),
            "skipped_runs": skipped, "cpu_util": round(cpu / wall, 3),
            "cpu_ms_per_probe": round(1000 * cpu / done, 3) if done else None,
            "drift_p50_ms": round(1000 * drift_quantile(b, a, 0.5), 2),
            "drift_p99_ms": round(1000 * drift_quantile(b, a, 0.99), 2),
            "rss_mb": round(rss, 1), "rss_peak_mb": round(peak, 1),
            "scrape_ms_median": round(1000 * statistics.median(scrapes), 1),
            "scrape_ms_max": round(1000 * max(scrapes), 1), "metrics_bytes": len(after)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    nginx = start_nginx()
    try:
        base = floor(Path(args.shared) / "bench", args.n, args.interval, args.warmup, args.window)
        print("floor:", json.dumps(base), flush=True)
        mine = ours(args.n, args.interval, args.warmup, args.window)
        print("sla-monitor:", json.dumps(mine), flush=True)
    finally:
        nginx.terminate()
        nginx.wait(10)
    floor_ms = 1000 * base["cpu_s"] / base["probes_done"]
    print(f"\n| prober | probes/s (expected {args.n / args.interval:g}) | CPU-ms/probe | vs floor | drift p50 ms | "
          f"drift p99 ms | skipped | RSS MB | /metrics ms |\n|---|---|---|---|---|---|---|---|---|")
    print(f"| probe_floor.py (apscheduler, fresh connections) | {base['achieved_pps']} | {floor_ms:.3f} | 1.00× | "
          f"{base['drift_p50_ms']} | {base['drift_p99_ms']} | {base['missed_slots'] + base['max_instance_skips']} | "
          f"{base['rss_peak_mb']} | – |")
    print(f"| sla-monitor run | {mine['achieved_pps']} | {mine['cpu_ms_per_probe']} | "
          f"{mine['cpu_ms_per_probe'] / floor_ms:.2f}× | {mine['drift_p50_ms']} | {mine['drift_p99_ms']} | "
          f"{mine['skipped_runs']:g} | {mine['rss_peak_mb']} | {mine['scrape_ms_median']} (max {mine['scrape_ms_max']}) |")


if __name__ == "__main__":
    main()
