"""The PostgreSQL store on a real server (pg_server.py): what is particular to it. Its operations and
figures are the other stores' (test_storage_interface.py, test_golden.py); here, how it is reached,
created, migrated and refused, what a wrong URL or password says, and that no message shows a password."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket

import pytest
import yaml
from pydantic import TypeAdapter

from monitor import clock
from monitor.cli import main
from monitor.config import parse_config
from monitor.config.models import RouteConfig
from monitor.hooks import events
from monitor.hooks.delivery import Deliverer
from monitor.hooks.events import routed
from monitor.live.dbthread import DbThread
from monitor.storage.interface import Storage
from monitor.probes import Sample
from monitor.sla.calendar import parse_iso_ms
from monitor.storage import StoreError, StoreUnavailable, open_store
from monitor.storage.daemon_lock import StoreLocked
from monitor.storage.location import daemon_lock, shown
from monitor.storage.schema import SCHEMA_VERSION
from conftest import FIXTURES
from daemon_helpers import config_text, get, running_daemon, until
from hook_helpers import Receiver, destination
from loopback import start_app
from pg_server import PASSWORD, free_port

NOV = 1_793_491_200_000  # 2026-11-01T00:00:00Z
MIN = 60_000


@pytest.fixture
def cli(capsys, spec_config):
    def run(db: str, *args: str) -> tuple[int, str, str]:
        code = main(["--config", str(spec_config), "--db", db, "--now", "2026-11-15T00:00:00Z", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def test_store_migrate_creates_the_schema_once_and_commands_then_use_it(pg_server, cli):
    url = pg_server.fresh_url()
    code, out, _ = cli(url, "store", "migrate")
    assert code == 0 and out.strip().endswith(f"schema created at version {SCHEMA_VERSION}")
    assert PASSWORD not in out and ":***@" in out
    assert cli(url, "store", "migrate")[1].strip().endswith(f"schema version {SCHEMA_VERSION}, already current")
    code, out, _ = cli(url, "maintenance", "add", "--region", "eu-west", "--start", "2026-11-20T01:00:00Z",
                       "--end", "2026-11-20T02:00:00Z", "--kind", "scheduled", "--announced-at",
                       "2026-11-10T00:00:00Z", "--reason", "upgrade")
    assert code == 0
    # Recorded once, seen by any instance: a second connection reads it back.
    store = open_store(url, create=False)
    try:
        assert [(r["region"], r["reason"]) for r in store.maintenance_rows()] == [("eu-west", "upgrade")]
    finally:
        store.close()


@pytest.mark.parametrize("case, expected", [
    ("password", 'password authentication failed for user "sla"; check the user and password in storage.url'),
    ("database", 'database "no_such_db" does not exist; create it (createdb NAME)'),
    ("port", "Connection refused; is PostgreSQL running and listening on that host and port?"),
    ("query", 'invalid URI query parameter: "bogus"'),
])
def test_a_wrong_url_says_what_is_wrong_in_one_line_without_the_password(pg_server, cli, case, expected):
    url = {"password": pg_server.url(password="not-the-password"), "database": pg_server.url("no_such_db"),
           "port": pg_server.url().replace(f":{pg_server.port}/", ":1/"),
           "query": pg_server.url(bogus="1")}[case]
    code, out, err = cli(url, "report", "--month", "2026-11", "--format", "json")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
    assert "not-the-password" not in err and PASSWORD not in err and ":***@" in err


class OlderServer:
    """The real server behind a loopback relay that announces another version: the relay passes every
    byte through, except the startup's ``server_version`` parameter, which it rewrites (libpq reads
    the server's version from it). Plain TCP: the URL turns TLS and GSS encryption off."""

    def __init__(self, target_port: int, version: str):
        import socket
        import threading

        self.version = version.encode()
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._rewrite, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _rewrite(self, source, sink) -> None:
        """The server's messages (a type byte, then a length that counts itself), one by one."""
        buffered = b""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                buffered += data
                while len(buffered) >= 5 and len(buffered) >= 1 + int.from_bytes(buffered[1:5], "big"):
                    size = 1 + int.from_bytes(buffered[1:5], "big")
                    message, buffered = buffered[:size], buffered[size:]
                    if message[:1] == b"S" and message[5:].startswith(b"server_version\0"):
                        body = b"server_version\0" + self.version + b"\0"
                        message = b"S" + (4 + len(body)).to_bytes(4, "big") + body
                    sink.sendall(message)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


