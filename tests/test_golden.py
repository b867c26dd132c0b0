"""Golden files: the JSON report, the /api/v1 bodies and the /metrics exposition of one fixed store,
byte for byte. They hold the documented shapes still while the code behind them changes.

A deliberate change of a shape regenerates them: ``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``,
then the diff of tests/fixtures/golden/ is the change to review.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import Daemon
from monitor.clock import FixedClock
from monitor.cli import main
from monitor.config import load_config
from monitor.errors import parse_instant
from monitor.sla.calendar import iso

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
CONFIG = GOLDEN / "config.yaml"
NOW = "2026-10-06T12:00:00Z"
MONTH_START = parse_instant("2026-08-31T22:00:00Z", "start")  # 2026-09-01 00:00 in Europe/Warsaw
STEP = 60_000
PROBES = ["genesys-euw1-api", "eu-west-widget", "eu-west-api", "eu-west-panel", "us-east-widget", "staging-widget"]


def at(day: int, hh: int, mm: int = 0) -> int:
    """An instant of September 2026 (local time, which is UTC+2 all month)."""
    return MONTH_START + ((day - 1) * 1440 + hh * 60 + mm) * 60_000


DOWN = {
    "eu-west-widget": [(at(3, 10), at(3, 10, 25)), (at(12, 9, 5), at(12, 9, 50)),
                       (parse_instant("2026-10-06T11:55:00Z", "t"), None)],
    "eu-west-api": [(at(9, 14), at(9, 14, 10))],
    "genesys-euw1-api": [(at(12, 9), at(12, 9, 40))],
    "us-east-widget": [(at(15, 2, 10), at(15, 2, 50)), (at(20, 8), at(20, 9, 10)),
                       (parse_instant("2026-10-06T11:40:00Z", "t"), None)],
    "eu-west-panel": [(at(22, 13), at(22, 16))],
    "staging-widget": [(at(5, 9), at(5, 11))],
}
UNKNOWN = {"eu-west-widget": (at(25, 3), at(25, 3, 20)), "eu-west-api": (at(25, 3), at(25, 3, 20))}
GAP = (at(26, 4), at(26, 4, 30))  # the monitor was not running: no samples at all


def samples(end_ms: int):
    """A sample a minute per probe from a week before September to ``end_ms``."""
    for t in range(MONTH_START - 7 * 86_400_000, end_ms, STEP):
        if GAP[0] <= t < GAP[1]:
            continue
        for probe in PROBES:
            line = {"ts": iso(t), "probe": probe, "vantage": "golden"}
            lo, hi = UNKNOWN.get(probe, (0, 0))
            if lo <= t < hi:
                line.update(ok=None, cause="vantage_unhealthy", error="connect: Network is unreachable")
            elif any(a <= t and (b is None or t < b) for a, b in DOWN.get(probe, ())):
                line.update(ok=False, latency_ms=None, error="HTTP 503")
            else:
                line.update(ok=True, latency_ms=40.0)
            yield json.dumps(line)


@pytest.fixture(scope="module")
def golden_store(tmp_path_factory) -> Path:
    """The store every golden file is read from, built through the CLI as a user would."""
    tmp = tmp_path_factory.mktemp("golden")
    db = tmp / "golden.db"
    build(str(db), tmp)
    return db


@pytest.fixture(scope="module")
def golden_pg(tmp_path_factory, pg_server) -> str:
    """The same store built the same way in PostgreSQL: its URL."""
    url = pg_server.fresh_url()
    build(url, tmp_path_factory.mktemp("golden-pg"))
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def golden_location(request) -> str:
    """The golden store in each backend: every golden file must come out of either, byte for byte."""
    return str(request.getfixturevalue("golden_store" if request.param == "sqlite" else "golden_pg"))


def build(db: str, tmp: Path) -> None:
    """The golden store's samples and records, through the CLI, at ``db``."""
    jsonl = tmp / "samples.jsonl"
    jsonl.write_text("\n".join(samples(parse_instant(NOW, "now"))) + "\n")
    for args in (
        ["import", str(jsonl)],
        ["maintenance", "add", "--region", "us-east", "--start", iso(at(15, 2)), "--end", iso(at(15, 3)),
         "--kind", "scheduled", "--announced-at", iso(at(12, 2)), "--reason", "database upgrade"],
        ["maintenance", "add", "--all", "--start", iso(at(28, 1)), "--end", iso(at(28, 1, 30)),
         "--kind", "scheduled", "--announced-at", iso(at(27, 23)), "--reason", "late notice"],
        ["exclusion", "add", "--region", "eu-west", "--start", iso(at(3, 10)), "--end", iso(at(3, 10, 10)),
         "--cause", "customer_config", "--note", "customer's proxy"],
        ["incident", "add", "--region", "us-east", "--component", "widget", "--severity", "P2",
         "--opened", iso(at(20, 8, 5)), "--resolved", iso(at(20, 22)), "--title", "widget down"],
    ):
        assert main(["--config", str(CONFIG), "--db", db, "--now", NOW, "--by", "golden", *args]) == 0


