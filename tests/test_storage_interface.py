"""The storage interface has three implementations, SQLite (``Store``), PostgreSQL (``PgStore``, on a
real server) and memory (``MemoryStore``): the same operations give the same answers on each, down to
the month's report, and the daemon's writer and reader run on any."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from monitor.accounting import daily_bars, month_report
from monitor.config import load_config, to_fleet
from monitor.hooks import events
from monitor.hooks.events import routed
from monitor.live.dbthread import DbThread
from monitor.probes import Sample
from monitor.reports.serialize import report_json
from monitor.storage import Storage, Store, StoreError
from monitor.storage import open_store as open_url
from monitor.storage.memory import MemoryStore

FIXTURES = Path(__file__).parent / "fixtures"
MIN = 60_000
NOV = 1_793_491_200_000  # 2026-11-01T00:00:00Z
KINDS = ["sqlite", "memory", "postgresql"]


def open_store(kind: str, tmp_path: Path, pg_server) -> Storage:
    if kind == "postgresql":
        return open_url(pg_server.fresh_url())
    return Store.open(tmp_path / f"{kind}.db") if kind == "sqlite" else MemoryStore()


@pytest.fixture
def both(tmp_path, pg_server):
    stores = [open_store(kind, tmp_path, pg_server) for kind in KINDS]
    yield stores
    for store in stores:
        store.close()


def same(stores, operation):
    """``operation`` on each store; the answers, which must all be equal."""
    answers = [operation(store) for store in stores]
    assert all(answer == answers[0] for answer in answers), answers
    return answers[0]


# Up, down and unknown for a cause, at whole-minute instants (some repeated: the later one wins).
state = st.sampled_from([(True, None), (False, None), (None, "vantage_unhealthy"), (None, "monitor_fault")])
sample = st.tuples(st.integers(0, 300), st.sampled_from(["w", "g"]), state)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(sample, min_size=1, max_size=15), min_size=1, max_size=5))
def test_segments_and_history_agree_whatever_the_order_of_arrival(tmp_path_factory, pg_server, batches):
    stores = [open_store(kind, tmp_path_factory.mktemp(kind), pg_server) for kind in KINDS]
    try:
        for batch in batches:
            samples = [Sample(probe, "local", NOV + minute * MIN, ok, float(5 + minute % 7) if ok else None,
                              None if ok else "HTTP 503", cause=cause) for minute, probe, (ok, cause) in batch]
            for store in stores:
                store.append_samples(samples, {"w": 3 * MIN, "g": 3 * MIN})
        same(stores, lambda s: {k: [tuple(x) for x in v] for k, v in s.segments_between(NOV, NOV + 400 * MIN).items()})
        same(stores, lambda s: {k: [tuple(x) for x in v] for k, v in s.segments_between(NOV + 100 * MIN,
                                                                                           NOV + 101 * MIN).items()})
        same(stores, lambda s: s.live_history("local", 2))
        same(stores, lambda s: s.down_samples(["w"], NOV, NOV + 400 * MIN))
        # whole-number latencies: the means are exact whatever the order of summing
        same(stores, lambda s: s.latency_series(["w", "g"], NOV + 7 * MIN, NOV + 290 * MIN, 15 * MIN))
        same(stores, lambda s: s.samples_between(NOV + 7 * MIN, NOV + 290 * MIN))
    finally:
        for store in stores:
            store.close()


def test_an_aggregator_reads_every_vantages_samples_by_time(both):
    """What an aggregator on a shared store reads: each vantage's samples in the window, unknown ones too,
    by time then vantage, the later of two at one instant, nothing outside the window."""
    def at(minute, vantage, ok, error=None):
        return Sample("w", vantage, NOV + minute * MIN, ok, 12.0 if ok else None, error)

    for store in both:
        store.append_samples([at(1, "b", True), at(2, "b", False, "HTTP 503"), at(5, "b", True)], {"w": 3 * MIN})
        store.append_samples([at(2, "a", True), at(3, "a", None), at(2, "a", False, "refused")], {"w": 3 * MIN})
    read = same(both, lambda s: s.samples_between(NOV + 2 * MIN, NOV + 5 * MIN))
    assert read == [at(2, "a", False, "refused"), at(2, "b", False, "HTTP 503"), at(3, "a", None)]


class Refused(Exception):
    """A line the importer refuses, half-way through an import."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(sample, max_size=10), rows=st.lists(sample, min_size=1, max_size=40),
       refused_at=st.none() | st.integers(0, 39))
