"""The daemon as a real process: systemd notify, SIGTERM, kill -9 and restart."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from monitor.sla.timeline import fold_segments
from daemon_helpers import config_text, small_fleet, until


@pytest.fixture
async def fleet():
    fleet = await small_fleet()
    yield fleet
    await fleet.stop()


async def spawn(config_path, db, env=None, args=()):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "--config", str(config_path), "--db", str(db), "run", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, **(env or {})})


def rows(db, sql, params=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def sample_count(db) -> int:
    """Samples committed so far (0 while the daemon is still creating the store)."""
    try:
        return rows(db, "SELECT count(*) FROM samples")[0][0] if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def committed_samples(db) -> set:
    return set(rows(db, "SELECT p.name, s.ts, s.ok FROM samples s JOIN probes p ON p.id = s.probe_id"))


async def test_notify_ready_and_sigterm_flushes(fleet, tmp_path):
    db = tmp_path / "n.db"
    config = tmp_path / "n.yaml"
    config.write_text(config_text(fleet, str(db)))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.setblocking(False)
    proc = await spawn(config, db, {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "400000"})
    loop = asyncio.get_running_loop()
    messages = []

    async def received(text):
        while text not in messages:
            messages.append((await asyncio.wait_for(loop.sock_recv(notify, 256), 20)).decode())
        return True
    try:
        await received("READY=1")
        await received("WATCHDOG=1")
        await until(lambda: sample_count(db) > 5)
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    await received("STOPPING=1")
    assert proc.returncode == 0, out.decode()
    log = out.decode()
    assert "event=stopping" in log and "event=stopped" in log
    written = int(log.split("samples_written=")[1].split()[0])
    assert written == rows(db, "SELECT count(*) FROM samples")[0][0]  # everything probed was flushed


async def test_kill_9_then_restart_loses_nothing_committed(fleet, tmp_path):
    db = tmp_path / "k.db"
    config = tmp_path / "k.yaml"
    # Slower probes with a long stale_after: the restart gap stays inside it, so the outage carries on.
    config.write_text(config_text(fleet, str(db), interval="500ms", stale_after="20s"))
    fleet.set_mode("eu-west", "down")
    proc = await spawn(config, db)
    try:
        await until(lambda: sample_count(db) > 20, timeout=30)
    finally:
        proc.kill()  # SIGKILL: no flush, no goodbye
        await proc.wait()
    before = committed_samples(db)
    opened_at = rows(db, "SELECT min(s.ts) FROM samples s JOIN probes p ON p.id = s.probe_id"
                         " WHERE p.name = 'eu-west-widget' AND s.ok = 0")[0][0]
    proc = await spawn(config, db)
    try:
        await until(lambda: len(committed_samples(db)) > len(before) + 20, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    after = committed_samples(db)
    assert before <= after  # every sample committed before the kill is still there
    assert "event=outage_opened region=eu-west" in out.decode()  # restored from the store on start
    # Nothing duplicated, and the stored segments are exactly a fold of the stored samples.
    assert rows(db, "SELECT count(*) FROM (SELECT probe_id, vantage_id, ts, count(*) c FROM samples"
                    " GROUP BY 1, 2, 3 HAVING c > 1)")[0][0] == 0
    (pid,), = rows(db, "SELECT id FROM probes WHERE name = 'eu-west-widget'")
    samples = rows(db, "SELECT ts, ok FROM samples WHERE probe_id = ? ORDER BY ts", (pid,))
    expected = [(s.start_ms, s.end_ms, s.ok) for s in fold_segments(samples, 20_000)]
    stored = [(a, b, bool(ok)) for a, b, ok in rows(db, "SELECT start_ms, end_ms, ok FROM segments WHERE probe_id = ?"
                                                      " ORDER BY start_ms", (pid,))]
    assert stored == expected
    # The outage is one period across the restart: one down segment from the first failed sample.
    assert [s for s in stored if not s[2]][0][0] == opened_at and len([s for s in stored if not s[2]]) == 1


async def test_events_pending_at_a_kill_arrive_after_restart_once(fleet, tmp_path):
    from hook_helpers import Receiver
    from loopback import start_app

    receiver = Receiver(fail_with=503, failures=10**9)  # down at first
    runner, port = await start_app(receiver.app())
    db, config = tmp_path / "h.db", tmp_path / "h.yaml"
    config.write_text(config_text(fleet, str(db), interval="300ms", stale_after="20s",
                                  hook_url=f"http://127.0.0.1:{port}/hook"))
    fleet.set_mode("eu-west", "down")
    proc = await spawn(config, db)
    try:
        await until(lambda: sample_count(db) > 5 and receiver.attempts > 0, timeout=30)  # outage.opened is trying
    finally:
        proc.kill()
        await proc.wait()
    pending = rows(db, "SELECT type, status FROM events e JOIN deliveries d ON d.event_seq = e.seq")
    assert ("outage.opened", "pending") in pending and all(status == "pending" for _, status in pending)
    receiver.failures = 0  # the receiver is back
    proc = await spawn(config, db)
    try:
        await until(lambda: {"outage.opened", "outage.counted"} <= {r["body"]["type"] for r in receiver.received},
                    timeout=30)
        fleet.set_mode("eu-west", "up")
        await until(lambda: "outage.resolved" in {r["body"]["type"] for r in receiver.received}, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
        await runner.cleanup()
    ids = [r["body"]["id"] for r in receiver.received]
    assert [r["body"]["type"] for r in receiver.received] == ["outage.opened", "outage.counted", "outage.resolved"]
    assert len(ids) == len(set(ids))  # the restart re-detected the open outage: same id, not sent twice
    from standardwebhooks.webhooks import Webhook
    verifier = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")  # the secret of daemon_helpers.config_text
    for delivery in receiver.received:  # as the daemon sent them, checked by the official verifier
        verifier.verify(delivery["raw"], {k.lower(): v for k, v in delivery["headers"].items()})


def children(pid: int) -> list[int]:
    """The live (not zombie) child processes of ``pid``."""
    # A process (or one of its threads) may vanish between listing and reading: /proc then answers
    # ENOENT on open and ESRCH on read.
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        tasks = []
    for task in tasks:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
    return [c for c in found if alive(c)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone, or reaped between open and read
        return False


def assert_stored_once_and_folded(db, probe: str = "eu-west-widget", stale_ms: int = 20_000) -> None:
    """No sample stored twice, and the probe's stored segments are exactly a fold of its stored samples."""
    assert rows(db, "SELECT count(*) FROM (SELECT probe_id, vantage_id, ts, count(*) c FROM samples"
                    " GROUP BY 1, 2, 3 HAVING c > 1)")[0][0] == 0
    (pid,), = rows(db, "SELECT id FROM probes WHERE name = ?", (probe,))
    samples = rows(db, "SELECT ts, ok FROM samples WHERE probe_id = ? ORDER BY ts", (pid,))
    expected = [(s.start_ms, s.end_ms, s.ok) for s in fold_segments(samples, stale_ms)]
    assert [(a, b, bool(ok)) for a, b, ok in rows(
        db, "SELECT start_ms, end_ms, ok FROM segments WHERE probe_id = ? ORDER BY start_ms", (pid,))] == expected


