"""The evidence chain: what the monitor wrote verifies; every edit, insertion or deletion made behind its
back (straight into the SQLite file, or the PostgreSQL database) is named at its first broken link; a
re-import that replaces samples and a prune do not break it; the daemon closes days and months and
signs the months."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import Daemon
from monitor.cli import main
from monitor.clock import TickingClock
from monitor.config import load_config, parse_config, to_fleet
from monitor.config.fleet import stale_ms_by_probe
from monitor.evidence_bundle import packed
from monitor.sla.fleet_document import fleet_document, fleet_of
from monitor.signing import generate, load, public_pem, sign, verifies
from monitor.samples import Sample
from monitor.storage import Store
from monitor.storage.chain import statement
from monitor.storage.closes import close_due, closes_due
from monitor.storage.copy import copy_store
from monitor.storage.location import open_store
from monitor.storage.verify import verify_store
from conftest import FIXTURES
from daemon_helpers import config_text, until
from hook_helpers import Receiver
from loopback import start_app

NOV = 1_793_491_200_000  # 2026-11-01T00:00:00Z
MIN = 60_000
DAY = 24 * 60 * MIN
STALE = stale_ms_by_probe(load_config(str(FIXTURES / "spec.yaml")))  # probes w and u, as the CLI folds them
WARSAW = ZoneInfo("Europe/Warsaw")


def write_history(store) -> None:
    """130 one-minute commits of two probes (more than two blocks), three records and their changes, and
    an import that writes one stored sample again with another result."""
    for minute in range(130):
        store.append_samples([Sample("w", "local", NOV + minute * MIN, minute % 7 != 0, 12.5, None),
                              Sample("u", "local", NOV + minute * MIN, True, 30.25, None)], STALE)
    window = store.add_maintenance(region="eu-west", start_ms=NOV + 200 * MIN, end_ms=NOV + 260 * MIN,
                                   kind="scheduled", announced_at_ms=NOV - 3 * 24 * 60 * MIN, reason="upgrade",
                                   by="ops", now_ms=NOV + 131 * MIN)
    store.add_exclusion(region=None, start_ms=NOV, end_ms=NOV + 20 * MIN, cause="third_party:azure", note="Azure",
                        by="ops", now_ms=NOV + 132 * MIN)
    incident = store.add_incident(region="eu-west", component=None, severity="P1", opened_ms=NOV + 7 * MIN,
                                  resolved_ms=None, title="widget down", by="ops", now_ms=NOV + 133 * MIN)
    store.resolve_incident(str(incident), resolved_ms=NOV + 30 * MIN, by="ops", now_ms=NOV + 134 * MIN)
    store.cancel_maintenance(window, by="ops", now_ms=NOV + 135 * MIN)
    with store.transaction():
        store.import_samples([("w", "local", NOV + 14 * MIN, True, 11.0, None, None)], STALE)


@pytest.fixture(scope="module")
def chained_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evidence") / "chained.db"
    store = Store.open(path)
    write_history(store)
    store.close()
    return path


def verify(run_cli, db: Path):
    shutil.copy(db, run_cli.db)
    return run_cli("evidence", "verify")


def batch_link(db: Path, ts: int) -> int:
    """The link whose block holds the batch of eu-west-widget's sample at ``ts``."""
    con = sqlite3.connect(db)
    (batch,) = con.execute("SELECT batch FROM samples s JOIN probes p ON p.id = s.probe_id"
                           " WHERE p.name = 'w' AND ts = ?", [ts]).fetchone()
    (seq,) = con.execute("SELECT seq FROM evidence WHERE first_batch <= ? AND last_batch >= ?", [batch, batch]).fetchone()
    con.close()
    return seq