def test_a_server_older_than_postgresql_12_is_refused_in_one_line(pg_server, cli):
    relay = OlderServer(pg_server.port, "11.22")
    try:
        url = pg_server.url(sslmode="disable", gssencmode="disable").replace(f":{pg_server.port}/", f":{relay.port}/")
        code, out, err = cli(url, "report", "--month", "2026-11", "--format", "json")
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and PASSWORD not in err
        assert "PostgreSQL 11 is older than sla-monitor supports (12 or newer)" in err
        relayed = OlderServer(pg_server.port, "15.9")  # the same relay, a supported version: it connects
        try:
            url = pg_server.url(sslmode="disable", gssencmode="disable").replace(f":{pg_server.port}/",
                                                                                f":{relayed.port}/")
            code, _, err = cli(url, "store", "migrate")
            assert code == 0, err
        finally:
            relayed.close()
    finally:
        relay.close()


def test_a_schema_newer_than_the_code_and_another_programs_tables_are_refused(pg_server, cli):
    newer = pg_server.fresh_url()
    open_store(newer).close()
    schema = newer.rpartition("search_path%3D")[2]
    pg_server.execute(f"UPDATE {schema}.meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    code, _, err = cli(newer, "store", "migrate")
    assert code == 2 and f"schema version {SCHEMA_VERSION + 1} is newer than this sla-monitor understands" in err
    other = pg_server.fresh_url()
    schema = other.rpartition("search_path%3D")[2]
    pg_server.execute(f"CREATE TABLE {schema}.customers (id int)")
    code, _, err = cli(other, "store", "migrate")
    assert code == 2 and "another program's tables" in err
    assert pg_server.execute(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'") \
        == [("customers",)]  # untouched
    empty = pg_server.fresh_url()
    code, _, err = cli(empty, "report", "--month", "2026-11")  # reading commands create nothing
    assert code == 2 and "no sla-monitor schema in this database" in err


def test_one_daemon_per_database_and_the_lock_goes_with_its_session(pg_server):
    url = pg_server.fresh_url()
    first = daemon_lock(url)
    first.acquire(1_793_491_200_000)
    second = daemon_lock(url)
    with pytest.raises(StoreLocked, match=r"another sla-monitor daemon already runs on this database: "
                                          r"sla-monitor daemon pid \d+ on .+ since 2026-11-01T00:00:00Z"):
        second.acquire(1_793_491_200_000)
    first.release()
    second.acquire(1_793_491_260_000)  # free again once the holder's session ends
    second.release()


def test_a_url_is_shown_without_its_password_however_it_is_written():
    assert shown("postgresql://sla:s3cret@db:5432/sla?sslmode=require") == "postgresql://sla:***@db:5432/sla?sslmode=require"
    assert shown("postgresql://sla@db/sla") == "postgresql://sla@db/sla"
    assert "s3cret" not in shown("postgresql://sla:s3cret@[broken/sla")
    assert shown("data/sla.db") == "data/sla.db"
    with pytest.raises(StoreError, match="PostgreSQL database, not a file"):
        from monitor.storage import sqlite_path
        sqlite_path("postgresql://sla@db/sla")


async def test_instances_sharing_a_database_deliver_each_event_once(pg_server):
    """Three deliverers on one PostgreSQL outbox (three instances of an HA group), one receiver, twenty
    events recorded by all three: each event is recorded once and delivered once."""
    url = pg_server.fresh_url()
    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    dest = destination("webhook", url=f"http://127.0.0.1:{port}/hook")
    hooks = parse_config((FIXTURES / "spec.yaml").read_text()).hooks.model_copy(update={
        "destinations": [dest], "routes": TypeAdapter(list[RouteConfig]).validate_python([{"destination": dest.name}])})
    now = clock.SYSTEM.now_ms()
    found = [events.outage_opened(f"region-{i}", now - 60_000 * i, now) for i in range(20)]
    instances = []
    try:
        for _ in range(3):
            db = DbThread(lambda: open_store(url))
            await db.start()
            instances.append((db, Deliverer(db, hooks, clock.FixedClock(now), rng=random.Random(1))))
        recorded = [await db.call(Storage.record_events, routed(found, hooks.routes)) for db, _ in instances]
        assert sorted(recorded) == [0, 0, 20]
        for _ in range(3):  # rounds side by side, as the instances' loops run
            await asyncio.gather(*(deliverer.deliver_due() for _, deliverer in instances))
        ids = [r["headers"]["webhook-id"] for r in receiver.received]
        assert len(ids) == 20 and len(set(ids)) == 20
        assert await instances[0][0].call(Storage.pending_deliveries) == 0
    finally:
        for db, deliverer in instances:
            await deliverer.close()
            await db.close()
        await runner.cleanup()


def test_a_connection_lost_mid_transaction_commits_nothing_and_the_next_write_reconnects(pg_server):
    """The server ends the store's session half-way through a batch (a restart, a failover, a network cut
    look the same to the store): nothing of the batch is committed, the error says so, and the same
    batch written again afterwards is stored once, on a new connection."""
    url = pg_server.fresh_url()
    schema = url.rpartition("search_path%3D")[2]
    store = open_store(url)
    samples = [Sample("w", "local", NOV + i * MIN, i != 1, 5.0 if i != 1 else None, None if i != 1 else "HTTP 503")
               for i in range(3)]
    try:
        with pytest.raises(StoreUnavailable, match="lost the connection to PostgreSQL"):
            with store.transaction():
                store.append_samples(samples[:2], {"w": 3 * MIN})
                pg_server.execute(f"SELECT pg_terminate_backend({store.conn.info.backend_pid})")
                store.append_samples(samples[2:], {"w": 3 * MIN})
        assert pg_server.execute(f"SELECT count(*) FROM {schema}.samples") == [(0,)]
        store.append_samples(samples, {"w": 3 * MIN})
        store.append_samples(samples, {"w": 3 * MIN})  # the daemon's retry of a batch it is unsure of: once
        assert pg_server.execute(f"SELECT ts, ok FROM {schema}.samples ORDER BY ts") == \
            [(NOV, 1), (NOV + MIN, 0), (NOV + 2 * MIN, 1)]
        assert [tuple(s)[:3] for s in store.segments_between(NOV, NOV + 10 * MIN)[("w", "local")]] == \
            [(NOV, NOV + MIN, 1), (NOV + MIN, NOV + 2 * MIN, 0), (NOV + 2 * MIN, NOV + 5 * MIN, 1)]
    finally:
        store.close()


async def test_the_daemon_on_postgresql_rides_out_the_server_stopping(pg_server, fleet, tmp_path):
    """The daemon writes its samples to PostgreSQL; the server stops for a while and comes back: /readyz
    says the store is not writable meanwhile, probing goes on, and afterwards every probe's samples
    run on without a gap (none taken while the server was away is lost)."""
    url = pg_server.fresh_url()
    schema = url.rpartition("search_path%3D")[2]
    async with running_daemon(fleet, url, buffer=str(tmp_path / "buffer.db")) as daemon:
        side = daemon.probing.side
        await until(lambda: side.recorder.writer.written > 0, timeout=30)
        pg_server.pause()
        away_from = clock.SYSTEM.now_ms()
        try:
            await until(lambda: side.recorder.writer.last_error is not None, timeout=30)
            async with daemon.http.get("/readyz") as r:
                body = await r.json()
            assert r.status == 503 and "store not writable" in body["problems"][0]
            assert "lost the connection to PostgreSQL" in side.recorder.writer.last_error or \
                "cannot connect to PostgreSQL" in side.recorder.writer.last_error
            runs = side.scheduler.runs
            await until(lambda: side.scheduler.runs > runs + 20)  # probing goes on, the batch waits
            await asyncio.sleep(2)
            assert side.recorder.writer.spool.count > 0  # the refused batches wait on disk, not in memory
        finally:
            away_until = clock.SYSTEM.now_ms()
            pg_server.resume()
        await until(lambda: side.recorder.writer.last_error is None and not side.recorder.writer.waiting, timeout=30)
        await until(lambda: not daemon.readiness(), timeout=30)
    stamps = [ts for (ts,) in pg_server.execute(
        f"SELECT s.ts FROM {schema}.samples s JOIN {schema}.probes p ON p.id = s.probe_id"
        " WHERE p.name = 'eu-west-widget' ORDER BY s.ts")]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert max(gaps) < 1_000  # every 200 ms, the server's absence included
    assert sum(away_from <= ts < away_until for ts in stamps) >= (away_until - away_from) // 400  # taken while away


def test_the_spool_keeps_batches_in_order_across_a_reopen_and_within_its_bound(tmp_path):
    from monitor.storage.spool import Spool

    path = str(tmp_path / "buffer.db")
    spool = Spool(path, max_samples=5)
    first = [Sample("w", "local", NOV + i * MIN, i % 2 == 0, 5.0, None, detail={"n": i}) for i in range(2)]
    second = [Sample("w", "local", NOV + (2 + i) * MIN, None, None, "no route", cause="vantage_unhealthy")
              for i in range(2)]
    opened = events.outage_opened("eu-west", NOV, NOV + MIN)
    assert spool.put(first, [opened]) == 0 and spool.put(second, []) == 0 and spool.count == 4
    spool.close()
    spool = Spool(path, max_samples=5)  # a restart, a crash: the file holds them
    assert spool.count == 4
    seq, samples, kept = spool.oldest()
    assert samples == first and [e.id for e in kept] == [opened.id] and kept[0].as_json() == opened.as_json()
    assert spool.put(first, []) == 2 and spool.count == 4  # over the bound: the oldest batch is dropped
    seq, samples, _ = spool.oldest()
    assert samples == second
    spool.remove(seq, len(samples))
    assert spool.oldest()[1] == first and spool.count == 2
    spool.close()


async def test_samples_the_database_could_not_take_are_forwarded_after_a_restart_in_order_once(pg_server, tmp_path):
    """The shared database is away: the writer keeps each batch in its spool on disk. The process is gone
    (a new writer on the same spool file stands for the restarted one) and the database comes back: the
    kept batches arrive first, in order, then the new ones; nothing twice, nothing lost."""
    from monitor.storage.spool import Spool
    from monitor.live.writer import SampleWriter

    url = pg_server.fresh_url()
    schema = url.rpartition("search_path%3D")[2]
    stale = {"w": 3 * MIN}
    batches = [[Sample("w", "local", NOV + (3 * b + i) * MIN, True, 5.0, None) for i in range(3)] for b in range(4)]

    async def writer_on(spool_path: str) -> SampleWriter:
        db = DbThread(lambda: open_store(url))
        await db.start()
        return SampleWriter(db, stale, 1000, [], spool=Spool(spool_path, 1000))

    writer = await writer_on(str(tmp_path / "buffer.db"))
    writer.pending = list(batches[0])
    assert await writer.flush() and writer.written == 3
    pg_server.pause()
    try:
        for batch in batches[1:3]:
            writer.pending = list(batch)
            assert not await writer.flush()
        assert writer.waiting == 6 and writer.spool.count == 6 and not writer.pending
        assert "PostgreSQL" in writer.last_error
    finally:
        pg_server.resume()
    writer.spool.close()
    await writer.db.close()
    writer = await writer_on(str(tmp_path / "buffer.db"))  # the restarted process
    assert writer.waiting == 6
    writer.pending = list(batches[3])
    assert await writer.flush() and writer.waiting == 0 and writer.written == 9
    await writer.db.close()
    stored = pg_server.execute(f"SELECT ts FROM {schema}.samples ORDER BY ts")
    assert [ts for (ts,) in stored] == [s.ts_ms for batch in batches for s in batch]
    assert pg_server.execute(f"SELECT start_ms, end_ms, ok FROM {schema}.segments") == \
        [(NOV, NOV + 14 * MIN, 1)]  # one run of up: the kept batches folded in order with the rest


async def test_a_daemon_killed_while_its_database_is_away_loses_no_sample(pg_server, fleet, tmp_path):
    """`sla-monitor run` on PostgreSQL; the database goes away, and while it is away the daemon is killed
    (kill -9). The database returns, the daemon is started again: the samples taken while the database
    was away, kept in the daemon's local buffer, are in the database, in order, once."""
    from test_daemon_process import spawn

    url = pg_server.fresh_url()
    schema = url.rpartition("search_path%3D")[2]
    config = tmp_path / "pg.yaml"
    config.write_text(config_text(fleet, url, buffer=f"{tmp_path}/buffer.db"))

    def stamps() -> list[int]:
        return [ts for (ts,) in pg_server.execute(
            f"SELECT s.ts FROM {schema}.samples s JOIN {schema}.probes p ON p.id = s.probe_id"
            " WHERE p.name = 'eu-west-widget' ORDER BY s.ts")] if pg_server.execute(
            f"SELECT 1 FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = 'samples'") \
            else []

    proc = await spawn(config, url)
    try:
        await until(lambda: len(stamps()) > 5, timeout=60)
        pg_server.pause()
        away_from = clock.SYSTEM.now_ms()
        await asyncio.sleep(4)
        await until(lambda: (tmp_path / "buffer.db").exists(), timeout=10)
    finally:
        proc.kill()
        await proc.communicate()
    away_until = clock.SYSTEM.now_ms()
    pg_server.resume()
    proc = await spawn(config, url)
    try:
        await until(lambda: sum(away_from <= ts < away_until for ts in stamps()) > 0, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    kept = [ts for ts in stamps() if away_from <= ts < away_until]
    # Every 200 ms while away, but for the moments the kill cost: the batch in memory then (at most
    # flush_interval's worth) is all that may be missing.
    assert len(kept) >= (away_until - away_from) // 200 - 10, (len(kept), output[-2000:])
    assert len(set(stamps())) == len(stamps())  # once


async def test_an_ha_pair_on_one_database_fails_over_and_shares_its_records(pg_server, fleet, tmp_path):
    """Two daemons, the same config and database: the first is active, the second (`run --standby`)
    waits. A maintenance window entered once is the record of both. The active one is killed (kill -9):
    the standby takes over within seconds and serves the same record; the old one, started again as a
    plain daemon, is refused while the new one is active."""
    from test_daemon_process import spawn

    url = pg_server.fresh_url()
    config = tmp_path / "ha.yaml"
    config.write_text(config_text(fleet, url, buffer=f"{tmp_path}/buffer.db"))
    first_port, second_port = free_port(), free_port()
    active = await spawn(config, url, args=["--listen", f"127.0.0.1:{first_port}"])
    standby = None
    try:
        await until(lambda: serves(first_port), timeout=60)  # active first: else the standby would be
        standby = await spawn(config, url, args=["--listen", f"127.0.0.1:{second_port}", "--standby"])
        assert main(["--config", str(config), "--db", url, "maintenance", "add", "--region", "eu-west",
                     "--start", "2030-01-10T01:00:00Z", "--end", "2030-01-10T02:00:00Z", "--kind", "scheduled",
                     "--announced-at", "2029-12-01T00:00:00Z", "--reason", "entered once"]) == 0
        await asyncio.sleep(3)
        assert not serves(second_port)  # waiting, not serving
        active.kill()
        await active.wait()
        await until(lambda: serves(second_port), timeout=60)
        windows = json.loads(get(f"http://127.0.0.1:{second_port}/api/v1/maintenance")[1])
        assert [w["reason"] for w in windows] == ["entered once"]
        again = await spawn(config, url, args=["--listen", f"127.0.0.1:{first_port}"])
        out = (await asyncio.wait_for(again.communicate(), 60))[0].decode()
        assert again.returncode == 1 and "another sla-monitor daemon already runs on this database" in out
    finally:
        for proc in (active, standby):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        await active.wait()
        standby_out = "" if standby is None else (await asyncio.wait_for(standby.communicate(), 30))[0].decode()
    assert "standby: another sla-monitor daemon already runs on this database" in standby_out
    assert "event=standby_active" in standby_out


def serves(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False


def test_the_password_comes_from_the_environment_or_libpqs_passfile_and_is_never_shown(pg_server, tmp_path,
                                                                                         spec_config, capsys,
                                                                                         monkeypatch):
    """`storage.url` with `${SLA_DB_PASSWORD}` (the config's secrets come from the environment), or a URL
    without a password and libpq's own passfile: both reach the database, and check-config names the
    store without the password."""
    import yaml

    config = yaml.safe_load(spec_config.read_text())
    config["storage"] = {"url": pg_server.url().replace(PASSWORD, "${SLA_DB_PASSWORD}"),
                         "buffer": str(tmp_path / "buffer.db")}
    by_env = tmp_path / "env.yaml"
    by_env.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("SLA_DB_PASSWORD", PASSWORD)
    assert main(["--config", str(by_env), "store", "migrate"]) == 0
    assert main(["--config", str(by_env), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "store postgresql://sla:***@127.0.0.1" in out and PASSWORD not in out
    monkeypatch.delenv("SLA_DB_PASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg_server.port}:*:sla:{PASSWORD}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    without = pg_server.url().replace(f":{PASSWORD}@", "@")
    assert PASSWORD not in without
    open_store(without, create=False).close()  # libpq read the passfile
    passfile.write_text(f"127.0.0.1:{pg_server.port}:*:sla:not-it\n")
    with pytest.raises(StoreError, match="password authentication failed"):
        open_store(without, create=False)


VANTAGES = ("a", "b", "c")


def shared_config(fleet, url: str, tmp_path, mode: str, name: str, hook_url: str | None = None):
    """A daemon of a database shared by vantages a, b and c: a vantage writing its samples, or an
    aggregator (reading them from the database) posting to ``hook_url``."""
    # Five daemons share one event loop here: a probe's timeout and the aggregators' settle leave room for
    # its lag (under libfaketime, 150 ms timeouts made every region flap, and the test saw true flaps).
    text = config_text(fleet, url, interval="1s", timeout="900ms", threshold_minutes="0.05", token=None,
                       hook_url=hook_url, buffer=f"{tmp_path}/buffer-{name}.db")
    text = text.replace("daemon: {", f"daemon: {{mode: {mode}, ")
    text += f"vantage: {name}\nvantages: [{', '.join(VANTAGES)}]\n"
    if mode == "aggregate":
        text += "source: {store: {poll: 200ms, settle: 3s}}\n"
    return parse_config(text)


async def test_vantages_and_aggregators_on_one_database_post_each_event_once(pg_server, fleet, tmp_path):
    """Three vantages write their samples into one database; two aggregators read them there and both
    detect the outage of eu-west, down for every vantage: the receiver gets each event once, with one
    webhook-id, and every daemon (vantages included) computes the same Downtime from the one record. A
    region refused to vantage a alone is no outage for the quorum, and the vantages post nothing."""
    from prometheus_client import CollectorRegistry

    from monitor.app import Daemon

    url = pg_server.fresh_url()
    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    hook = f"http://127.0.0.1:{port}/hook"
    daemons = []
    try:
        for mode, name in [("vantage", v) for v in VANTAGES] + [("aggregate", "agg1"), ("aggregate", "agg2")]:
            daemon = Daemon(shared_config(fleet, url, tmp_path, mode, name, hook), url, registry=CollectorRegistry())
            await daemon.start("127.0.0.1:0")
            daemons.append(daemon)
        aggregators = daemons[3:]

        def regions(state: str, name: str = "eu-west") -> bool:
            return all(a.live.region_state.get(name) == state for a in aggregators)
        await until(lambda: regions("up"), timeout=60)
        refused_from = clock.SYSTEM.now_ms()
        fleet.targets["eu-west"].refused_vantages.add("a")  # one vantage's own trouble
        await until(lambda: daemons[0].live.region_state.get("eu-west") == "down", timeout=20)
        await asyncio.sleep(4)
        fleet.targets["eu-west"].refused_vantages.clear()
        refused_until = clock.SYSTEM.now_ms()
        await asyncio.sleep(2)  # a sample is stamped when its probe starts: none of the next outage's before this

        fleet.set_mode("eu-west", "down")  # everyone's
        await until(lambda: regions("down"), timeout=30)
        await asyncio.sleep(5)  # past the 3 s threshold: counted
        fleet.set_mode("eu-west", "up")
        await until(lambda: regions("up"), timeout=30)

        def posted() -> dict[tuple[str, str, str], list[str]]:
            """Each event posted, (type, region, outage start), with the webhook-ids it came with."""
            seen: dict[tuple[str, str, str], list[str]] = {}
            for r in receiver.received:
                body = r["body"]
                seen.setdefault((body["type"], body["region"], body["data"]["start"]), []).append(
                    r["headers"]["webhook-id"])
            return seen

        def counted() -> list[str]:
            return [start for kind, region, start in posted() if (kind, region) == ("outage.counted", "eu-west")]
        await until(lambda: any(("outage.resolved", "eu-west", start) in posted() for start in counted()), timeout=30)
        await asyncio.sleep(2)  # any second delivery would have come by now
        # Detected by both aggregators, each event recorded and posted once. (Five daemons share this event
        # loop: a stall can time out two vantages' probes at once, a short true flap of the quorum, posted
        # once too; under libfaketime such stalls are longer.)
        assert all(len(ids) == 1 for ids in posted().values()), posted()
        start = counted()
        assert len(start) == 1 and {(kind, "eu-west", start[0]) for kind in
                                    ("outage.opened", "outage.counted", "outage.resolved")} <= posted().keys()
        # Vantage a's own trouble opened no outage of the region.
        assert not any(region == "eu-west" and refused_from <= parse_iso_ms(start) < refused_until
                       for _, region, start in posted()), posted()

        await asyncio.sleep(0.5)  # past the report cache's life (refresh_interval)
        results = [(await d.reports.month(None)).region("eu-west") for d in daemons]
        downtimes = {r.figures.downtime_ms for r in results}
        assert len(downtimes) == 1 and downtimes.pop() >= 3_000, [r.figures.downtime_ms for r in results]
        closed = {tuple((p.start_ms, p.end_ms) for p in r.periods if not p.open) for r in results}
        assert len(closed) == 1  # the same outage, to the millisecond, wherever it is computed

        pg_server.pause()  # the database away: the aggregators say so, and take nothing as down
        try:
            await until(lambda: all(any(p.startswith("source unreadable: the shared database")
                                        for p in a.readiness()) for a in aggregators), timeout=30)
            assert not any(a.live.region_state.get("eu-west") == "down" for a in aggregators)
        finally:
            pg_server.resume()
        await until(lambda: not any(p.startswith("source") for a in aggregators for p in a.readiness()), timeout=60)
        await until(lambda: regions("up"), timeout=30)
    finally:
        for daemon in daemons:
            await daemon.stop()
        await runner.cleanup()


def test_vantages_share_a_database_one_daemon_alerts_and_each_vantage_runs_once(pg_server):
    """The database's lock by role: vantages a and b write side by side; a second daemon as vantage a,
    or a second alerting daemon, is refused with who holds it."""
    from monitor.storage.location import ALERTING, vantage_role

    url = pg_server.fresh_url()
    now = 1_793_491_200_000
    a, b, aggregator = (daemon_lock(url, [vantage_role("a")]), daemon_lock(url, [vantage_role("b")]),
                        daemon_lock(url, [ALERTING]))
    for lock in (a, b, aggregator):
        lock.acquire(now)
    try:
        with pytest.raises(StoreLocked, match="another sla-monitor daemon already probes as vantage a on this "
                                              r"database: sla-monitor daemon pid \d+"):
            daemon_lock(url, [vantage_role("a")]).acquire(now)
        # A probing daemon that alerts holds both: refused for the alerting role, it holds neither.
        probing = daemon_lock(url, [ALERTING, vantage_role("c")])
        with pytest.raises(StoreLocked, match="already runs on this database"):
            probing.acquire(now)
        c = daemon_lock(url, [vantage_role("c")])
        c.acquire(now)  # vantage c was not kept by the refused one
        c.release()
    finally:
        for lock in (a, b, aggregator):
            lock.release()


@pytest.mark.parametrize("extra, loc, words", [
    ("daemon: {mode: vantage}\n", "storage.url",
     ["daemon.mode: vantage writes the samples of a database several daemons share: set storage.url to postgresql://"]),
    ("daemon: {mode: aggregate}\nvantage: agg\nsource: {store: {}}\n", "storage.url",
     ["source.store reads the samples of a database several daemons share"]),
    ("daemon: {mode: aggregate}\nvantage: agg\nsource: {store: {}, prometheus: {url: 'http://127.0.0.1:9090'}}\n",
     "source.store", ["read from source.store or source.prometheus.url, not both"]),
    ("source: {store: {settle: 5s}}\n", "source.store",
     ["is read by daemon.mode: aggregate only (this daemon's mode is probe)"]),
    ("daemon: {mode: aggregate}\nvantage: agg\n", "source.prometheus.url",
     ["is required with daemon.mode: aggregate (the Prometheus HTTP API", "unless source.store reads them"]),
])
def test_a_shared_database_mode_without_one_is_refused_at_its_key(tmp_path, spec_config, capsys, extra, loc, words):
    config = tmp_path / "c.yaml"
    config.write_text(spec_config.read_text() + extra)
    assert main(["--config", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{loc}: {words[0]}" in err and all(w in err for w in words[1:])


def test_run_refuses_a_sqlite_db_for_a_vantage_of_a_shared_database(pg_server, tmp_path, spec_config, capsys):
    """The config names a database, --db a SQLite file: refused before anything is opened."""
    config = tmp_path / "c.yaml"
    loaded = yaml.safe_load(spec_config.read_text())
    loaded["storage"] = {"url": pg_server.fresh_url()}
    loaded["daemon"] = {"mode": "vantage"}
    config.write_text(yaml.safe_dump(loaded))
    assert main(["--config", str(config), "check-config"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "--db", str(tmp_path / "own.db"), "run"]) == 2
    err = capsys.readouterr().err
    assert "daemon.mode: vantage shares a PostgreSQL database with other daemons" in err
    assert not (tmp_path / "own.db").exists()


DELIVERING = """
import asyncio, sys
from pydantic import TypeAdapter
from monitor import clock
from monitor.config import parse_config
from monitor.config.models import RouteConfig
from monitor.hooks.delivery import Deliverer
from monitor.live.dbthread import DbThread
from monitor.storage import open_store
from hook_helpers import destination

async def main(url, hook):
    db = DbThread(lambda: open_store(url))
    await db.start()
    dest = destination("webhook", url=hook, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", timeout="60s")
    hooks = parse_config(open(sys.argv[3]).read()).hooks.model_copy(update={
        "destinations": [dest], "routes": TypeAdapter(list[RouteConfig]).validate_python([{"destination": dest.name}])})
    await Deliverer(db, hooks, clock.SYSTEM, instance="a@test").run()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_an_instance_killed_mid_delivery_leaves_it_to_another_once_its_claim_runs_out(pg_server, tmp_path):
    """Instance a (a process of its own) claims a delivery and posts it; the receiver holds the request
    and a is killed (kill -9) before any answer. Instance b, sharing the outbox, does not touch the claim
    while it holds, and delivers the event once it has run out: the receiver sees it twice at most, with
    one webhook-id."""
    import subprocess
    import sys

    from monitor.hooks.delivery import claim_ms

    url = pg_server.fresh_url()
    seen: list[str] = []
    held = asyncio.Event()

    async def hook(request):
        seen.append(request.headers["webhook-id"])
        if len(seen) == 1:  # the first attempt is never answered
            held.set()
            await asyncio.sleep(120)
        return web.Response(text="ok")
    from aiohttp import web
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner, port = await start_app(app)
    receiver = f"http://127.0.0.1:{port}/hook"
    dest = destination("webhook", url=receiver, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", timeout="60s")
    hooks = parse_config((FIXTURES / "spec.yaml").read_text()).hooks.model_copy(update={
        "destinations": [dest], "routes": TypeAdapter(list[RouteConfig]).validate_python([{"destination": dest.name}])})
    now = clock.SYSTEM.now_ms()
    db = DbThread(lambda: open_store(url))
    await db.start()
    proc = None
    try:
        await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
        script = tmp_path / "deliver.py"
        script.write_text(DELIVERING)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES.parent), str(FIXTURES.parent.parent)])}
        proc = subprocess.Popen([sys.executable, str(script), url, receiver, str(FIXTURES / "spec.yaml")], env=env)
        await asyncio.wait_for(held.wait(), 60)
        proc.kill()  # mid-delivery: claimed, posted, not answered
        proc.wait(10)
        later = Deliverer(db, hooks, clock.FixedClock(clock.SYSTEM.now_ms()), instance="b@test")
        await later.deliver_due()
        assert len(seen) == 1  # the claim holds: b leaves a's delivery alone
        after = clock.FixedClock(clock.SYSTEM.now_ms() + claim_ms(dest) + 1_000)
        done = Deliverer(db, hooks, after, instance="b@test")
        await done.deliver_due()
        listed = await db.call(Storage.event_log)
        await later.close()
        await done.close()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        await db.close()
        await runner.cleanup()
    assert listed[0]["status"] == "delivered" and listed[0]["attempts"] == 1
    assert len(seen) == 2 and seen[0] == seen[1]  # once more at most, under one webhook-id
