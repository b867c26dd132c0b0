"""`make test-dates`: the whole suite at fixed instants of the calendar, under libfaketime.

A monitor whose job is calendar arithmetic must pass its tests on any day, not only on the day they were
written. Each run below shifts the wall clock of pytest and of every process it starts (daemons, the
simulated fleet, Chromium) by one offset, so all of them agree on the faked time and it goes on ticking;
monotonic clocks are left alone, so timeouts and schedulers behave. Debian's Go programs (prometheus,
alertmanager, blackbox_exporter) read the clock without libc and keep the real time: a test that pairs
one with our samples must not depend on the two clocks agreeing.

    python tests/dates.py                         # every instant, one after another
    python tests/dates.py month-start-warsaw      # only these
    python tests/dates.py --list
    python tests/dates.py year-ahead -- -x tests/test_readme.py   # pytest's own arguments after --

Exit 0 when every run passed; the last lines name each instant with pytest's closing line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Debian's libfaketime (package faketime), in the machine's multiarch folder; the MT build locks around its
# state, for threaded processes such as ours.
LIBRARY = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))), Path("libfaketimeMT.so.1"))


def local(text: str, zone: str) -> dt.datetime:
    """A wall-clock time in ``zone`` (fold 0: the first of a repeated hour, the old offset in a gap)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


INSTANTS: dict[str, tuple[dt.datetime, str]] = {
    "month-start-warsaw": (local("2027-03-01T00:00:30", "Europe/Warsaw"),
                           "the first minute of March in the demo's zone (February 2027 just closed, 28 days)"),
    "month-start-utc": (local("2027-02-01T00:00:30", "UTC"), "the first minute of February in UTC"),
    "dst-warsaw": (local("2027-03-28T02:30:00", "Europe/Warsaw"),
                   "02:30 on the day Warsaw springs forward: a local time that does not exist (01:30Z, CEST)"),
    "dst-santiago": (local("2027-04-03T23:55:00", "America/Santiago"),
                     "five minutes before Santiago falls back (the run crosses the repeated hour)"),
    "leap-day": (local("2028-02-29T12:00:00", "UTC"), "noon on a leap day"),
    "new-years-eve": (local("2026-12-31T23:59:30", "UTC"), "30 s before a new year (and a new month) in UTC"),
    "year-ahead": (local("2027-12-04T12:00:00", "UTC"), "a year after this suite was first run on every date"),
}


def faked_env(at: dt.datetime, now: float) -> dict[str, str]:
    """The environment that makes every process started with it see ``at`` now (an offset in seconds:
    unlike libfaketime's start-at form, it is the same in every child, whenever that child starts)."""
    offset = round(at.timestamp() - now)
    shim = str(Path(__file__).parent / "faketime")  # its sitecustomize mends time.sleep under libfaketime
    path = os.pathsep.join(filter(None, [shim, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "LD_PRELOAD": str(LIBRARY), "FAKETIME": f"{offset:+d}", "DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": path, "SLA_MONITOR_FAKED_INSTANT": at.isoformat()}


def run_at(name: str, pytest_args: list[str]) -> tuple[int, str]:
    """The suite at one instant: its exit code and pytest's closing line."""
    at, _ = INSTANTS[name]
    print(f"\n=== {name}: {at.isoformat()} ({at.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ})", flush=True)
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pytest", "-p", "no:cacheprovider", *pytest_args],
                            cwd=ROOT, env=faked_env(at, time.time()), stdout=subprocess.PIPE, text=True)
    last = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.strip():
            last = line.strip()
    return proc.wait(), last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the test suite at fixed instants under libfaketime.")
    parser.add_argument("names", nargs="*", metavar="INSTANT", help="instants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the instants and exit")
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.list:
        for name, (at, why) in INSTANTS.items():
            print(f"{name:20} {at.isoformat():27} {why}")
        return 0
    unknown = [n for n in args.names if n not in INSTANTS]
    if unknown:
        parser.error(f"no instant named {', '.join(unknown)} (--list shows them)")
    if not LIBRARY.exists():
        print(f"error: {LIBRARY} is missing: install Debian's faketime package", file=sys.stderr)
        return 2
    outcomes = [(name, *run_at(name, pytest_args)) for name in args.names or INSTANTS]
    print("\n=== the suite at each instant")
    for name, code, last in outcomes:
        print(f"{name:20} exit {code}  {last}")
    return max(code for _, code, _ in outcomes)


if __name__ == "__main__":
    raise SystemExit(main())
