"""What the SQL stores share: samples, state segments, records and the outbox written once, in the SQL
that SQLite and PostgreSQL both speak (``sql.Sql`` runs it). A store of an engine subclasses
``SqlStore`` with how it opens, migrates and makes a transaction (``store.Store`` for SQLite,
``postgres.PgStore``). Instants are integer UTC milliseconds throughout."""
from __future__ import annotations

import contextlib
import itertools
import json
from typing import Any, Iterable, Iterator, Mapping, Sequence, cast

from ..outbox import Routed
from ..samples import Sample
from ..sla.calendar import iso
from ..sla.model import Segment
from ..sla.timeline import SegmentMap, fold_segments
from . import bulk
from .chain import stored_form
from .chained import ChainMixin
from .errors import pruned
from .interface import ImportRow, LatencyBucket, StoredSample
from .outbox import OutboxMixin
from .records import RecordsMixin
from .schema import SCHEMA_VERSION
from .sql import Sql

# probe_id, vantage_id, ts, ok (1, 0, or None: unknown), latency, error, detail (JSON text or None),
# cause (why unknown: vantage_unhealthy, monitor_fault, feed_unreadable; None when known)
SampleRow = tuple[int, int, int, int | None, float | None, str | None, str | None, str | None]


TAIL_CHUNK = 400  # timelines per tail query: 800 parameters, well inside either engine's limit


def segment_row(segment: Segment) -> tuple[int, int, int | None, str | None]:
    """A segment's columns after its key (ok None: unknown, with its cause)."""
    return segment.start_ms, segment.end_ms, None if segment.ok is None else int(segment.ok), segment.cause