def test_what_the_monitor_wrote_verifies(run_cli, chained_db):
    result = verify(run_cli, chained_db)
    assert result.code == 0, result.out
    # 130 daemon batches and one import batch; 260 samples and the one the import replaced.
    assert "131 batches, 261 samples, 3 records, 2 timelines" in result.out
    assert "the chain holds" in result.out
    con = sqlite3.connect(chained_db)
    assert con.execute("SELECT count(*) FROM samples_replaced").fetchone() == (1,)
    blocks = con.execute("SELECT first_batch, last_batch FROM evidence WHERE kind = 'samples' ORDER BY seq").fetchall()
    assert blocks == [(1, 60), (61, 120), (121, 130), (131, 131)]  # a record change ends the open block


@pytest.mark.parametrize("edit, table, expected", [
    ("UPDATE samples SET ok = 1 - ok WHERE ts = {ts10} AND probe_id = 1", "samples",
     "samples batches 1-60 (120 samples, 2026-11-01T00:00:00Z to 2026-11-01T00:59:00Z) (link {block} at 2026-11-01T00:59:00Z)"),
    ("UPDATE samples SET latency_ms = 9.0 WHERE ts = {ts70} AND probe_id = 2", "samples", "samples batches 61-120"),
    ("DELETE FROM samples WHERE ts = {ts10} AND probe_id = 2", "samples", "samples batches 1-60"),
    ("INSERT INTO samples (probe_id, vantage_id, ts, ok) VALUES (1, 1, {ts10} + 1, 0)", "samples",
     "samples 0 samples before the chain began (link 1)"),
    ("INSERT INTO samples (probe_id, vantage_id, ts, ok, batch) VALUES (1, 1, {ts10} + 1, 0, 500)", "samples",
     "samples batch 500 (1 samples) (no link)"),
    ("UPDATE samples_replaced SET ok = 1", "samples", "samples batches 1-60"),
    ("UPDATE probes SET name = 'renamed' WHERE id = 2", "samples", "samples batches 1-60"),
    ("UPDATE segments SET ok = 1 WHERE ok = 0 AND probe_id = 1", "segments", "segments w at local (no link at "
     "2026-11-01T00:00:00Z): the state segments differ from a fold of the samples"),
    ("DELETE FROM segments WHERE probe_id = 2", "segments", "segments u at local"),
    ("UPDATE maintenance SET reason = 'unannounced outage'", "maintenance", "maintenance maintenance/1 (link"),
    ("DELETE FROM exclusions", "exclusions", "exclusions exclusions/1 (link"),
    ("INSERT INTO incidents (region, severity, opened_ms, title) VALUES ('eu-west', 'P1', {ts10}, 'made up')",
     "incidents", "incidents incidents/2 (no link): no link holds this record"),
    ("UPDATE incident_overrides SET severity = 'P4'", "incident_overrides", None),
    ("UPDATE evidence SET content = '00' || substr(content, 3) WHERE seq = 3", "evidence", "evidence "),
    ("DELETE FROM evidence WHERE seq = 2", "evidence", "evidence link 2 (link 2): missing"),
])
def test_an_edit_behind_the_monitors_back_is_named_at_its_first_broken_link(run_cli, chained_db, tmp_path, edit,
                                                                            table, expected):
    edited = tmp_path / "edited.db"
    shutil.copy(chained_db, edited)
    con = sqlite3.connect(edited)
    con.execute("INSERT INTO incident_overrides (incident_id, resolved_ms, severity, updated_by, updated_at_ms) VALUES ('auto-1', NULL, 'P2', 'ops', 0)") if "overrides" in edit \
        else None  # a hand correction the monitor never recorded, edited
    con.execute(edit.format(ts10=NOV + 10 * MIN, ts70=NOV + 70 * MIN))
    con.commit()
    con.close()
    result = verify(run_cli, edited)
    assert result.code == 1, result.out
    broken = next(line for line in result.out.splitlines() if line.startswith("BROKEN: "))
    assert broken.startswith(f"BROKEN: {table} "), broken
    if expected is not None:
        assert expected.format(block=batch_link(chained_db, NOV + 10 * MIN)) in broken, broken