async def test_kill_9_of_the_probe_process_restarts_it_and_loses_nothing(fleet, tmp_path):
    """The probe process dies under load: what it committed stays, once; the daemon starts a new one,
    which picks up the open outage; the daemon itself never stopped."""
    db, config = tmp_path / "p.db", tmp_path / "p.yaml"
    config.write_text(config_text(fleet, str(db), interval="300ms", stale_after="20s"))
    fleet.set_mode("eu-west", "down")
    proc = await spawn(config, db)
    early = []  # what it printed before serving (read here, not by communicate below)
    try:
        while b"status page" not in (line := await asyncio.wait_for(proc.stdout.readline(), 30)):
            assert line, "the daemon ended before serving"
            early.append(line.decode())
        base = line.decode().split()[-1].rstrip("/")
        await until(lambda: sample_count(db) > 20 and len(children(proc.pid)) == 1, timeout=30)
        (first,) = children(proc.pid)
        os.kill(first, signal.SIGKILL)
        await until(lambda: not alive(first))
        async with aiohttp.ClientSession() as http:  # not ready until the new probe process reports
            for _ in range(100):
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 503:
                        assert "probing not running" in await response.text()
                        break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("/readyz stayed ready while the probe process was dead")
        before = committed_samples(db)
        await until(lambda: children(proc.pid) not in ([], [first]), timeout=30)  # a new probe process
        await until(lambda: len(committed_samples(db)) > len(before) + 20, timeout=30)
        assert proc.returncode is None  # the daemon carried on
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as response:
                assert "monitor_probe_process_restarts_total 1.0" in await response.text()
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200, await response.text()  # probing again
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = "".join(early) + out.decode()
    assert proc.returncode == 0, log
    assert before <= committed_samples(db)  # every sample committed before the kill is still there
    assert_stored_once_and_folded(db)
    assert f"event=probe_process_died pid={first} code=-9" in log and log.count("event=probe_process_started") == 2
    assert log.count("event=outage_opened region=eu-west") >= 2  # the new probe process restored the outage
    (outages,), = rows(db, "SELECT count(DISTINCT id) FROM events WHERE type = 'outage.opened'")
    assert outages == 1  # recorded once across the restart (same id)