class SqlStore(ChainMixin, RecordsMixin, OutboxMixin):
    """Implements ``storage.interface.Storage`` on ``sql``; its records and outbox operations live in
    ``records`` and ``outbox``. A subclass provides ``transaction`` (which clears ``_ids`` when it
    rolls back: the rows behind new ids are gone) and ``close``."""

    def __init__(self, sql: Sql):
        self.sql = sql
        self._ids: dict[tuple[str, str], int] = {}
        self._names: dict[tuple[str, int], str] = {}  # _ids the other way round
        self.migrated_from = SCHEMA_VERSION  # the schema's version when opened (0: created by this open)
        self.path = ""  # where it is, as messages name it (never a password)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def after_copy(self) -> None:
        """Once rows were copied in with their ids (``copy.copy_store``): make new ids follow them.
        SQLite's integer keys do by themselves."""

    # -- names ----------------------------------------------------------------------------------

    def id_for(self, table: str, name: str) -> int:
        """Integer id of a probe or vantage name, created on first use."""
        key = (table, name)
        if key not in self._ids:
            found = self._value(f"SELECT id FROM {table} WHERE name = ?", [name])
            if found is None:  # another instance may add the same name at the same time: then take its id
                found = (self._value(f"INSERT INTO {table} (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id",
                                     [name])
                         or self._value(f"SELECT id FROM {table} WHERE name = ?", [name]))
            self._ids[key] = int(found)
            self._names[(table, int(found))] = name
        return self._ids[key]

    def name_of(self, table: str, row_id: int) -> str:
        """The name of a probe or vantage id."""
        key = (table, row_id)
        if key not in self._names:
            name = self._value(f"SELECT name FROM {table} WHERE id = ?", [row_id])
            if name is None:
                raise KeyError(f"{table} has no id {row_id}")
            self._names[key] = name
        return self._names[key]

    def _forget_ids(self) -> None:
        """After a rollback: the rows behind new ids are gone, and their ids may name others next."""
        self._ids.clear()
        self._names.clear()

    def names(self, table: str) -> dict[int, str]:
        """id → name of every probe or vantage."""
        return {row[0]: row[1] for row in self.sql.all(f"SELECT id, name FROM {table}")}

    # -- samples and segments ---------------------------------------------------------------------

    def import_samples(self, rows: Iterable[ImportRow], stale_ms: Mapping[str, int]) -> tuple[int, int]:
        return bulk.import_samples(self, rows, stale_ms)

    def insert_samples(self, rows: Sequence[tuple]) -> None:
        """Insert or replace samples in their stored form (``chain.stored_form``: a ``SampleRow`` and the
        number of the chained batch it belongs to; same probe, vantage and ts: the later one wins). Call
        refold after."""
        self.sql.many(
            "INSERT INTO samples (probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause, batch)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (probe_id, vantage_id, ts) DO UPDATE SET ok = excluded.ok,"
            " latency_ms = excluded.latency_ms, error = excluded.error, detail = excluded.detail, cause = excluded.cause,"
            " batch = excluded.batch", rows)

    def write_samples(self, rows: Sequence[SampleRow], stale_ms: dict[int, int]) -> None:
        """Insert samples and refold each touched timeline, in one transaction (the daemon's batches).

        The daemon's common case, a timeline's new samples all after its last stored one, refolds only
        the timeline's last segment with them (``_fold_tail``); anything else takes ``refold``. The
        tails are read, and the segments they change written, a batch at a time: a statement per
        timeline would be a round trip each to a database server."""
        timelines: dict[tuple[int, int], dict[int, SampleRow]] = {}
        for row in rows:
            timelines.setdefault((row[0], row[1]), {})[row[2]] = row  # of equal ts, the later row wins
        before = self.pruned_before()
        with self.transaction():
            tails = self._tails(list(timelines))  # as the store was before this batch
            batch = self.next_batch()
            written = [stored_form(row, batch) for by_ts in timelines.values() for row in by_ts.values()]
            self.chain_batch(batch, written)
            self.insert_samples(written)
            ends, added = [], []
            for key, by_ts in timelines.items():
                lo, hi, stale, tail = min(by_ts), max(by_ts), stale_ms[key[0]], tails.get(key)
                if tail is not None and lo > tail[0] and (before is None or lo >= before + stale):
                    first, *more = self._fold_tail(tail, [by_ts[ts] for ts in sorted(by_ts)], stale)
                    ends.append((first.end_ms, *key, tail[1]))
                    added += [(*key, *segment_row(m)) for m in more]
                else:
                    self.refold(*key, lo, hi, stale)
            self.set_segment_ends(ends)
            self.sql.many("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?)", added)

    def set_segment_ends(self, ends: Sequence[tuple[int, int, int, int]]) -> None:
        """Move segments' ends: rows of (end_ms, probe_id, vantage_id, start_ms)."""
        self.sql.many("UPDATE segments SET end_ms=? WHERE probe_id=? AND vantage_id=? AND start_ms=?", ends)

    def _tails(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int, int | None, str | None]]:
        """Each timeline's last sample ts and the segment holding it (start, ok, cause); timelines with
        none are left out."""
        found = {}
        for chunk in (keys[i:i + TAIL_CHUNK] for i in range(0, len(keys), TAIL_CHUNK)):
            # VALUES names its columns column1, column2 in both engines.
            rows = self.sql.all(
                "SELECT t.column1, t.column2, t.last_ts, g.start_ms, g.ok, g.cause FROM (SELECT k.column1, k.column2,"
                " (SELECT max(ts) FROM samples s WHERE s.probe_id = k.column1 AND s.vantage_id = k.column2) AS last_ts,"
                " (SELECT max(start_ms) FROM segments g WHERE g.probe_id = k.column1 AND g.vantage_id = k.column2)"
                " AS last_start FROM (VALUES " + ", ".join(["(?, ?)"] * len(chunk)) + ") AS k) AS t"
                " JOIN segments g ON g.probe_id = t.column1 AND g.vantage_id = t.column2 AND g.start_ms = t.last_start",
                [value for key in chunk for value in key])
            found.update({(p, v): (last_ts, start, ok, cause) for p, v, last_ts, start, ok, cause in rows
                          if last_ts is not None and start <= last_ts})
        return found

    def _fold_tail(self, tail: tuple, rows: list[SampleRow], stale_ms: int) -> Iterator[Segment]:
        """The timeline's last segment refolded with samples that all come after its last sample: the
        segment's state stands for that sample (a segment is a run of one state), so the fold of it and
        the new samples, seeded at the segment's start, is what ``refold`` would compute. Its first
        segment is the last one extended (same start, same state); any others are new."""
        last_ts, start, ok, cause = tail
        samples = [(last_ts, ok, cause)] + [(row[2], row[3], row[7]) for row in rows]
        return fold_segments(samples, stale_ms, seed_start=start)

    def _insert_segments(self, key: tuple[int, int], segments: Iterable[Segment]) -> None:
        """Store a timeline's folded segments (ok None: unknown, with its cause)."""
        self.sql.many("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?)", [(*key, *segment_row(s)) for s in segments])

    def append_samples(self, samples: Sequence[Sample], stale_ms: Mapping[str, int], routed: Sequence[Routed] = ()) -> None:
        """Store samples, fold them into segments, and record the events they caused, in one transaction
        (names, samples, segments and events commit together or not at all)."""
        with self.transaction():
            if routed:
                self.record_events(routed)
            rows, stale = [], {}
            for s in samples:
                probe_id = self.id_for("probes", s.probe)
                stale[probe_id] = stale_ms[s.probe]
                detail = json.dumps(s.detail, separators=(",", ":")) if s.detail is not None else None
                rows.append((probe_id, self.id_for("vantages", s.vantage), s.ts_ms, s.ok, s.latency_ms, s.error, detail,
                             s.cause))
            if rows:
                self.write_samples(rows, stale)

    def live_history(self, vantage: str, per_probe: int) -> tuple[dict[str, list[tuple[int, bool | None]]], dict[str, int]]:
        """What the live state restarts from, by probe name: the newest ``per_probe`` samples at
        ``vantage`` (newest first) and, of probes down now, since when."""
        vantage_id = self.id_for("vantages", vantage)
        names = self.names("probes")
        return ({names[pid]: rows for pid, rows in self.last_samples(vantage_id, per_probe).items()},
                {names[pid]: ts for pid, ts in self.down_since(vantage_id).items()})

    def last_samples(self, vantage_id: int, per_probe: int) -> dict[int, list[tuple[int, bool | None]]]:
        """The newest ``per_probe`` samples of every probe at a vantage, newest first (live state on start);
        ok None is an unknown sample."""
        found: dict[int, list[tuple[int, bool | None]]] = {}
        for probe_id in self.names("probes"):
            rows = self.sql.all(
                "SELECT ts, ok FROM samples WHERE probe_id = ? AND vantage_id = ? ORDER BY ts DESC LIMIT ?",
                (probe_id, vantage_id, per_probe))
            if rows:
                found[probe_id] = [(ts, None if ok is None else bool(ok)) for ts, ok in rows]
        return found

    def down_since(self, vantage_id: int) -> dict[int, int]:
        """Per probe whose newest segment is down: where that segment starts (an open outage's start)."""
        found = {}
        for probe_id in self.names("probes"):
            row = self.sql.one(
                "SELECT start_ms, ok FROM segments WHERE probe_id = ? AND vantage_id = ? ORDER BY start_ms DESC LIMIT 1",
                (probe_id, vantage_id))
            if row is not None and row[1] == 0:  # None is unknown, not down
                found[probe_id] = row[0]
        return found

    def pruned_before(self) -> int | None:
        value = self.meta_value("samples_pruned_before_ms")
        return None if value is None else int(value)

    def refold(self, probe_id: int, vantage_id: int, lo_ts: int, hi_ts: int, stale_ms: int) -> None:
        """Rebuild the segments that samples with ts in ``[lo_ts, hi_ts]`` can have changed.

        Reads from the last sample before ``lo_ts`` (seeding the run it belongs to)
        through the end of the first segment starting after ``hi_ts``; segments
        beyond are unaffected because their samples' successors did not change.
        """
        key = (probe_id, vantage_id)
        before = self.pruned_before()
        if before is not None and lo_ts < before + stale_ms:
            raise pruned(iso(before), iso(before + stale_ms))
        q = self.sql.one
        prev = self._value("SELECT max(ts) FROM samples WHERE probe_id=? AND vantage_id=? AND ts < ?", (*key, lo_ts))
        seed_start = from_ts = None
        if prev is not None:
            from_ts = prev
            seed_start = self._value(
                "SELECT start_ms FROM segments WHERE probe_id=? AND vantage_id=? AND start_ms <= ?"
                " ORDER BY start_ms DESC LIMIT 1", (*key, prev))
        first = seed_start if seed_start is not None else lo_ts
        after = q(
            "SELECT end_ms FROM segments WHERE probe_id=? AND vantage_id=? AND start_ms > ? ORDER BY start_ms LIMIT 1",
            (*key, hi_ts),
        )
        within = self._value(
            "SELECT max(end_ms) FROM segments WHERE probe_id=? AND vantage_id=? AND start_ms >= ? AND start_ms <= ?",
            (*key, first, hi_ts))
        until = max(hi_ts + 1, after[0] if after else 0, within or 0)
        next_row = q(
            "SELECT ts FROM samples WHERE probe_id=? AND vantage_id=? AND ts >= ? ORDER BY ts LIMIT 1", (*key, until))
        samples = self.sql.all(
            "SELECT ts, ok, cause FROM samples WHERE probe_id=? AND vantage_id=? AND ts >= ? AND ts < ? ORDER BY ts",
            (*key, from_ts if from_ts is not None else lo_ts, until),
        )
        segments = fold_segments(samples, stale_ms, seed_start=seed_start, next_ts=next_row[0] if next_row else None)
        self.sql.run("DELETE FROM segments WHERE probe_id=? AND vantage_id=? AND start_ms >= ? AND start_ms < ?",
                     (*key, first, until))
        self._insert_segments(key, segments)

    def segments_between(self, lo: int, hi: int) -> SegmentMap:
        """Segments overlapping ``[lo, hi)`` as ``(start_ms, end_ms, ok, cause)`` rows sorted by start
        (ok None: unknown for ``cause``), keyed by (probe name, vantage name)."""
        probes, vantages = self.names("probes"), self.names("vantages")
        # One statement for every timeline, by the segments' ends: a window near now (the daemon's month
        # to date, today's bar) reads only the segments that end in it or later, on any store size; a
        # statement a timeline read each timeline from its first segment, and on PostgreSQL each was a
        # round trip.
        rows = self.sql.all("SELECT probe_id, vantage_id, start_ms, end_ms, ok, cause FROM segments"
                            " WHERE end_ms > ? AND start_ms < ? ORDER BY probe_id, vantage_id, start_ms", (lo, hi))
        found: dict[tuple[str, str], list[Segment]] = {}
        for (probe_id, vantage_id), timeline in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
            # Plain row tuples have Segment's shape and the engine reads them by index: no NamedTuple per row.
            found[(probes[probe_id], vantages[vantage_id])] = cast(list[Segment], [row[2:] for row in timeline])
        return found

    def down_samples(self, probes: Sequence[str], lo: int, hi: int) -> list[StoredSample]:
        """The down samples of ``probes`` (names) in ``[lo, hi)``, by time."""
        marks = ",".join("?" * len(probes))
        rows = self.sql.all(
            f"SELECT p.name, s.ts, s.error, s.detail, v.name FROM samples s JOIN probes p ON p.id = s.probe_id"
            f" JOIN vantages v ON v.id = s.vantage_id"
            f" WHERE p.name IN ({marks}) AND s.ok = 0 AND s.ts >= ? AND s.ts < ? ORDER BY s.ts",
            [*probes, lo, hi])
        return [StoredSample(*row) for row in rows]

    def samples_between(self, lo: int, hi: int) -> list[Sample]:
        """Every vantage's samples in ``[lo, hi)``, by time, then vantage."""
        probes, vantages = self.names("probes"), self.names("vantages")
        if not probes or not vantages:
            return []
        # Naming every probe and vantage lets the (probe, vantage, ts) key serve the time range.
        rows = self.sql.all(
            f"SELECT probe_id, vantage_id, ts, ok, latency_ms, error FROM samples"
            f" WHERE probe_id IN ({','.join('?' * len(probes))}) AND vantage_id IN ({','.join('?' * len(vantages))})"
            f" AND ts >= ? AND ts < ?", [*probes, *vantages, lo, hi])
        found = [Sample(probes[pid], vantages[vid], ts, None if ok is None else bool(ok), latency, error)
                 for pid, vid, ts, ok, latency, error in rows]
        return sorted(found, key=lambda s: (s.ts_ms, s.vantage, s.probe))

    def latency_series(self, probes: Sequence[str], lo: int, hi: int, bucket_ms: int) -> list[LatencyBucket]:
        """The successful samples of ``probes`` in ``[lo, hi)`` by bucket: mean and largest latency."""
        if not probes:
            return []
        # Names resolved in the statement: the daemon asks for each of 2,000 components in turn, and reading
        # every probe's name each time was most of its CPU at 20,000 probes (bench/RESULTS.md). Naming every
        # vantage lets the (probe, vantage, ts) key serve the time range.
        rows = self.sql.all(
            f"SELECT (ts / ?) * ? AS bucket, avg(latency_ms), max(latency_ms), count(*) FROM samples"
            f" WHERE probe_id IN (SELECT id FROM probes WHERE name IN ({','.join('?' * len(probes))}))"
            f" AND vantage_id IN (SELECT id FROM vantages)"
            f" AND ts >= ? AND ts < ? AND ok = 1 AND latency_ms IS NOT NULL GROUP BY bucket ORDER BY bucket",
            [bucket_ms, bucket_ms, *probes, lo, hi])
        return [LatencyBucket(*row) for row in rows]

    def prune_samples(self, before_ms: int) -> int:
        """Delete raw samples older than ``before_ms`` (segments stay); returns how many."""
        with self.transaction():
            count = self.sql.run("DELETE FROM samples WHERE ts < ?", [before_ms])
            self.sql.run("DELETE FROM samples_replaced WHERE ts < ?", [before_ms])
            current = self.pruned_before()
            if current is None or before_ms > current:
                self.set_meta("samples_pruned_before_ms", str(before_ms))
                self.chain_prune(before_ms)
        return count

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (for `status`-style output and tests)."""
        return {t: self.rows_in(t) for t in ("samples", "segments", "maintenance", "exclusions", "incidents")}

    def meta_value(self, key: str) -> str | None:
        """A value of the store's own ``meta`` table."""
        value = self._value("SELECT value FROM meta WHERE key = ?", [key])
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (None: remove) a value of the store's own ``meta`` table."""
        if value is None:
            self.sql.run("DELETE FROM meta WHERE key = ?", [key])
        else:
            self.sql.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         [key, value])

    def last_key(self, table: str, key: Sequence[str]) -> tuple:
        """The largest key ``table`` holds (empty when it holds no row)."""
        row = self.sql.one(f"SELECT {', '.join(key)} FROM {table} ORDER BY {', '.join(f'{k} DESC' for k in key)} LIMIT 1")
        return () if row is None else tuple(row)

    def rows_in(self, table: str) -> int:
        """How many rows ``table`` holds."""
        return int(self._value(f"SELECT count(*) FROM {table}"))

    def rows(self, sql: str, params: Iterable = ()) -> Iterator[dict]:
        """Rows of a query as dicts."""
        return iter(self.sql.dicts(sql, list(params)))

    def _value(self, sql: str, params: Sequence = ()) -> Any:
        """The first column of a query's first row (None when there is no row)."""
        row = self.sql.one(sql, params)
        return None if row is None else row[0]