def test_bulk_import_agrees_and_a_refused_one_leaves_nothing(tmp_path_factory, pg_server, before, rows, refused_at):
    """Through the protocol alone: samples imported in one transaction fold into the same segments on
    both stores (the later of two at one instant wins), and an import refused half-way changes nothing."""
    stores = [open_store(kind, tmp_path_factory.mktemp(kind), pg_server) for kind in KINDS]
    stale = {"w": 3 * MIN, "g": 3 * MIN}

    def stream(first: int, end: int):
        for i, (minute, probe, (ok, cause)) in enumerate(rows[first:end], first):
            if i == refused_at:
                raise Refused(f"line {i + 1}")
            yield probe, "local", NOV + minute * MIN, ok, 5.0 if ok else None, None if ok else "HTTP 503", cause

    def segments(store):
        return {k: [tuple(x) for x in v] for k, v in store.segments_between(NOV - MIN, NOV + 400 * MIN).items()}

    try:
        for store in stores:
            store.append_samples([Sample(probe, "local", NOV + minute * MIN, ok, None, cause=cause)
                                  for minute, probe, (ok, cause) in before], stale)
        unchanged = same(stores, segments)
        counts = []
        for store in stores:
            half = len(rows) // 2
            try:
                with store.transaction():  # two imports in one transaction: the first is undone too
                    counts.append([store.import_samples(stream(0, half), stale)[0],
                                   store.import_samples(stream(half, len(rows)), stale)[0]])
            except Refused:
                counts.append(None)
        assert counts[0] == counts[1]
        assert counts[0] == (None if refused_at is not None and refused_at < len(rows)
                             else [len(rows) // 2, len(rows) - len(rows) // 2])
        after = same(stores, segments)
        if counts[0] is None:
            assert after == unchanged
        same(stores, lambda s: s.live_history("local", 3))
    finally:
        for store in stores:
            store.close()


def test_records_agree_and_refuse_alike(both):
    for store in both:
        store.add_maintenance(region="eu-west", start_ms=NOV, end_ms=NOV + 60 * MIN, kind="scheduled",
                              announced_at_ms=NOV - 72 * 60 * MIN, reason="upgrade", by="ops", now_ms=NOV,
                              source_uid="w1@vendor.example")
        store.add_maintenance(region=None, start_ms=NOV - MIN, end_ms=NOV + MIN, kind="emergency",
                              announced_at_ms=None, reason="fire", by="ops", now_ms=NOV)
        store.cancel_maintenance(1, "ops", NOV + 1)
        store.add_exclusion(region=None, start_ms=NOV, end_ms=NOV + MIN, cause="customer", note="theirs", by="ops",
                            now_ms=NOV)
        store.add_incident(region="eu-west", component=None, severity="P2", opened_ms=NOV, resolved_ms=None,
                           title="slow", by="ops", now_ms=NOV)
        store.resolve_incident("1", resolved_ms=NOV + 30 * MIN, by="ops", now_ms=NOV + 30 * MIN)
        store.resolve_incident("eu-west/region/2026-11-01T00:00:00Z", severity="P3", by="ops", now_ms=NOV)
    same(both, lambda s: s.load_records())
    same(both, lambda s: s.maintenance_rows())
    same(both, lambda s: s.maintenance_rows(2))
    same(both, lambda s: s.exclusion_rows())
    for operation in (lambda s: s.cancel_maintenance(1, "ops", NOV), lambda s: s.cancel_maintenance(9, "ops", NOV),
                      lambda s: s.resolve_incident("7", resolved_ms=NOV + MIN, by="ops", now_ms=NOV),
                      lambda s: s.resolve_incident("1", resolved_ms=NOV - MIN, by="ops", now_ms=NOV)):
        messages = []
        for store in both:
            with pytest.raises(StoreError) as refused:
                operation(store)
            messages.append(str(refused.value))
        assert messages[0] == messages[1]


def test_outbox_agrees(both):
    opened = events.outage_opened("eu-west", NOV, NOV + MIN)
    resolved = events.outage_resolved("eu-west", NOV, NOV + 5 * MIN)
    unrouted = events.third_party("genesys", "Genesys Cloud", True, NOV + 2 * MIN, NOV)
    for store in both:
        assert store.record_events([(opened, ["ops", "chat"]), (resolved, ["ops"]), (unrouted, [])]) == 3
        assert store.record_events([(opened, ["ops"])]) == 0  # once, whatever happens
    same(both, lambda s: s.due_deliveries(NOV + 10 * MIN))
    for store in both:
        store.mark_delivery(1, "ops", "pending", 1, NOV + 60 * MIN, "HTTP 503", NOV + 2 * MIN)
        store.mark_delivery(1, "chat", "delivered", 1, NOV + 2 * MIN, None, NOV + 2 * MIN)
    due = same(both, lambda s: s.due_deliveries(NOV + 10 * MIN))
    assert due == {}  # ops is blocked behind its first retry, in order
    same(both, lambda s: s.expire_deliveries("ops", NOV + 2 * MIN, NOV + 20 * MIN))
    same(both, lambda s: s.pending_deliveries())
    same(both, lambda s: s.event_log(10))


def test_a_delivery_is_claimed_by_one_caller_until_its_claim_runs_out(both):
    opened = events.outage_opened("eu-west", NOV, NOV + MIN)
    resolved = events.outage_resolved("eu-west", NOV, NOV + 3 * MIN)
    for store in both:
        store.record_events([(opened, ["ops"]), (resolved, ["ops"])])
    now = NOV + 4 * MIN
    assert same(both, lambda s: s.claim_delivery(1, "ops", now, now + MIN, "a@host1")) is True
    assert same(both, lambda s: s.claim_delivery(1, "ops", now + 1, now + 2 * MIN, "b@host2")) is False  # taken
    assert same(both, lambda s: s.due_deliveries(now + 30_000)) == {}  # not due to anyone, nor what waits behind
    later = now + MIN  # a died holding it: the claim ran out, b takes it over
    assert same(both, lambda s: s.claim_delivery(1, "ops", later, later + MIN, "b@host2")) is True
    assert same(both, lambda s: s.release_claims("a@host1", later)) == 0  # a restarted: it holds nothing now
    assert same(both, lambda s: s.release_claims("b@host2", later + 1)) == 1  # b restarted mid-attempt
    assert [seq for seq, _, _ in same(both, lambda s: s.due_deliveries(later + 1))["ops"]] == [1, 2]
    for store in both:
        store.mark_delivery(1, "ops", "delivered", 1, later, None, later)
    assert same(both, lambda s: s.claim_delivery(1, "ops", later + 5 * MIN, later + 6 * MIN, "a@host1")) is False
    assert same(both, lambda s: s.claim_delivery(3, "ops", now, now + MIN, "a@host1")) is False  # no such delivery


def test_the_conditions_a_restart_picks_up_agree(both):
    """Still open: a certificate warned about (its renewal never came) and the vantage's second
    degraded spell; ended: the first spell, and another certificate renewed."""
    spell = events.vantage_health("local", False, NOV, NOV, "0/1 control targets ok")
    recovered = events.vantage_health("local", True, NOV, NOV + MIN, "1/1 control targets ok")
    spell_again = events.vantage_health("local", False, NOV + 9 * MIN, NOV + 9 * MIN, "0/1 control targets ok")
    expiring = events.certificate("edge-tls", "eu-west", NOV + 5 * 1440 * MIN, True, NOV, "5 days left", NOV)
    renewed_one = events.certificate("old-tls", "eu-west", NOV + 3 * 1440 * MIN, True, NOV, "3 days left", NOV)
    renewal = events.certificate("old-tls", "eu-west", NOV + 3 * 1440 * MIN, False, NOV + 2 * MIN, "valid", NOV)
    for store in both:
        store.record_events([(e, []) for e in (spell, expiring, renewed_one, recovered, renewal, spell_again)])
    still = same(both, lambda s: s.open_conditions())
    assert [e.id for e in still] == [expiring.id, spell_again.id]


def test_the_month_agrees_on_every_store(both):
    """The engine through the interface: the same report, evidence and daily bars from either store."""
    fleet = to_fleet(load_config(FIXTURES / "spec.yaml"))
    down = {"w": [(NOV + 3 * 1440 * MIN, NOV + 3 * 1440 * MIN + 80 * MIN)],
            "g": [(NOV + 3 * 1440 * MIN + 10 * MIN, NOV + 3 * 1440 * MIN + 30 * MIN)]}
    samples = [Sample(probe, "local", t, not any(a <= t < b for a, b in down[probe]), 5.0, None)
               for t in range(NOV - 2 * 1440 * MIN, NOV + 6 * 1440 * MIN, MIN) for probe in ("w", "g")]
    now = NOV + 6 * 1440 * MIN
    for store in both:
        store.append_samples(samples, {"w": 3 * MIN, "g": 3 * MIN})
        store.add_exclusion(region=None, start_ms=NOV + 3 * 1440 * MIN + 35 * MIN, end_ms=NOV + 3 * 1440 * MIN + 38 * MIN,
                            cause="customer", note="theirs", by="ops", now_ms=now)
    report = same(both, lambda s: report_json(month_report(s, fleet, 2026, 11, now)))
    region = report["regions"][0]
    assert region["downtime_ms"] > 0 and any(e["reason"] == "third_party" for p in region["periods"]
                                             for e in p["exclusions"])
    same(both, lambda s: daily_bars(s, fleet, now, days=7))


async def test_the_daemons_store_thread_runs_on_every_store(tmp_path, pg_server):
    """The writer's named operations through DbThread, on the SQLite file, in memory and on PostgreSQL."""
    answers = []
    for kind in KINDS:
        db = DbThread(lambda kind=kind: open_store(kind, tmp_path, pg_server))
        await db.start()
        sample = Sample("w", "local", NOV, False, None, "HTTP 503")
        await db.call(Storage.append_samples, [sample], {"w": 3 * MIN},
                      routed([events.outage_opened("eu-west", NOV, NOV)], []))
        new_id = await db.call(Storage.add_maintenance, region=None, start_ms=NOV, end_ms=NOV + MIN,
                               kind="emergency", announced_at_ms=None, reason="fire", by="api", now_ms=NOV)
        answers.append((await db.call(Storage.live_history, "local", 3), await db.call(Storage.maintenance_rows, new_id),
                        await db.call(Storage.event_log), await db.call(Storage.load_records)))
        await db.close()
    assert answers[0] == answers[1] == answers[2]