async def test_kill_9_of_the_daemon_the_probe_process_flushes_and_exits(fleet, tmp_path):
    db, config = tmp_path / "d.db", tmp_path / "d.yaml"
    config.write_text(config_text(fleet, str(db), stale_after="20s"))
    proc = await spawn(config, db)
    try:
        await until(lambda: sample_count(db) > 10 and len(children(proc.pid)) == 1, timeout=30)
        (child,) = children(proc.pid)
    finally:
        proc.kill()
    # The probe process shares the daemon's stdout: the pipe ends when it has exited too.
    log = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
    await proc.wait()
    await until(lambda: not alive(child))
    assert "event=daemon_gone" in log
    written = int(log.split("event=probing_stopped samples_written=")[1].split()[0])
    assert written == sample_count(db) > 10  # everything it probed reached the store
    assert_stored_once_and_folded(db)


async def test_a_probe_process_that_keeps_dying_takes_the_daemon_down(fleet, tmp_path):
    """Restarted each time, until more than five deaths in a minute: then the daemon exits 1, for systemd
    (Restart=on-failure) or the container runtime to restart it whole."""
    db, config = tmp_path / "x.db", tmp_path / "x.yaml"
    config.write_text(config_text(fleet, str(db)))
    proc = await spawn(config, db)
    killed: list[int] = []
    try:
        while proc.returncode is None and len(killed) < 10:
            await until(lambda: proc.returncode is not None or [c for c in children(proc.pid) if c not in killed],
                        timeout=30)
            for child in children(proc.pid):
                if child not in killed:
                    killed.append(child)
                    os.kill(child, signal.SIGKILL)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    log = out.decode()
    assert proc.returncode == 1, log
    assert len(killed) == 6 and log.count("event=probe_process_died") == 5 and "event=probe_process_gave_up" in log
    assert "event=stopped" in log  # it stopped cleanly: web app closed, store closed


