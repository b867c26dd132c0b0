"""Shared fixtures: run the real CLI in-process against real SQLite files in tmp_path."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor import clock
from monitor.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL server for the run (see pg_server.py), installed by `.ci/run` (as ``need`` says:
    missing in CI fails, elsewhere skips)."""
    from pg_server import PgServer, binaries

    bindir = binaries()
    if bindir is None:
        need("initdb")
    server = PgServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture
def spec_config(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    shutil.copy(FIXTURES / "spec.yaml", path)
    return path


@pytest.fixture
def run_cli(capsys, tmp_path: Path, spec_config: Path):
    """Call `sla-monitor --config spec.yaml --db tmp/store.db ARGS…`; returns code, stdout, stderr."""
    db = tmp_path / "store.db"

    def run(*args: str, config: Path | None = None, now: str | None = "2027-01-15T00:00:00Z",
            by: str | None = None) -> Result:
        argv = ["--config", str(config or spec_config), "--db", str(db)]
        if now:
            argv += ["--now", now]
        if by:
            argv += ["--by", by]
        code = main(argv + list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    run.db = db
    return run


def need(tool: str) -> str:
    """The path of a program the test runs for real. In CI, where .ci/run installs it (Debian's
    prometheus, prometheus-alertmanager, prometheus-blackbox-exporter, chromium, poppler-utils), its
    absence is a failure; elsewhere the test is skipped."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run installs it")
        pytest.skip(f"{tool} not installed (see .ci/run for the Debian package)")
    return path


def need_our_clock(tool: str) -> str:
    """``need(tool)``, for a test in which ``tool``, one of Debian's Go programs (prometheus,
    prometheus-alertmanager, prometheus-blackbox-exporter), must agree with our processes on the time:
    alert start and end instants, the range an aggregator queries, whether a certificate has expired. Go reads the clock without libc, so under `make test-dates`
    (libfaketime) it keeps the real time while ours is moved: such a test is skipped there, and runs in
    every normal run."""
    if os.environ.get("SLA_MONITOR_FAKED_INSTANT"):
        pytest.skip(f"{tool} keeps the real clock under libfaketime; this test needs it to agree with ours")
    return need(tool)


def run_chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Debian's Chromium, headless, with ``args`` (its output as text). It runs on the real clock, also
    in `make test-dates`: under libfaketime it hangs, and its clock enters no assertion (every instant a
    page shows comes from the server or the file)."""
    real_clock = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
    return subprocess.run([need("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", *args], capture_output=True, text=True,
                          timeout=timeout, env=real_clock)


def store_state(db: Path) -> str:
    """Every row of every table of a SQLite store, hashed: what a refused command must leave as it was."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        digest = hashlib.sha256()
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


@pytest.fixture
async def fleet():
    """The small simulated fleet of tests/daemon_helpers.py, on free ports."""
    from daemon_helpers import small_fleet
    fleet = await small_fleet()
    yield fleet
    await fleet.stop()


@pytest.fixture
async def ctx():
    """A probe context (HTTP sessions, TLS contexts), closed after the test."""
    from monitor.probes import ProbeContext
    context = ProbeContext(clock.SYSTEM)
    yield context
    await context.close()
