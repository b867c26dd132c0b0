"""The store: segments folded incrementally equal a fold of all samples, whatever the order of arrival."""
from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings, strategies as st

from monitor.sla.timeline import dedupe_sorted, fold_segments
from monitor.storage import Store
from monitor.storage.schema import SCHEMA_VERSION

STALE = 180


def stored_segments(store: Store, probe_id: int, vantage_id: int):
    rows = store.db.execute(
        "SELECT start_ms, end_ms, ok, cause FROM segments WHERE probe_id=? AND vantage_id=? ORDER BY start_ms",
        [probe_id, vantage_id]).fetchall()
    return [(a, b, None if ok is None else bool(ok), cause) for a, b, ok, cause in rows]


def insert_batch(store: Store, pid: int, vid: int, batch):
    """Samples ``(ts, ok)`` or ``(ts, None, cause)`` (unknown)."""
    with store.transaction():
        store.insert_samples([(pid, vid, ts, ok, None, None, None, cause[0] if cause else None, None)
                              for ts, ok, *cause in batch])
        store.refold(pid, vid, min(s[0] for s in batch), max(s[0] for s in batch), STALE)


# Up, down, and unknown for two different causes: runs of each must fold and refold alike.
state = st.sampled_from([(True,), (False,), (None, "vantage_unhealthy"), (None, "monitor_fault")])
sample = st.tuples(st.integers(0, 2000).map(lambda t: t * 20), state).map(lambda s: (s[0], *s[1]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(sample, min_size=1, max_size=12), min_size=1, max_size=6))
def test_incremental_refold_equals_full_fold(tmp_path_factory, batches):
    store = Store.open(tmp_path_factory.mktemp("s") / "s.db")
    pid, vid = store.id_for("probes", "p"), store.id_for("vantages", "local")
    arrived = []
    for batch in batches:
        insert_batch(store, pid, vid, batch)
        arrived.extend(batch)  # later arrivals of the same ts win, as INSERT OR REPLACE does
        expected = [tuple(s) for s in fold_segments(dedupe_sorted(arrived), STALE)]
        assert stored_segments(store, pid, vid) == expected
    store.close()


# The daemon's batches: each timeline's new samples come after its stored ones (the store refolds only
# its last segment with them), steps of 20 to 400 (over STALE: a gap), sometimes one ts twice in a batch.
step = st.sampled_from([20, 20, 20, 60, 400])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(step, state, st.booleans()), min_size=1, max_size=8), min_size=1,
                        max_size=8))
def test_appended_batches_equal_a_full_fold(tmp_path_factory, batches):
    from monitor.samples import Sample

    store = Store.open(tmp_path_factory.mktemp("a") / "a.db")
    ts, arrived = 0, []
    for batch in batches:
        samples = []
        for gap, (ok, *cause), again in batch:
            ts += 0 if again and samples else gap  # ``again``: the same ts as the previous sample (it replaces it)
            samples.append(Sample("p", "local", ts, ok, None, cause=cause[0] if cause else None))
        store.append_samples(samples, {"p": STALE})
        arrived += [(s.ts_ms, s.ok, s.cause) for s in samples]
        expected = [tuple(s) for s in fold_segments(dedupe_sorted(arrived), STALE)]
        assert stored_segments(store, store.id_for("probes", "p"), store.id_for("vantages", "local")) == expected
    store.close()


def test_reimport_is_idempotent(tmp_path):
    store = Store.open(tmp_path / "s.db")
    pid, vid = store.id_for("probes", "p"), store.id_for("vantages", "local")
    batch = [(t * 60, t % 7 != 3) for t in range(100)]
    insert_batch(store, pid, vid, batch)
    first = (stored_segments(store, pid, vid), store.counts())
    insert_batch(store, pid, vid, batch)
    insert_batch(store, pid, vid, batch[40:60])
    assert (stored_segments(store, pid, vid), store.counts()) == first


def test_wal_mode_and_schema_version(tmp_path):
    Store.open(tmp_path / "s.db").close()
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8  # 8: tickets imported as incidents (issue 27)


def test_pruned_samples_keep_segments_and_refuse_backfill(tmp_path):
    store = Store.open(tmp_path / "s.db")
    pid, vid = store.id_for("probes", "p"), store.id_for("vantages", "local")
    insert_batch(store, pid, vid, [(t * 60, t != 5) for t in range(20)])
    segments = stored_segments(store, pid, vid)
    assert store.prune_samples(600) == 10
    assert stored_segments(store, pid, vid) == segments
    import pytest
    from monitor.storage import StoreError
    with pytest.raises(StoreError, match="pruned"):
        insert_batch(store, pid, vid, [(300, True)])
    assert stored_segments(store, pid, vid) == segments


def test_a_version_1_store_migrates_forward_keeping_its_data(tmp_path):
    import sqlite_utils
    from monitor.storage.schema import MIGRATIONS

    path = tmp_path / "v1.db"
    db = sqlite_utils.Database(path)
    with db.atomic():
        MIGRATIONS[0](db)
        db.execute("INSERT INTO probes (id, name) VALUES (1, 'p')")
        db.execute("INSERT INTO vantages (id, name) VALUES (1, 'local')")
        db.execute("INSERT INTO samples VALUES (1, 1, 60000, 0, 12.5, 'HTTP 503')")
        db.execute("INSERT INTO segments VALUES (1, 1, 60000, 240000, 0)")
        db.execute("PRAGMA user_version = 1")
    db.close()
    store = Store.open(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("SELECT ts, ok, error, detail, cause FROM samples").fetchall() == [
        (60000, 0, "HTTP 503", None, None)]
    assert store.segments_between(0, 10**9) == {("p", "local"): [(60000, 240000, 0, None)]}
    # Version 4 stores unknown: ok NULL with its cause, in both tables, and keeps the clustered keys.
    with store.transaction():
        store.insert_samples([(1, 1, 120000, None, None, "vantage unhealthy", None, "vantage_unhealthy", None)])
        store.refold(1, 1, 120000, 120000, 180000)
    assert store.segments_between(0, 10**9)[("p", "local")] == [(60000, 120000, 0, None),
                                                               (120000, 300000, None, "vantage_unhealthy")]
    tables = dict(store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    assert "WITHOUT ROWID" in tables["samples"] and "WITHOUT ROWID" in tables["segments"]
    store.close()
