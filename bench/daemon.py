"""`make bench-daemon`: the daemon probing 5,000 HTTP targets every 10 s, beside the bare floor and
blackbox_exporter.

All run against the same nginx on 127.0.0.1 (Debian's package; installed by the caller), one after
the other, each for --warmup + --window seconds:
- floor: ../shared/bench/probe_floor.py --scheduler apscheduler --no-reuse (fresh connections, as
  the daemon's default).
- blackbox: Debian's prometheus-blackbox-exporter driven by Debian's prometheus, one scrape job of
  N targets every interval (with --blackbox; skipped when either is not installed).
- ours: `sla-monitor run` on a generated config of N probes, samples stored, state and gauges kept.
Figures: CPU-ms per probe (every process of the prober), probes/s, drift p50/p99 (ours from its
histogram, interpolated like histogram_quantile), skipped runs, RSS, the time of a /metrics scrape,
and what the target saw: nginx logs each request's arrival (``$msec``), and the jitter of a target
is how far each arrival is from one interval after the previous one (p50/p99 over all targets).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "daemon"
SETTLE_S = 30  # between blackbox_exporter's phase and ours
NGINX_PORT, DAEMON_PORT, BLACKBOX_PORT, PROMETHEUS_PORT = 18400, 18401, 18402, 18403


def start_nginx(log: Path | None = None) -> subprocess.Popen:
    """nginx on NGINX_PORT; with ``log``, each request's arrival time and path written there."""
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
  log_format arrival '$msec $uri';
  {f"access_log {log} arrival buffer=256k flush=1s;" if log else "access_log off;"}
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


def target_jitter(log: Path, interval: float, since: float, until: float) -> dict:
    """Per target, how far each arrival in [since, until) is from one interval after the previous arrival:
    p50 and p99 over all targets, in ms; and the arrivals counted."""
    arrivals: dict[str, list[float]] = {}
    for line in log.read_text().splitlines():
        stamp, _, uri = line.partition(" ")
        arrivals.setdefault(uri, []).append(float(stamp))
    offsets = []
    count = 0
    for times in arrivals.values():
        times.sort()
        for previous, current in zip(times, times[1:]):
            if since <= current < until:
                offsets.append(abs(current - previous - interval))
                count += 1
    offsets.sort()
    pick = (lambda q: round(1000 * offsets[min(len(offsets) - 1, int(q * len(offsets)))], 2)) if offsets else (
        lambda q: None)
    return {"target_jitter_p50_ms": pick(0.5), "target_jitter_p99_ms": pick(0.99), "target_arrivals": count}