async def test_a_probe_process_dead_before_its_start_message_counts_as_a_death(fleet, tmp_path, monkeypatch):
    """The supervisor sends the config right after the child starts. A child killed in that instant (as
    ``kill -9`` from an operator or the OOM killer may do) leaves a closed socket: the send fails, and that is
    one more death to restart after, never an exception out of the start or out of a restart."""
    from monitor.config.loader import load_config
    from monitor.live import probe_process

    class ExitedBeforeReturning(subprocess.Popen):
        """A real child, already gone when the supervisor gets to send it anything."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.wait()

    config = tmp_path / "x.yaml"
    config.write_text(config_text(fleet, str(tmp_path / "x.db")))
    monkeypatch.setattr(probe_process, "CHILD", "import sys; sys.exit(3)")
    monkeypatch.setattr(probe_process.subprocess, "Popen", ExitedBeforeReturning)
    monkeypatch.setattr(probe_process, "RESTART_DELAY_S", 0.01)
    gave_up = asyncio.Event()
    supervisor = probe_process.ProbeProcess(load_config(config), str(tmp_path / "x.db"), lambda report: None,
                                            gave_up.set)
    await supervisor.start("http://127.0.0.1:9", {})
    await asyncio.wait_for(gave_up.wait(), 30)
    assert supervisor.restarts == probe_process.MAX_DEATHS and supervisor.proc.returncode == 3


async def test_a_second_daemon_on_the_same_store_is_refused_naming_the_first(fleet, tmp_path):
    """An OS lock, not a guess: the second daemon exits 1 naming the first's PID and host; a short CLI
    write works beside the running one; after kill -9 of the first, the kernel has let go and a new
    daemon starts on the same store."""
    db = tmp_path / "one.db"
    config = tmp_path / "one.yaml"
    config.write_text(config_text(fleet, str(db)))
    first = await spawn(config, db)
    try:
        await until(lambda: sample_count(db) > 0, timeout=30)
        second = await spawn(config, db)
        out, _ = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 1, out.decode()
        assert f"another sla-monitor daemon already runs on this store: pid {first.pid} on {socket.gethostname()}, " \
               "since " in out.decode() and "one.db.daemon.lock" in out.decode()
        add = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "maintenance",
                              "add", "--all", "--start", "2030-01-05T01:00:00Z", "--end", "2030-01-05T02:00:00Z",
                              "--kind", "emergency", "--announced-at", "2030-01-01T00:00:00Z", "--reason", "beside"],
                             capture_output=True, text=True, timeout=60)
        assert add.returncode == 0, add.stderr
    finally:
        first.kill()
        await first.wait()
    third = await spawn(config, db)
    try:
        before = sample_count(db)
        await until(lambda: sample_count(db) > before, timeout=30)  # it runs: its samples arrive
    finally:
        third.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(third.communicate(), 30)
    assert third.returncode == 0, out.decode()


class Condition:
    """A condition that holds across a restart: how to make it hold and end, the events of both, and
    what the daemon's config needs for it."""

    def __init__(self, fleet, tmp_path, kind: str):
        self.kind, self.fleet, self.tmp_path = kind, fleet, tmp_path
        self.opens, self.ends = {"third_party": ("third_party.down", "third_party.up"),
                                 "vantage": ("monitor.degraded", "monitor.recovered"),
                                 "certificate": ("certificate.expiring", "certificate.renewed"),
                                 "maintenance": ("maintenance.started", "maintenance.ended")}[kind]
        self.tls_context = self.tls_site = None

    async def config(self, db, hook_url: str) -> str:
        text = config_text(self.fleet, str(db), interval="300ms", stale_after="20s", hook_url=hook_url,
                           control=self.kind == "vantage")
        text = text.replace('["outage.*"]', f'["{self.opens}", "{self.ends}"]')
        if self.kind == "certificate":  # a TLS endpoint whose certificate is renewed while no daemon runs
            from loopback import Certificates, start_app
            from aiohttp import web
            self.certs = Certificates(self.tmp_path)
            self.tls_context = self.certs.server_context(self.certs.soon)
            self.tls_site, port = await start_app(web.Application(), self.tls_context)
            text += f"""
  - name: renewing
    components:
      - name: api
        probes:
          - {{id: renewing-tls, kind: tls, host: 127.0.0.1, port: {port}, ca_file: "{self.certs.ca_file}", interval: 300ms, timeout: 250ms}}"""
        return text

    def begin(self, db) -> None:
        if self.kind == "third_party":
            self.fleet.set_mode("genesys", "down")
        elif self.kind == "vantage":
            self.fleet.set_mode("control", "down")
        elif self.kind == "maintenance":  # on now, over a few seconds later, while no daemon runs
            from monitor.clock import SYSTEM
            from monitor.storage import opened
            now = SYSTEM.now_ms()
            self.window_end_ms = now + 4_000
            with opened(db) as store:
                store.add_maintenance(region="eu-west", start_ms=now - 1_000, end_ms=self.window_end_ms,
                                      kind="emergency", announced_at_ms=None, reason="restart test", by="test",
                                      now_ms=now)

    async def finish(self) -> None:
        if self.kind == "third_party":
            self.fleet.set_mode("genesys", "up")
        elif self.kind == "vantage":
            self.fleet.set_mode("control", "up")
        elif self.kind == "certificate":
            self.certs.valid.configure_cert(self.tls_context)  # new handshakes get the renewed one
        elif self.kind == "maintenance":
            from monitor.clock import SYSTEM
            await asyncio.sleep(max(0.0, (self.window_end_ms - SYSTEM.now_ms()) / 1000 + 0.5))

    async def cleanup(self) -> None:
        if self.tls_site is not None:
            await self.tls_site.cleanup()