def test_a_prune_is_chained_and_the_pruned_blocks_are_checked_as_links(run_cli, chained_db, tmp_path):
    pruned = tmp_path / "pruned.db"
    shutil.copy(chained_db, pruned)
    store = Store.open(pruned)
    assert store.prune_samples(NOV + 90 * MIN) == 180
    store.close()
    result = verify(run_cli, pruned)
    assert result.code == 0, result.out
    # The genesis, the first two blocks and the import's block reach before the prune.
    assert "80 samples, 3 records, 2 timelines, 4 blocks checked as links only (their samples were pruned)" in result.out
    # Still: an edit of a block the prune did not reach breaks it.
    con = sqlite3.connect(pruned)
    con.execute("UPDATE samples SET ok = 0 WHERE ts = ?", [NOV + 125 * MIN])
    con.commit()
    con.close()
    result = verify(run_cli, pruned)
    assert result.code == 1 and "BROKEN: samples batches 121-130" in result.out


def test_the_chain_survives_a_copy_into_postgresql_and_an_edit_there_is_found(pg_server, chained_db):
    url = pg_server.fresh_url()
    source, target = Store.open(chained_db), open_store(url)
    try:
        copy_store(source, target)
        assert verify_store(target, STALE).holds
        target.append_samples([Sample("w", "local", NOV + 130 * MIN, False, None, "HTTP 503")], STALE)
        target.add_exclusion(region="us-east", start_ms=NOV, end_ms=NOV + MIN, cause="third_party:vonage", note="",
                             by="ops", now_ms=NOV + 140 * MIN)
        verdict = verify_store(target, STALE)
        assert verdict.holds and verdict.samples == 262 and verdict.records == 4
    finally:
        source.close()
        target.close()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE exclusions SET cause = 'counted' WHERE region = 'us-east'")
    target = open_store(url, create=False)
    try:
        first = verify_store(target, STALE).first()
        assert first is not None and (first.table, first.subject) == ("exclusions", "exclusions/2")
    finally:
        target.close()


def test_closes_follow_local_midnights_across_a_daylight_saving_change_and_a_months_end():
    # Europe/Warsaw leaves summer time on 2026-10-25: that day is 25 hours long.
    now = int(dt.datetime(2026, 11, 1, 0, 30, tzinfo=WARSAW).timestamp() * 1000)
    due = closes_due(dt.date(2026, 10, 23), now, WARSAW)
    iso = [(kind, period, dt.datetime.fromtimestamp(at / 1000, dt.timezone.utc).isoformat()) for kind, period, at in due]
    assert iso == [
        ("day", "2026-10-24", "2026-10-24T22:00:00+00:00"),
        ("day", "2026-10-25", "2026-10-25T23:00:00+00:00"),
        ("day", "2026-10-26", "2026-10-26T23:00:00+00:00"),
        ("day", "2026-10-27", "2026-10-27T23:00:00+00:00"),
        ("day", "2026-10-28", "2026-10-28T23:00:00+00:00"),
        ("day", "2026-10-29", "2026-10-29T23:00:00+00:00"),
        ("day", "2026-10-30", "2026-10-30T23:00:00+00:00"),
        ("day", "2026-10-31", "2026-10-31T23:00:00+00:00"),
        ("month", "2026-10", "2026-10-31T23:00:00+00:00"),
    ]
    assert [p for _, p, _ in closes_due(None, now, WARSAW)] == ["2026-10-31", "2026-10"]  # first: the last day only
    assert closes_due(dt.date(2026, 10, 31), now, WARSAW) == []


