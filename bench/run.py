"""`make bench`: import and report against the shared floors, in the same run. Prints a Markdown table.

Figures to reach (issue 2): import ≥ the floor's samples/s on gen_month.py's month (50 probes, 1/min,
2.16 M lines); report < 1 s; the month sampled every 10 s costs < 1.5× the report time; peak RSS of
each < 300 MB. Times are medians of repeated runs (the machine is noisy: compare ratios).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CONFIG = HERE / "bench.yaml"
NOW = "2026-12-05T00:00:00Z"


def measured(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float, str]:
    """Run a command; wall seconds, the child's own peak RSS in MB (wait4), and its stdout."""
    wall, cpu, rss, out = measured_cpu(cmd, stdout)
    return wall, rss, out


def measured_cpu(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float, float, str]:
    """Run a command; wall seconds, its CPU seconds (user + system), its peak RSS in MB, its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if stdout is None else stdout, cwd=ROOT)
    out = proc.stdout.read().decode() if stdout is None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def generate(shared: Path, name: str, *args: str) -> Path:
    path = OUT / name
    if not path.exists():
        print(f"generating {path.name} …", flush=True)
        subprocess.run([sys.executable, str(shared / "gen_month.py"), str(path), *args], check=True)
    return path


def same_changes_at_10s(src: Path) -> Path:
    """The 1/min month resampled every 10 s with identical states: 6× the samples, the same state changes."""
    path = OUT / "m10_same_changes.jsonl"
    if not path.exists():
        print(f"generating {path.name} …", flush=True)
        with open(src) as fin, open(path, "w") as fout:
            for line in fin:
                for k in range(6):
                    fout.write(re.sub(r':00Z"', f':{k * 10:02d}Z"', line, count=1))
    return path


def sla(*args: str) -> list[str]:
    return [str(ROOT / ".venv/bin/sla-monitor"), "--config", str(CONFIG), *args]


def import_into(samples: Path, db: Path) -> tuple[float, float, int]:
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    # --now: the generated month ends after today, and import refuses samples from the future.
    seconds, rss, out = measured(sla("--db", str(db), "--now", NOW, "import", str(samples)), stdout=None)
    count = int(re.search(r"imported (\d+) samples", out).group(1))
    return seconds, rss, count


def report_times(dbs: dict[str, Path], fmt: str, runs: int) -> dict[str, tuple[float, float, float]]:
    """Median wall and CPU seconds of ``runs`` reports per database, and the largest peak RSS.

    Runs are interleaved (A B C A B C …) so that the machine's drift hits every case alike."""
    samples: dict[str, list] = {label: [] for label in dbs}
    for _ in range(runs):
        for label, db in dbs.items():
            wall, cpu, rss, _ = measured_cpu(sla("--db", str(db), "--now", NOW, "report", "--month", "2026-11",
                                                 "--format", fmt))
            samples[label].append((wall, cpu, rss))
    return {label: (statistics.median(s[0] for s in got), statistics.median(s[1] for s in got),
                    max(s[2] for s in got)) for label, got in samples.items()}


def instructions(db: Path, fmt: str) -> int | None:
    """Instructions one report executes, counted by callgrind: repeatable where wall time is not."""
    if not shutil.which("valgrind"):
        return None
    out = OUT / "callgrind.out"
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           *sla("--db", str(db), "--now", NOW, "report", "--month", "2026-11", "--format", fmt)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=True)
    return int(re.search(rb"Collected : (\d+)", proc.stderr).group(1))


def segments(db: Path) -> int:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM segments").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the shared/ folder (bench floors)")
    parser.add_argument("--runs", type=int, default=7, help="report runs per case (median)")
    parser.add_argument("--reports-only", action="store_true", help="reuse the databases of the last run")
    args = parser.parse_args()
    shared = Path(args.shared) / "bench"
    OUT.mkdir(exist_ok=True)
    m60 = generate(shared, "m60.jsonl")
    m10 = generate(shared, "m10.jsonl", "--step-s", "10")
    m10same = same_changes_at_10s(m60)

    if args.reports_only:
        labels = ("1/min (gen_month)", "10 s (gen_month --step-s 10)", "10 s, same state changes as 1/min")
        print_reports(dict(zip(labels, (OUT / f"{p.stem}.db" for p in (m60, m10, m10same)))), args.runs)
        return
    floor_s, floor_rss, floor_out = measured([sys.executable, str(shared / "floor_import.py"), str(m60),
                                              str(OUT / "floor.db")], stdout=None)
    floor_rate = float(re.search(r"= (\d+) samples/s", floor_out).group(1))
    rows = []
    dbs = {}
    for label, samples in (("1/min (gen_month)", m60), ("10 s (gen_month --step-s 10)", m10),
                           ("10 s, same state changes as 1/min", m10same)):
        db = OUT / f"{samples.stem}.db"
        seconds, rss, count = import_into(samples, db)
        dbs[label] = db
        rows.append((label, count, seconds, count / seconds, rss, segments(db)))
        print(f"import {label}: {count} samples in {seconds:.2f} s = {count / seconds:,.0f}/s, peak RSS {rss:.0f} MB",
              flush=True)

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| import | samples | seconds | samples/s | vs floor | peak RSS MB | segments |\n|---|---|---|---|---|---|---|")
    print(f"| floor_import.py (1/min) | {rows[0][1]} | {floor_s:.2f} | {floor_rate:,.0f} | 1.00× | {floor_rss:.0f} | – |")
    for label, count, seconds, rate, rss, segs in rows:
        print(f"| sla-monitor import {label} | {count} | {seconds:.2f} | {rate:,.0f} | {rate / floor_rate:.2f}× | "
              f"{rss:.0f} | {segs} |")
    print_reports(dbs, args.runs)


def print_reports(dbs: dict[str, Path], runs: int) -> None:
    print("\n| report --format | data | median wall s | vs 1/min | median CPU s | vs 1/min | peak RSS MB |\n"
          "|---|---|---|---|---|---|---|")
    for fmt in ("json", "table"):
        base = None
        for label, (wall, cpu, rss) in report_times(dbs, fmt, runs).items():
            base = base or (wall, cpu)
            print(f"| {fmt} | {label} | {wall:.3f} | {wall / base[0]:.2f}× | {cpu:.3f} | {cpu / base[1]:.2f}× | "
                  f"{rss:.0f} |", flush=True)
    print("\n| report --format | data | instructions (callgrind) | vs 1/min |\n|---|---|---|---|")
    for fmt in ("json", "table"):
        base = None
        for label, db in dbs.items():
            count = instructions(db, fmt)
            if count is None:
                print("| – | valgrind not installed | – | – |")
                return
            base = base or count
            print(f"| {fmt} | {label} | {count:,} | {count / base:.3f}× |", flush=True)


if __name__ == "__main__":
    main()