@pytest.mark.parametrize("kind", ["third_party", "vantage", "certificate", "maintenance"])
@pytest.mark.parametrize("how", ["sigterm", "kill-9"])
async def test_a_condition_ended_across_a_restart_is_announced_once(fleet, tmp_path, how, kind):
    """A condition holds (Genesys down, this vantage's control target failing, a certificate near its
    end, a maintenance window on) → the daemon stops (SIGTERM, or kill -9) → the condition ends while
    no daemon runs → the daemon starts again: the opening event once and its end once, under the same
    key (the receiver's incident is resolved, nothing is opened again)."""
    from hook_helpers import Receiver
    from loopback import start_app

    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    condition = Condition(fleet, tmp_path, kind)
    db, config = tmp_path / "t.db", tmp_path / "t.yaml"
    config.write_text(await condition.config(db, f"http://127.0.0.1:{port}/hook"))

    def sent(kind: str) -> list[dict]:
        """Each event of ``kind`` once: a kill -9 between the receiver's 200 and the commit of that
        delivery sends it again after the restart, with the same webhook-id, which receivers dedupe by."""
        return list({r["body"]["id"]: r["body"] for r in receiver.received if r["body"]["type"] == kind}.values())
    condition.begin(db)
    proc = await spawn(config, db)
    try:
        await until(lambda: sent(condition.opens), timeout=30)
    finally:
        proc.kill() if how == "kill-9" else proc.send_signal(signal.SIGTERM)
        await proc.wait()
    await condition.finish()  # while no daemon runs
    proc = await spawn(config, db)
    try:
        await until(lambda: sent(condition.ends), timeout=30)
        await asyncio.sleep(1.5)  # a second announcement would arrive within this
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
        await runner.cleanup()
        await condition.cleanup()
    (opened,), (ended,) = sent(condition.opens), sent(condition.ends)
    assert opened["dedup_key"] == ended["dedup_key"]


def test_loading_the_daemon_starts_no_child_process():
    """Importing the daemon's modules (and the probe process's) runs no program: once the C library's
    malloc_trim was looked up with ctypes.util.find_library, which runs `ldconfig -p` as a child, and
    the kill test above, which kills every child of the daemon it sees, now and then killed it too."""
    spy = ("import subprocess; started = []; real = subprocess.Popen.__init__\n"
           "def record(self, args, *rest, **kw):\n    started.append(args); return real(self, args, *rest, **kw)\n"
           "subprocess.Popen.__init__ = record\n"
           "import monitor.app, monitor.live.probe_process, monitor.gcpause\n"
           "monitor.gcpause.return_free_memory()\nprint(started)")
    out = subprocess.run([sys.executable, "-c", spy], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr[-2000:])