def test_a_months_close_is_signed_and_the_chain_still_holds(tmp_path, chained_db, capsys):
    key_file = tmp_path / "keys" / "evidence.pem"
    key_file.parent.mkdir()
    assert main(["evidence", "keygen", "--output", str(key_file)]) == 0
    public = capsys.readouterr().out
    assert public.startswith("-----BEGIN PUBLIC KEY-----") and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert main(["evidence", "keygen", "--output", str(key_file)]) == 2  # never overwritten
    assert "the file exists" in capsys.readouterr().err
    key = load(str(key_file))
    assert public_pem(key) == public
    db = tmp_path / "c.db"
    shutil.copy(chained_db, db)
    store = Store.open(db)
    try:
        now = int(dt.datetime(2026, 12, 1, 0, 0, 5, tzinfo=WARSAW).timestamp() * 1000)
        written = close_due(store, now, WARSAW, lambda text: sign(key, text))
        assert [(link.kind, link.subject) for link in written] == [("day", "2026-11-30"), ("month", "2026-11")]
        assert close_due(store, now + MIN, WARSAW, lambda text: sign(key, text)) == []  # each close once
        month = store.links()[-1]
        assert month.signature is not None
        assert verifies(public, statement("month", "2026-11", month.seq, month.link), month.signature)
        assert not verifies(public, statement("month", "2026-10", month.seq, month.link), month.signature)
        assert verify_store(store, STALE).holds
    finally:
        store.close()