def blackbox(n: int, interval: float, warmup: float, window: float) -> dict | None:
    """blackbox_exporter driven by Prometheus: one job of N targets, scraped every interval."""
    exporter, prometheus = shutil.which("prometheus-blackbox-exporter"), shutil.which("prometheus")
    if not exporter or not prometheus:
        print("blackbox: prometheus-blackbox-exporter or prometheus not installed; skipped", flush=True)
        return None
    (OUT / "blackbox.yml").write_text("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
                                      "    http:\n      preferred_ip_protocol: ip4\n")
    targets = [f"http://127.0.0.1:{NGINX_PORT}/t/{i}" for i in range(1, n + 1)]
    (OUT / "targets.json").write_text(json.dumps([{"targets": targets}]))
    (OUT / "prometheus.yml").write_text(f"""
global: {{scrape_interval: {interval:g}s, scrape_timeout: 5s}}
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params: {{module: [http_2xx]}}
    file_sd_configs: [{{files: ["{OUT}/targets.json"]}}]
    relabel_configs:
      - {{source_labels: [__address__], target_label: __param_target}}
      - {{source_labels: [__param_target], target_label: instance}}
      - {{target_label: __address__, replacement: "127.0.0.1:{BLACKBOX_PORT}"}}
""")
    shutil.rmtree(OUT / "prometheus-data", ignore_errors=True)
    procs = [subprocess.Popen([exporter, f"--config.file={OUT}/blackbox.yml",
                               f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([prometheus, f"--config.file={OUT}/prometheus.yml",
                               f"--storage.tsdb.path={OUT}/prometheus-data",
                               f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(warmup)
        cpu0, t0 = [proc_cpu_s(p.pid) for p in procs], time.time()
        time.sleep(window)
        cpu1, t1 = [proc_cpu_s(p.pid) for p in procs], time.time()
        rss = [proc_rss_mb(p.pid)[1] for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    return {"t0": t0, "t1": t1, "cpu_exporter_s": cpu1[0] - cpu0[0], "cpu_prometheus_s": cpu1[1] - cpu0[1],
            "rss_exporter_mb": rss[0], "rss_prometheus_mb": rss[1]}


def write_config(n: int, interval: float) -> Path:
    lines = ["service: bench daemon", "timezone: UTC", f"storage: {{path: {OUT}/daemon.db}}",
             f'web: {{listen: "127.0.0.1:{DAEMON_PORT}"}}',
             # Flushes of 1,000 samples (500 probes/s) and a month-to-date refresh every 15 s: both happen in
             # the window, as the probe loop must not notice them.
             "daemon: {max_connections: 100, flush_interval: 2s, refresh_interval: 15s}", *region_lines(n, interval)]
    path = OUT / "daemon.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def region_lines(n: int, interval: float, prefix: str = "") -> list[str]:
    """The config's regions: ``n`` HTTP probes p1 … pN in regions of 50 (components of 10), probing
    nginx's ``{prefix}/t/{i}``."""
    lines = ["regions:"]
    per_region, per_component = 50, 10
    for r in range(n // per_region):
        lines.append(f"  - name: r{r}\n    components:")
        for c in range(per_region // per_component):
            lines.append(f"      - name: c{c}\n        probes:")
            for k in range(per_component):
                i = r * per_region + c * per_component + k + 1
                lines.append(f'          - {{id: p{i}, kind: http, url: "http://127.0.0.1:{NGINX_PORT}{prefix}/t/{i}", '
                             f"interval: {int(interval * 1000)}ms, timeout: 5s}}")
    return lines


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and its descendants (the daemon's engine process is a child)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            todo += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of the process and its live descendants."""
    return sum(proc_cpu_s(p) for p in tree(pid))


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


class Scraper:
    """Scrapes /metrics every ``every`` seconds in a thread, as Prometheus would while the daemon probes."""

    def __init__(self, every: float = 5.0):
        self.every, self.times, self.stop = every, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.times.append(scrape()[1])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def ours(n: int, interval: float, warmup: float, window: float, pin: str | None = None) -> dict:
    config = write_config(n, interval)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT}/daemon.db{suffix}").unlink(missing_ok=True)
    # --pin: every process of the daemon on one core (the probe process inherits it), for probes/s per core.
    proc = subprocess.Popen([*(["taskset", "-c", pin] if pin else []), str(ROOT / ".venv/bin/sla-monitor"),
                             "--config", str(config), "run"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        time.sleep(warmup)
        before, _ = scrape()
        pids = tree(proc.pid)  # the daemon, then its probe process
        cpu0, t0, since = [proc_cpu_s(p) for p in pids], time.perf_counter(), time.time()
        with Scraper() as scraper:
            time.sleep(window)
        cpu1, t1, until = [proc_cpu_s(p) for p in pids], time.perf_counter(), time.time()
        after, _ = scrape()
        rss = [proc_rss_mb(p) for p in pids]
    finally:
        proc.terminate()
        proc.wait(60)
    b, a = parse(before), parse(after)
    done = a["monitor_probe_schedule_drift_seconds_count"] - b["monitor_probe_schedule_drift_seconds_count"]
    skipped = sum(v - b.get(k, 0) for k, v in a.items() if k.startswith("monitor_probe_runs_skipped_total"))
    wall, cpu = t1 - t0, [c1 - c0 for c0, c1 in zip(cpu0, cpu1)]
    # The latency the daemon reports: each probe's last probe_duration_seconds at the end of the window.
    latencies = sorted(v for k, v in a.items() if k.startswith("probe_duration_seconds{"))
    scrapes = sorted(scraper.times)
    return {"t0": since, "t1": until, "n": n, "window_s": round(wall, 1), "expected_pps": n / interval,
            "achieved_pps": round(done / wall, 1),
            "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 3) if latencies else None,
            "latency_p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 3) if latencies else None,
            "skipped_runs": skipped, "cpu_util": round(sum(cpu) / wall, 3),
            "cpu_ms_per_probe": round(1000 * sum(cpu) / done, 3) if done else None,
            "cpu_ms_per_probe_by_process": [round(1000 * c / done, 3) for c in cpu] if done else None,
            "drift_p50_ms": round(1000 * drift_quantile(b, a, 0.5), 2),
            "drift_p99_ms": round(1000 * drift_quantile(b, a, 0.99), 2),
            "rss_mb": round(sum(r for r, _ in rss), 1), "rss_peak_mb": round(sum(p for _, p in rss), 1),
            "rss_mb_by_process": [round(r, 1) for r, _ in rss],
            "scrapes": len(scrapes), "scrape_ms_median": round(1000 * statistics.median(scrapes), 1),
            "scrape_ms_p99": round(1000 * scrapes[int(0.99 * (len(scrapes) - 1))], 1),
            "scrape_ms_max": round(1000 * max(scrapes), 1), "metrics_bytes": len(after)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--no-blackbox", action="store_true", help="skip the blackbox_exporter phase")
    parser.add_argument("--only-ours", action="store_true", help="only the daemon (no floor, no blackbox)")
    parser.add_argument("--pin", help="with --only-ours: run the daemon on this core only (taskset -c)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    def phase(name: str, run):
        """One prober against a fresh nginx with its own arrival log; its figures and the target's."""
        log = OUT / "logs" / f"{name}.arrivals"
        log.unlink(missing_ok=True)
        nginx = start_nginx(log)
        try:
            figures = run()
        finally:
            nginx.terminate()
            nginx.wait(10)  # flushes the log
        if figures is not None:
            figures.update(target_jitter(log, args.interval, figures.pop("t0"), figures.pop("t1")))
            print(f"{name}:", json.dumps(figures), flush=True)
        return figures

    def run_floor():
        started = time.time()
        figures = floor(Path(args.shared) / "bench", args.n, args.interval, args.warmup, args.window)
        return {**figures, "t0": started + args.warmup, "t1": started + args.warmup + args.window}

    if args.only_ours:
        phase("sla-monitor", lambda: ours(args.n, args.interval, args.warmup, args.window, args.pin))
        return
    base = phase("floor", run_floor)
    box = None if args.no_blackbox else phase("blackbox", lambda: blackbox(args.n, args.interval, args.warmup,
                                                                           args.window))
    if box is not None:
        # Prometheus (700 MB) has just written its database and exited: the daemon measured right after it
        # was 1.41× the floor, 0.94–1.01× in quiet runs (bench/RESULTS.md). Let the machine settle first.
        time.sleep(SETTLE_S)
    mine = phase("sla-monitor", lambda: ours(args.n, args.interval, args.warmup, args.window))
    floor_ms = 1000 * base["cpu_s"] / base["probes_done"]
    print(f"\n| prober | probes/s (expected {args.n / args.interval:g}) | CPU-ms/probe | vs floor | drift p50 ms | "
          f"drift p99 ms | target jitter p50 / p99 ms | latency p50 / p99 ms | skipped | RSS MB | /metrics p50 / p99 ms |\n"
          f"|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| probe_floor.py (apscheduler, fresh connections) | {base['achieved_pps']} | {floor_ms:.3f} | 1.00× | "
          f"{base['drift_p50_ms']} | {base['drift_p99_ms']} | {base['target_jitter_p50_ms']} / "
          f"{base['target_jitter_p99_ms']} | {base['latency_p50_ms']} / {base['latency_p99_ms']} | "
          f"{base['missed_slots'] + base['max_instance_skips']} | {base['rss_peak_mb']} | – |")
    if box is not None:
        done = box["target_arrivals"]
        box_ms = 1000 * (box["cpu_exporter_s"] + box["cpu_prometheus_s"]) / done if done else float("nan")
        exporter_ms = 1000 * box["cpu_exporter_s"] / done if done else float("nan")
        print(f"| blackbox_exporter + prometheus | {done / args.window:.1f} | {box_ms:.3f} (exporter alone "
              f"{exporter_ms:.3f}) | {box_ms / floor_ms:.2f}× | – | – | {box['target_jitter_p50_ms']} / "
              f"{box['target_jitter_p99_ms']} | – | – | {box['rss_exporter_mb']:.1f} + {box['rss_prometheus_mb']:.1f} | – |")
    print(f"| sla-monitor run | {mine['achieved_pps']} | {mine['cpu_ms_per_probe']} | "
          f"{mine['cpu_ms_per_probe'] / floor_ms:.2f}× | {mine['drift_p50_ms']} | {mine['drift_p99_ms']} | "
          f"{mine['target_jitter_p50_ms']} / {mine['target_jitter_p99_ms']} | {mine['latency_p50_ms']} / "
          f"{mine['latency_p99_ms']} | "
          f"{mine['skipped_runs']:g} | {mine['rss_peak_mb']} | {mine['scrape_ms_median']} / {mine['scrape_ms_p99']} |")


if __name__ == "__main__":
    main()
