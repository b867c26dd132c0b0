"""The monitor's own faults are unknown, never downtime (issue 9): the daemon in-process against the
simulated fleet with a control target, and the fault classification on real sockets."""
from __future__ import annotations

import asyncio
import errno
import json
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from monitor.clock import SYSTEM, TickingClock
from monitor.accounting import month_report
from monitor.reports.serialize import report_json
from monitor.config import to_fleet
from monitor.probes.faults import LOCAL, RESOLVER, own_fault
from monitor.sla.calendar import month_of
from monitor.storage import Store
from daemon_helpers import MID_NOVEMBER_MS, metric, running_daemon, until

EVERYTHING = ("eu-west", "us-east", "panel", "genesys", "unlinked", "vonage")


@pytest.fixture
async def running(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db"), clock=TickingClock(MID_NOVEMBER_MS), control=True) as daemon:
        yield daemon


def report_of(daemon, path) -> dict:
    store = Store.open(path, create=False)
    try:
        now = daemon.clock.now_ms()
        return report_json(month_report(store, to_fleet(daemon.cfg), *month_of(now, ZoneInfo("UTC")), now))
    finally:
        store.close()


def rows(path, sql: str, params=()) -> list[tuple]:
    store = Store.open(path, create=False)
    try:
        return store.db.execute(sql, list(params)).fetchall()
    finally:
        store.close()


async def test_the_monitor_losing_its_network_is_unknown_not_downtime(running, fleet, tmp_path):
    daemon = running
    await until(lambda: daemon.live.region_state.get("eu-west") == "up"
                and daemon.live.third_state.get("vonage") == "up")
    spell_start = daemon.clock.now_ms()
    # The network goes: the control target first (a round after each failure must see it), then all.
    fleet.set_mode("control", "refuse")
    await asyncio.sleep(0.15)
    for name in EVERYTHING:
        fleet.set_mode(name, "refuse")
    await until(lambda: not daemon.vantage.healthy)
    async with daemon.http.get("/readyz") as response:
        body = await response.json()
        assert response.status == 503 and any("vantage local unhealthy" in p for p in body["problems"])
    async with daemon.http.get("/metrics") as response:
        assert metric(await response.text(), "monitor_vantage_healthy", vantage="local") == 0.0
    await asyncio.sleep(2.5)  # twice the test's 1.2 s threshold: a counted outage if it were downtime
    assert daemon.live.region_state["eu-west"] == "unknown"
    for name in EVERYTHING:  # the network comes back: the targets answer, and then the control target
        fleet.set_mode(name, "up")
    await asyncio.sleep(0.15)
    fleet.set_mode("control", "up")
    await until(lambda: daemon.vantage.healthy and daemon.live.region_state.get("eu-west") == "up")
    spell_end = daemon.clock.now_ms()
    await daemon.stop()

    db = tmp_path / "d.db"
    region = report_of(daemon, db)["regions"][0]
    assert region["region"] == "eu-west"
    assert region["downtime_ms"] == 0 and region["periods"] == []
    assert all(minutes == 0 for minutes in region["excluded_minutes"].values())
    assert region["unknown_by_cause"]["vantage_unhealthy"] * 60 >= 2.5
    spells = [s for s in region["unknown_spells"] if "vantage_unhealthy" in s["causes"]]
    assert len(spells) == 1 and spells[0]["minutes"] * 60 >= 2.5
    # Nothing the spell saw is stored as down: not the regions, not Vonage's TCP probe (so no
    # third-party exclusion could come of it); they are unknown with the cause and what was seen.
    down = rows(db, "SELECT p.name FROM samples s JOIN probes p ON p.id = s.probe_id"
                    " WHERE s.ok = 0 AND s.ts >= ? AND s.ts < ?", (spell_start, spell_end))
    assert down == []
    unknown = rows(db, "SELECT p.name, s.cause, s.error FROM samples s JOIN probes p ON p.id = s.probe_id"
                       " WHERE s.ok IS NULL AND s.ts >= ? AND s.ts < ?", (spell_start, spell_end))
    causes = {name: cause for name, cause, _ in unknown}
    assert causes["eu-west-widget"] == causes["vonage-tcp"] == "vantage_unhealthy"
    assert causes["genesys-api"] == "feed_unreadable"  # a feed that cannot be read, whatever the reason
    widget_errors = [error for name, _, error in unknown if name == "eu-west-widget"]
    assert all("vantage local unhealthy (0/1 control targets ok: control: " in e for e in widget_errors)
    assert any("probe saw: connect: Connection refused" in e for e in widget_errors)
    # The degraded spell was announced and its end too, paired by one dedup key.
    events = rows(db, "SELECT type, dedup_key, severity FROM events WHERE type LIKE 'monitor.%' ORDER BY seq")
    assert [e[0] for e in events] == ["monitor.degraded", "monitor.recovered"]
    assert events[0][1] == events[1][1] and events[0][2] == "warning"
    assert not any(e[0] == "outage.opened" for e in rows(db, "SELECT type FROM events"))


async def test_a_region_outage_seen_from_a_healthy_vantage_still_counts(running, fleet, tmp_path):
    daemon = running
    await until(lambda: daemon.live.region_state.get("eu-west") == "up")
    fleet.set_mode("eu-west", "refuse")
    await until(lambda: daemon.live.region_state.get("eu-west") == "down")
    await asyncio.sleep(2.0)
    fleet.set_mode("eu-west", "up")
    await until(lambda: daemon.live.region_state.get("eu-west") == "up")
    assert daemon.vantage.healthy and daemon.vantage.detail == "1/1 control targets ok"
    await daemon.stop()
    region = report_of(daemon, tmp_path / "d.db")["regions"][0]
    assert region["downtime_ms"] >= 1200 and region["unknown_by_cause"]["vantage_unhealthy"] == 0
    assert any(piece["counted"] for period in region["periods"] for piece in period["pieces"])


@pytest.mark.parametrize("code, expected", [
    (errno.ENETUNREACH, LOCAL), (errno.EMFILE, LOCAL), (errno.EADDRNOTAVAIL, LOCAL),
    (errno.ECONNREFUSED, None), (errno.ECONNRESET, None), (errno.EHOSTUNREACH, None),
])
def test_os_errors_the_monitor_causes_itself_are_local(code, expected):
    assert own_fault(OSError(code, "x")) == expected


def test_tls_errors_are_the_targets_although_their_errno_is_1():
    import ssl
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate has expired")
    assert verify.errno == errno.EPERM and own_fault(verify) is None


def test_resolver_errors_are_told_from_a_missing_name():
    assert own_fault(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")) == RESOLVER
    assert own_fault(socket.gaierror(socket.EAI_NONAME, "Name or service not known")) is None


async def test_too_many_open_files_is_the_monitors_fault_on_a_real_socket(fleet):
    """EMFILE from a real connect, through aiohttp, classified as the monitor's own."""
    import resource

    from monitor.checks.http import HttpProbe
    from monitor.probes import ProbeContext, run_probe

    probe = HttpProbe(id="p", kind="http", url=f"http://127.0.0.1:{fleet.targets['eu-west'].port}/", timeout=2000)
    ctx = ProbeContext(SYSTEM)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        with pytest.raises(OSError):
            while True:
                held.append(socket.socket())
        sample = await run_probe(probe, ctx, "local")
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        await ctx.close()
    assert sample.ok is False and sample.fault == LOCAL and "Too many open files" in sample.error
    json.dumps(sample.error)


def isolated(tmp_path, *args) -> dict:
    """tests/isolated_resolver.py in its own network and mount namespaces, with 127.0.0.1 as resolver."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to give the probe a resolver of its own")
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    script = Path(__file__).with_name("isolated_resolver.py")
    inner = (f"ip link set lo up && mount --bind {shlex.quote(str(conf))} /etc/resolv.conf && "
             f"exec {shlex.quote(sys.executable)} {shlex.quote(str(script))} {' '.join(args)}")
    done = subprocess.run(["unshare", "--mount", "--net", "sh", "-c", inner], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parent.parent)
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"namespaces not permitted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_failing_resolver_is_the_monitors_fault_not_the_services(tmp_path):
    result = isolated(tmp_path, "--no-resolver")
    saw, stored = result["probe_saw"], result["stored"]
    assert saw["ok"] is False and saw["fault"] == RESOLVER and "Temporary failure in name resolution" in saw["error"]
    assert result["verdict"]["healthy"] is True and result["verdict"]["resolver_ok"] is False
    assert stored["ok"] is None and stored["cause"] == "monitor_fault"
    assert "resolver failed" in stored["error"] and "cannot resolve eu-west.sim.test" in stored["error"]


def test_with_a_working_resolver_the_same_target_is_down(tmp_path):
    result = isolated(tmp_path)
    stored = result["stored"]
    assert result["verdict"] == {**result["verdict"], "healthy": True, "resolver_ok": True}
    assert stored["ok"] is False and stored["cause"] is None and stored["error"] == "HTTP 503 (expected 200)"
