"""`make bench-prometheus`: a month of 10 vantages × 500 probes read from Prometheus, against the same
samples imported as JSONL.

The data: 500 HTTP probes (10 regions × 50) at 10 vantages, a sample every 60 s over ``--days`` days
from 2026-10-01 (30: the whole month, 216 M samples). Every region has outages (every probe down
together, at all vantages or at a minority), and one vantage misses scrapes now and then. The samples
go into a Prometheus TSDB through `promtool tsdb create-blocks-from openmetrics` (blackbox-style series:
`instance` is the probe's URL, `job` the vantage), and the same samples into a JSONL file.

Measured, each in a fresh process (wall, CPU and peak RSS from wait4): `sla-monitor import
--from-prometheus` (with its number of queries) and `sla-monitor import FILE.jsonl`. Then both stores'
month reports, which must be equal. Debian's prometheus and promtool; everything on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "prometheus"
START_S = 1_790_805_600  # 2026-09-30T22:00:00Z: 2026-10-01 00:00 in Europe/Warsaw
STEP_S = 60
REGIONS, PER_REGION, VANTAGES = 10, 50, 10


def url(region: int, probe: int) -> str:
    return f"https://r{region}.trueengage.example/p{probe}"


def config() -> str:
    lines = ["service: bench", "timezone: Europe/Warsaw", "vantage: v0",
             f"vantages: [{', '.join(f'v{i}' for i in range(VANTAGES))}]", "regions:"]
    for r in range(REGIONS):
        lines += [f"  - name: r{r}", "    components:", "      - name: widget", "        probes:"]
        lines += [f"          - {{id: r{r}-p{p}, kind: http, url: \"{url(r, p)}\", interval: 60s}}"
                  for p in range(PER_REGION)]
    return "\n".join(lines) + "\n"


def outages(days: int) -> dict[int, list[tuple[int, int, int]]]:
    """Per region: (start s, end s, how many vantages see it), reproducible."""
    rnd = random.Random(15)
    found = {}
    for r in range(REGIONS):
        spans = []
        for _ in range(3 * days):
            start = START_S + rnd.randrange(days * 86_400 // STEP_S) * STEP_S
            spans.append((start, start + rnd.randint(3, 40) * STEP_S, rnd.choice([3, 6, 10])))
        found[r] = spans
    return found


def state(spans, vantage: int, t: int) -> int:
    return 0 if any(a <= t < b and vantage < seen for a, b, seen in spans) else 1


def missed(vantage: int, t: int) -> bool:
    """Vantage 9 misses one scrape in 97."""
    return vantage == 9 and (t // STEP_S) % 97 == 0


BLOCK_S = 7_200  # promtool's block range: it reads its whole input once per block, so one file each


def write_data(days: int, promtool: str) -> int:
    """The JSONL file, and the TSDB: one OpenMetrics file per 2-hour block (series by series, as
    promtool wants them), each handed to promtool while the next is written. One file for the month
    made promtool read all of it once per block (quadratic: 10 days did not finish in 28 minutes)."""
    spans = outages(days)
    end = START_S + days * 86_400
    series = [(r, p, v) for r in range(REGIONS) for p in range(PER_REGION) for v in range(VANTAGES)]
    count, building = 0, None
    with open(OUT / "samples.jsonl", "w") as jl:
        for block in range(START_S - START_S % BLOCK_S, end, BLOCK_S):
            times = range(max(block, START_S), min(block + BLOCK_S, end), STEP_S)
            stamps = {t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) for t in times}
            om_path = OUT / f"in-{block}.om"
            with open(om_path, "w") as om:
                om.write("# TYPE probe_success gauge\n")
                for r, p, v in series:
                    labels = f'{{instance="{url(r, p)}",job="v{v}"}}'
                    for t in times:
                        if missed(v, t):
                            continue
                        ok = state(spans[r], v, t)
                        om.write(f"probe_success{labels} {ok} {t}\n")
                        jl.write(f'{{"ts":"{stamps[t]}","probe":"r{r}-p{p}","vantage":"v{v}",'
                                 f'"ok":{"true" if ok else "false"}}}\n')
                        count += 1
                om.write("# EOF\n")
            wait(building)
            building = (om_path, subprocess.Popen([promtool, "tsdb", "create-blocks-from", "openmetrics", "-q",
                                                   str(om_path), str(OUT / "tsdb")], stderr=subprocess.PIPE))
    wait(building)
    return count


def wait(building: tuple[Path, subprocess.Popen] | None) -> None:
    """Wait for promtool on one block's file, then delete the file."""
    if building is None:
        return
    path, proc = building
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"promtool failed on {path}: {err.decode()[-2000:]}")
    path.unlink()


def timed(cmd: list[str]) -> dict:
    """wall, CPU and peak RSS of a fresh process (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out}\n{err[-3000:]}")
    return {"wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "rss_mb": round(usage.ru_maxrss / 1024, 1), "output": out.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the TSDB and JSONL made by an earlier run")
    args = parser.parse_args()
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prometheus:
        raise SystemExit("needs Debian's prometheus package (prometheus, promtool)")
    marker = OUT / f"data-{args.days}d"
    if args.reuse and marker.exists():
        samples = int(marker.read_text())
        print(f"data: reusing {samples:,} samples in {OUT}", flush=True)
    else:
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        (OUT / "bench.yaml").write_text(config())
        began = time.perf_counter()
        samples = write_data(args.days, promtool)
        print(f"data: {samples:,} samples ({REGIONS * PER_REGION} probes × {VANTAGES} vantages × {args.days} days) "
              f"written, JSONL and TSDB, in {time.perf_counter() - began:.0f} s", flush=True)
        marker.write_text(str(samples))
    for db in ("prom.db", "jsonl.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / db}{suffix}").unlink(missing_ok=True)
    (OUT / "prometheus.yml").write_text("global: {scrape_interval: 1h}\n")
    port = 19090
    prom = subprocess.Popen([prometheus, f"--config.file={OUT / 'prometheus.yml'}", f"--storage.tsdb.path={OUT / 'tsdb'}",
                             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}",
                             "--query.max-samples=200000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        cli = [sys.executable, "-m", "monitor", "--config", str(OUT / "bench.yaml"), "--now", "2026-11-26T00:00:00Z"]
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_S + args.days * 86_400))
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_S))
        from_prom = timed([*cli, "--db", str(OUT / "prom.db"), "import", "--from-prometheus",
                           f"http://127.0.0.1:{port}", "--start", start, "--end", end])
        print(f"import --from-prometheus: {from_prom}", flush=True)
        from_jsonl = timed([*cli, "--db", str(OUT / "jsonl.db"), "import", str(OUT / "samples.jsonl")])
        print(f"import JSONL: {from_jsonl}", flush=True)
    finally:
        prom.terminate()
        prom.wait(60)
    reports = [timed([*cli, "--db", str(OUT / db), "report", "--month", "2026-10", "--format", "json"])["output"]
               for db in ("prom.db", "jsonl.db")]
    equal = json.loads(reports[0]) == json.loads(reports[1])
    downtime = {r["region"]: r["downtime_minutes"] for r in json.loads(reports[0])["regions"]}
    print(json.dumps({"days": args.days, "samples": samples, "from_prometheus": from_prom, "from_jsonl": from_jsonl,
                      "reports_equal": equal, "downtime_minutes": downtime}))
    if not equal:
        raise SystemExit("the reports differ")


if __name__ == "__main__":
    main()