def check(name: str, text: str) -> None:
    """``text`` equals the golden file ``name`` (or becomes it, with UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"{name} differs from its golden file"


@pytest.mark.parametrize("args, name", [
    (["report", "--format", "json", "--month", "2026-09"], "report-2026-09.json"),
    (["report", "--format", "json", "--month", "2026-10"], "report-2026-10.json"),
    (["report", "--format", "markdown", "--month", "2026-09"], "report-2026-09.md"),
    (["report", "--format", "table", "--month", "2026-09"], "report-2026-09.txt"),
    (["report", "--format", "csv", "--month", "2026-09"], "report-2026-09.csv"),
    (["report", "--format", "html", "--month", "2026-09"], "report-2026-09.html"),
    (["report", "--format", "markdown", "--month", "2026-10"], "report-2026-10.md"),
    (["outages", "--format", "json", "--month", "2026-09"], "outages-2026-09.json"),
])
def test_cli_output_is_golden(golden_location, capsys, args, name):
    capsys.readouterr()
    assert main(["--config", str(CONFIG), "--db", golden_location, "--now", NOW, *args]) == 0
    check(name, capsys.readouterr().out)


def exposition(text: str) -> str:
    """The exposition without what differs between machines and runs: the Python version and the
    registry's ``_created`` timestamps."""
    text = re.sub(r'python="[^"]*"', 'python="X"', text)
    return "".join(line + "\n" for line in text.splitlines() if not re.match(r"\w+_created[{ ]", line))


async def test_api_bodies_and_metrics_are_golden(golden_location, tmp_path):
    db = golden_location
    if not db.startswith("postgresql:"):  # the daemon migrates nothing, but keep the fixture pristine
        db = str(tmp_path / "served.db")
        Path(db).write_bytes(Path(golden_location).read_bytes())
    daemon = Daemon(load_config(str(CONFIG)), db, registry=CollectorRegistry(),
                    clock=FixedClock(parse_instant(NOW, "now")))
    await daemon.start("127.0.0.1:0", probing=False)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}") as http:
            for path, name in (("/api/v1/availability?month=2026-09", "api-availability-2026-09.json"),
                               ("/api/v1/availability", "api-availability-now.json"),
                               ("/api/v1/outages?month=2026-09", "api-outages-2026-09.json"),
                               ("/api/v1/outages?region=us-east", "api-outages-us-east.json"),
                               ("/api/v1/status", "api-status.json"),
                               ("/api/v1/maintenance", "api-maintenance.json")):
                async with http.get(path) as response:
                    assert response.status == 200, (path, await response.text())
                    check(name, await response.text())
            async with http.get("/metrics") as response:
                check("metrics.txt", exposition(await response.text()))
    finally:
        await daemon.stop()


def test_a_store_copied_into_postgresql_and_back_reports_the_same_bytes(golden_store, pg_server, tmp_path, capsys):
    """`store copy` SQLite → PostgreSQL → SQLite: every golden report comes out of each copy unchanged,
    and a copy into a store that holds data is refused, changing nothing."""
    url, back = pg_server.fresh_url(), tmp_path / "back.db"
    for source, target in ((str(golden_store), url), (url, str(back))):
        assert main(["store", "copy", "--from", source, "--to", target]) == 0
        assert capsys.readouterr().out.startswith("copied 367740 samples, 34 segments, 4 records and 0 events from ")
        for args, name in (("json", "report-2026-09.json"), ("markdown", "report-2026-09.md"),
                           ("table", "report-2026-09.txt")):
            assert main(["--config", str(CONFIG), "--db", target, "--now", NOW, "report", "--format", args,
                         "--month", "2026-09"]) == 0
            check(name, capsys.readouterr().out)
    assert main(["store", "copy", "--from", str(golden_store), "--to", str(back)]) == 2
    assert "holds data already" in capsys.readouterr().err
    assert main(["--config", str(CONFIG), "--db", url, "--now", NOW, "maintenance", "add", "--all",
                 "--start", "2026-10-07T00:00:00Z", "--end", "2026-10-07T01:00:00Z", "--kind", "emergency",
                 "--announced-at", "2026-10-06T11:00:00Z",
                 "--reason", "after the copy"]) == 0
    assert capsys.readouterr().out.startswith("maintenance 3 recorded")  # new ids follow the copied ones


def test_a_copy_killed_half_way_is_refused_until_run_again_and_then_reports_the_same_bytes(golden_store, pg_server,
                                                                                          capsys):
    """`store copy` into PostgreSQL, killed (SIGKILL) once the target holds some samples: the half-made
    store is refused, with how to finish it; the same command again goes on and the copy reports the
    golden bytes."""
    import subprocess
    import sys
    import time

    url = pg_server.fresh_url()
    schema = url.rpartition("search_path%3D")[2]
    copy = [sys.executable, "-m", "monitor", "store", "copy", "--from", str(golden_store), "--to", url]
    proc = subprocess.Popen(copy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def copied() -> int:
        found = pg_server.execute(f"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}'"
                                  " AND table_name = 'samples'")
        return pg_server.execute(f"SELECT count(*) FROM {schema}.samples")[0][0] if found[0][0] else 0
    deadline = time.monotonic() + 60
    while copied() == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    half = copied()
    assert 0 < half < 367_740, half  # stopped half-way (the golden store holds 367,740 samples)
    assert main(["--config", str(CONFIG), "--db", url, "--now", NOW, "report", "--month", "2026-09"]) == 2
    assert "an unfinished copy of" in capsys.readouterr().err
    assert main(copy[3:]) == 0
    assert capsys.readouterr().out.startswith("copied 367740 samples, 34 segments, 4 records and 0 events from ")
    assert main(["--config", str(CONFIG), "--db", url, "--now", NOW, "report", "--format", "json",
                 "--month", "2026-09"]) == 0
    check("report-2026-09.json", capsys.readouterr().out)