def test_a_signing_key_that_is_not_one_is_a_config_error_that_shows_no_key(tmp_path, spec_config, capsys):
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXRoYXQtaXMtbm90LWEta2V5\n-----END PRIVATE KEY-----\n")
    config = tmp_path / "c.yaml"
    config.write_text(spec_config.read_text() + f"evidence: {{signing_key: '{bad}'}}\n")
    assert main(["--config", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "evidence.signing_key" in err and "not an unencrypted PEM private key" in err and "c2VjcmV0" not in err
    config.write_text(spec_config.read_text() + f"evidence: {{signing_key: '{tmp_path / 'missing.pem'}'}}\n")
    assert main(["--config", str(config), "check-config"]) == 2
    assert "cannot read the key file" in capsys.readouterr().err


async def test_the_daemon_chains_what_it_probes_closes_the_month_and_serves_its_public_key(fleet, tmp_path):
    key_file = tmp_path / "evidence.pem"
    assert main(["evidence", "keygen", "--output", str(key_file)]) == 0
    db = str(tmp_path / "d.db")
    receiver = Receiver()  # where the month's close is posted: its hash, dated by its delivery
    runner, port = await start_app(receiver.app())
    cfg = parse_config(config_text(fleet, db, hook_url=f"http://127.0.0.1:{port}/hook", hook_events='["evidence.*"]')
                       + f"evidence: {{signing_key: '{key_file}'}}\n")
    # Just after a month ended (UTC): the daemon's first close is that month's last day, and the month.
    clock = TickingClock(NOV + 30 * 24 * 60 * MIN + 5_000)
    daemon = Daemon(cfg, db, registry=CollectorRegistry(), clock=clock)
    await daemon.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{daemon.port}/evidence/public-key") as response:
                assert response.status == 200 and await response.text() == public_pem(load(str(key_file)))

        def closed() -> list:
            store = Store.open(db)
            try:
                return [(link.kind, link.subject, link.signature is not None) for link in store.links()
                        if link.kind in ("day", "month")]
            finally:
                store.close()
        await until(lambda: closed() == [("day", "2026-11-30", False), ("month", "2026-11", True)], timeout=20)
        await until(lambda: sqlite3.connect(db).execute("SELECT count(*) FROM samples").fetchone()[0] > 10)
        await until(lambda: receiver.received, timeout=20)
    finally:
        await daemon.stop()
        await runner.cleanup()
    (posted,) = [r["body"] for r in receiver.received]
    month = next(link for link in Store.open(db).links() if link.kind == "month")
    assert posted["type"] == "evidence.month_closed" and posted["data"]["sha256"] == month.link
    assert posted["data"]["signed"] is True and posted["data"]["public_key"].endswith("/evidence/public-key")
    store = Store.open(db)
    try:
        verdict = verify_store(store, stale_ms_by_probe(cfg))
        assert verdict.holds and verdict.samples > 0 and verdict.timelines > 0
    finally:
        store.close()


@pytest.fixture(scope="module")
def november(tmp_path_factory) -> tuple[Path, Path, str]:
    """A store with November 2026 probed every minute (a 40-minute outage of w on the 10th, a late-notice
    maintenance window over it), the month closed and signed; with the key and its public half."""
    folder = tmp_path_factory.mktemp("november")
    key_file = folder / "key.pem"
    public = generate(key_file)
    db = folder / "november.db"
    store = Store.open(db)
    outage = range(NOV + 9 * DAY + 10 * 60 * MIN, NOV + 9 * DAY + 10 * 60 * MIN + 40 * MIN)
    with store.transaction():
        store.import_samples([(probe, "local", ts, not (probe == "w" and ts in outage), 20.0, None, None)
                              for ts in range(NOV - DAY, NOV + 31 * DAY, MIN) for probe in ("w", "g", "u")], STALE)
    store.add_maintenance(region="eu-west", start_ms=outage.start, end_ms=outage.start + 20 * MIN, kind="scheduled",
                          announced_at_ms=outage.start - 60 * MIN, reason="late notice", by="ops",
                          now_ms=outage.start - 60 * MIN)
    key = load(str(key_file))
    close_due(store, NOV + 30 * DAY + 5_000, ZoneInfo("UTC"), lambda text: sign(key, text))
    store.close()
    return db, key_file, public


def with_key(spec_config: Path, key_file: Path) -> Path:
    config = spec_config.parent / "signed.yaml"
    config.write_text(spec_config.read_text() + f"evidence: {{signing_key: '{key_file}'}}\n")
    return config


def export_bundle(run_cli, spec_config, november, tmp_path) -> Path:
    db, key_file, _ = november
    shutil.copy(db, run_cli.db)
    bundle = tmp_path / "evidence-2026-11.zip"
    result = run_cli("evidence", "export", "--month", "2026-11", "--output", str(bundle),
                     config=with_key(spec_config, key_file), now="2026-12-03T09:00:00Z")
    assert result.code == 0, result.err
    assert result.out.startswith(f"wrote {bundle}: 2026-11, the chain to its close (link ")
    return bundle


def test_a_months_bundle_checks_out_for_the_vendor_with_the_customers_public_key(run_cli, spec_config, november,
                                                                               tmp_path, capsys):
    bundle = export_bundle(run_cli, spec_config, november, tmp_path)
    public_file = tmp_path / "customer.pem"
    public_file.write_text(november[2])
    with zipfile.ZipFile(bundle) as opened:
        assert sorted(opened.namelist()) == ["README.txt", "chain.jsonl", "fleet.json", "manifest.json",
                                             "public-key.pem", "records.json", "report.json", "samples.jsonl.gz"]
        report = json.loads(opened.read("report.json"))
        assert "127.0.0.1" not in opened.read("fleet.json").decode()  # the engine's inputs, not the config's URLs
    (region,) = report["regions"]
    assert region["region"] == "eu-west" and region["downtime_minutes"] != "0.00"  # the outage counted
    # The vendor's check: no config, no store, only the bundle and the key they were given.
    assert main(["evidence", "verify", str(bundle), "--public-key", str(public_file)]) == 0
    out = capsys.readouterr().out
    assert "chain: holds" in out and "signature of the month's close: valid" in out
    assert "figures computed again from the bundle: equal to the report" in out
    # The claim letter cites the close the bundle ends with.
    close = next(json.loads(line) for line in zipfile.ZipFile(bundle).read("chain.jsonl").decode().splitlines()
                 if json.loads(line)["kind"] == "month")
    claim = run_cli("claim", "--month", "2026-11", "--format", "markdown", "--force", now="2026-12-03T09:00:00Z",
                    config=with_key(spec_config, november[1]))
    assert claim.code == 0, claim.err
    assert (f"Its close of 2026-11 is link {close['seq']}, hash {close['link']}, signed with our Ed25519 key, whose "
            "public half is below" in claim.out), claim.out
    assert november[2].strip() in claim.out  # the public key, printed in the letter


@pytest.mark.parametrize("tamper, expected", [
    ("sample", ["chain: BROKEN: samples batches", "figures computed again from the bundle: DIFFERENT"]),
    ("report", ["chain: holds", "figures computed again from the bundle: DIFFERENT",
                "eu-west availability_percent: the report says 100.000000"]),
    ("record", ["chain: BROKEN: maintenance maintenance/1", "figures computed again from the bundle: DIFFERENT"]),
    ("key", ["chain: holds", "signature of the month's close: INVALID"]),
    ("gap", ["chain: BROKEN: evidence link 2 (link 2): missing: the chain jumps from link 1 to 3"]),
])
def test_a_tampered_bundle_or_another_key_fails_the_vendors_check(run_cli, spec_config, november, tmp_path, capsys,
                                                                 tamper, expected):
    bundle = export_bundle(run_cli, spec_config, november, tmp_path)
    # A forger with this code: the contents changed, then packed as the monitor packs them.
    with zipfile.ZipFile(bundle) as opened:
        files = {name: opened.read(name) for name in opened.namelist()}
    files["samples.jsonl.gz"] = gzip.decompress(files["samples.jsonl.gz"])
    files = {name: content.decode() for name, content in files.items()}
    if tamper == "sample":  # a failed sample of the outage made a success
        lines = files["samples.jsonl.gz"].splitlines()
        at = next(i for i, line in enumerate(lines) if json.loads(line)["ok"] == 0)
        lines[at] = lines[at].replace('"ok": 0', '"ok": 1')
        files["samples.jsonl.gz"] = "\n".join(lines) + "\n"
    elif tamper == "report":
        report = json.loads(files["report.json"])
        report["regions"][0]["availability_percent"] = "100.000000"
        files["report.json"] = json.dumps(report)
    elif tamper == "gap":  # a link left out
        files["chain.jsonl"] = "".join(line + "\n" for i, line in enumerate(files["chain.jsonl"].splitlines()) if i != 1)
    elif tamper == "record":  # the late notice made timely
        records = json.loads(files["records.json"])
        records["maintenance"][0]["announced_at_ms"] -= 3 * DAY
        files["records.json"] = json.dumps(records)
    forged = tmp_path / "forged.zip"
    forged.write_bytes(packed([(name, gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
                               for name, text in files.items()]))
    key = tmp_path / "other.pem"
    public = generate(tmp_path / "other-private.pem") if tamper == "key" else november[2]
    key.write_text(public)
    assert main(["evidence", "verify", str(forged), "--public-key", str(key)]) == 2
    captured = capsys.readouterr()
    assert "the bundle does not check out" in captured.err
    out = captured.out
    for line in expected:
        assert line in out, out


def test_a_bundle_is_refused_for_a_month_not_closed_and_a_file_that_is_not_one(run_cli, spec_config, november,
                                                                             tmp_path, capsys):
    shutil.copy(november[0], run_cli.db)
    result = run_cli("evidence", "export", "--month", "2026-10", "--output", str(tmp_path / "oct.zip"))
    assert result.code == 2 and "--month 2026-10: the month is not closed in the evidence chain" in result.err
    assert not (tmp_path / "oct.zip").exists()
    not_a_bundle = tmp_path / "notes.zip"
    not_a_bundle.write_text("hello")
    assert main(["evidence", "verify", str(not_a_bundle)]) == 2
    assert "notes.zip: not an evidence bundle" in capsys.readouterr().err


@pytest.mark.parametrize("config", ["tests/fixtures/spec.yaml", "config/demo.yaml", "config/demo-month.yaml"])
def test_the_fleet_a_bundle_carries_reads_back_exactly(config):
    fleet = to_fleet(load_config(config, sends=False))
    document = json.loads(json.dumps(fleet_document(fleet)))  # through JSON text, as the bundle carries it
    assert fleet_of(document) == fleet


def test_two_writers_sharing_a_postgresql_store_keep_one_chain(pg_server):
    """Two instances commit at once: the chain's lock makes them take turns, so neither builds on a head
    the other has moved on from."""
    url = pg_server.fresh_url()
    stores = [open_store(url), open_store(url)]
    failures = []

    def write(store, probe: str) -> None:
        try:
            for minute in range(80):
                store.append_samples([Sample(probe, "local", NOV + minute * MIN, minute % 9 != 0, 1.5, None)], STALE)
        except Exception as exc:  # noqa: BLE001 - reported below, with the thread's own error
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(store, probe)) for store, probe in zip(stores, ("w", "u"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        verdict = verify_store(stores[0], STALE)
        assert verdict.holds, verdict.breaks
        assert (verdict.batches, verdict.samples, verdict.timelines) == (160, 160, 2)
    finally:
        for store in stores:
            store.close()


def test_a_store_from_before_the_chain_is_not_broken_and_a_deleted_chain_is(run_cli, chained_db, tmp_path):
    # A store as an earlier version left it: samples without batch numbers, no link.
    Store.open(run_cli.db).close()
    con = sqlite3.connect(run_cli.db)
    con.execute("INSERT INTO probes (name) VALUES ('w')")
    con.execute("INSERT INTO vantages (name) VALUES ('local')")
    con.execute("INSERT INTO samples (probe_id, vantage_id, ts, ok) VALUES (1, 1, ?, 1)", [NOV])
    con.commit()
    con.close()
    result = run_cli("evidence", "verify")
    assert result.code == 0 and "no evidence chain yet: it begins with the store's next write" in result.out
    # A chained store whose links were all deleted.
    emptied = tmp_path / "emptied.db"
    shutil.copy(chained_db, emptied)
    con = sqlite3.connect(emptied)
    con.execute("DELETE FROM evidence")
    con.commit()
    con.close()
    result = verify(run_cli, emptied)
    assert result.code == 1 and "BROKEN: evidence the chain (no link): no link at all, yet 260 samples" in result.out


def test_keygen_and_export_refuse_what_they_would_overwrite_or_cannot_write(run_cli, spec_config, november, tmp_path,
                                                                           capsys):
    assert main(["evidence", "keygen", "--output", str(tmp_path / "no-such-folder" / "key.pem")]) == 2
    assert "no folder" in capsys.readouterr().err
    bundle = export_bundle(run_cli, spec_config, november, tmp_path)
    before = bundle.read_bytes()
    result = run_cli("evidence", "export", "--month", "2026-11", "--output", str(bundle))
    assert result.code == 2 and "the file exists" in result.err and bundle.read_bytes() == before
    result = run_cli("evidence", "export", "--month", "2026-13", "--output", str(tmp_path / "x.zip"))
    assert result.code == 2 and "2026-13" in result.err and not (tmp_path / "x.zip").exists()


def test_any_byte_of_a_bundle_flipped_fails_the_check(run_cli, spec_config, november, tmp_path, capsys):
    """Every header and the start and end of every member, and bytes spread over the rest: a damaged zip
    (its CRC), an altered header (the canonical packing), each a clear error, exit 2."""
    bundle = export_bundle(run_cli, spec_config, november, tmp_path)
    data = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as opened:
        infos = opened.infolist()
    offsets = set(range(0, 64)) | set(range(len(data) - 200, len(data)))  # the first header, the central directory
    for info in infos:
        start = info.header_offset + 30 + len(info.filename)  # the member's data, after its local header
        offsets |= set(range(info.header_offset, start + 4)) | {start + info.compress_size - 1}
    offsets |= set(range(0, len(data), len(data) // 97))
    flipped = tmp_path / "flipped.zip"
    survived = []
    for offset in sorted(offsets):
        damaged = bytearray(data)
        damaged[offset] ^= 0x01
        flipped.write_bytes(damaged)
        if main(["evidence", "verify", str(flipped)]) != 2:
            survived.append(offset)
        capsys.readouterr()
    assert survived == [] and len(offsets) > 300
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    assert main(["evidence", "verify", str(truncated)]) == 2
    assert "not an evidence bundle, or a damaged one" in capsys.readouterr().err


def test_a_bundle_verifies_in_a_fresh_virtualenv_with_only_the_package(run_cli, spec_config, november, tmp_path):
    """The vendor's side: a new virtualenv, `pip install` of the package and nothing else, no config."""
    bundle = export_bundle(run_cli, spec_config, november, tmp_path)
    public = tmp_path / "customer.pem"
    public.write_text(november[2])
    venv = tmp_path / "vendor"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(Path(__file__).parent.parent)], check=True,
                   capture_output=True)
    checked = subprocess.run([str(venv / "bin" / "sla-monitor"), "evidence", "verify", str(bundle), "--public-key",
                              str(public)], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "signature of the month's close: valid" in checked.stdout
    assert "figures computed again from the bundle: equal to the report" in checked.stdout


def test_a_bundle_carries_the_vendors_word_and_the_tickets(run_cli, spec_config, tmp_path, capsys):
    """The records issue 27 added (a ticket with its timeline, the vendor's SLA report with its incident
    summary, its status page's posts) travel in the bundle and the vendor's recompute agrees on them."""
    from monitor.sla.model import VendorPost
    from monitor.storage.interface import TicketFields

    config = tmp_path / "with-page.yaml"
    config.write_text(spec_config.read_text() + '\nvendor_status: {url: "http://127.0.0.1:9", components: {"EU West": eu-west}}\n')
    store = Store.open(run_cli.db)
    outage = NOV + 9 * DAY + 600 * MIN
    with store.transaction():
        store.import_samples([(probe, "local", ts, not (probe == "w" and outage <= ts < outage + 40 * MIN), 20.0,
                               None, None) for ts in range(NOV - DAY, NOV + 31 * DAY, MIN) for probe in ("w", "g", "u")],
                             STALE)
    store.add_incident(region="eu-west", component=None, severity="P1", opened_ms=outage, resolved_ms=outage + 300 * MIN,
                       title="calls fail", by="import", now_ms=outage + DAY,
                       ticket=TicketFields("zendesk:1", outage + 10 * MIN, (outage + 70 * MIN,)))
    store.set_vendor_report({"month": "2026-11", "region": "eu-west", "availability_percent": "99.99",
                             "stated_downtime_ms": None, "incidents": json.dumps([[outage, outage + 5 * MIN, "blip"]]),
                             "note": ""}, "ops", NOV + 30 * DAY)
    store.record_vendor_posts([VendorPost("te-1", ("eu-west",), "Degraded", "minor", None, outage + 35 * MIN,
                                          outage + 50 * MIN)], outage + 36 * MIN, outage + 36 * MIN)
    key_file = tmp_path / "key.pem"
    generate(key_file)
    key = load(str(key_file))
    close_due(store, NOV + 30 * DAY + 5_000, ZoneInfo("UTC"), lambda text: sign(key, text))
    store.close()
    bundle = tmp_path / "evidence-2026-11.zip"
    result = run_cli("evidence", "export", "--month", "2026-11", "--output", str(bundle),
                     config=with_key(config, key_file), now="2026-12-03T09:00:00Z")
    assert result.code == 0, result.err
    with zipfile.ZipFile(bundle) as opened:
        (region,) = json.loads(opened.read("report.json"))["regions"]
    assert region["vendor_status"]["median_lag_minutes"] == 35.0
    assert region["vendor_report"]["unlisted_outages"] == []
    assert next(i for i in region["incidents"] if i["ticket"])["communication"]["response_minutes"] == 10.0
    assert main(["evidence", "verify", str(bundle)]) == 0, capsys.readouterr()
