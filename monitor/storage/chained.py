"""How the SQL stores keep the evidence chain (``chain.py`` says what it is): each write that is evidence
appends or extends a link inside the write's own transaction, so the rows and their link commit
together or not at all. Appending takes the chain's lock first (``lock_chain``): writers sharing a
PostgreSQL store would otherwise both build on the same head and fork the chain; SQLite's write lock
already makes them take turns."""
from __future__ import annotations

import contextlib
import operator
from typing import Sequence

from ..sla.calendar import iso
from .chain import (
    BATCHES_PER_BLOCK,
    GENESIS_PREV,
    RECORD_TABLES,
    Link,
    batch_digest,
    extended,
    record_content,
    sealed,
    text_content,
)
from .sql import Sql

LINK_COLUMNS = ", ".join(Link._fields)
KEY = operator.itemgetter(0, 1, 2)  # a sample row's key: probe id, vantage id, ts
# A sample's columns in a canonical line's order, names joined in (the chain names probes and vantages,
# so a renamed probe shows as well).
# Every sample of a range of batches (before the chain began: 0) with what an evidence bundle keeps of it:
# batch, ids (the canonical order), names, values, and the batch that replaced it (None: the stored one).
BUNDLED_SAMPLES = (
    "SELECT coalesce(s.batch, 0), s.probe_id, s.vantage_id, p.name, v.name, s.ts, s.ok, s.latency_ms, s.error,"
    " s.detail, s.cause, s.replaced_by FROM ("
    "SELECT batch, probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause, NULL AS replaced_by FROM samples"
    " UNION ALL SELECT batch, probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause, replaced_by"
    " FROM samples_replaced) s JOIN probes p ON p.id = s.probe_id JOIN vantages v ON v.id = s.vantage_id"
    " WHERE coalesce(s.batch, 0) BETWEEN ? AND ?")
PRECHAIN_SAMPLES = ("SELECT probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause, batch FROM samples"
                    " WHERE batch IS NULL ORDER BY probe_id, vantage_id, ts")


class ChainMixin:
    """The evidence chain's writes for ``SqlStore``."""

    sql: Sql

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def name_of(self, table: str, row_id: int) -> str:
        raise NotImplementedError  # SqlStore.name_of

    def names(self, table: str) -> dict[int, str]:
        raise NotImplementedError  # SqlStore.names

    def lock_chain(self) -> None:
        """Hold the chain until the transaction ends (PostgreSQL: an advisory lock; SQLite needs none)."""

    # -- reading ----------------------------------------------------------------------------------

    def links(self) -> list[Link]:
        """Every link, in order."""
        return [Link(*row) for row in self.sql.all(f"SELECT {LINK_COLUMNS} FROM evidence ORDER BY seq")]

    def _head(self) -> tuple[Link | None, str]:
        """The newest link (None: no chain yet) and the hash it follows."""
        rows = self.sql.all(f"SELECT {LINK_COLUMNS} FROM evidence ORDER BY seq DESC LIMIT 2")
        if not rows:
            return None, GENESIS_PREV
        return Link(*rows[0]), Link(*rows[1]).link if len(rows) > 1 else GENESIS_PREV

    # -- writing ----------------------------------------------------------------------------------

    def next_batch(self) -> int:
        """The number the next chained batch takes, the chain's lock taken (inside the caller's
        transaction): a writer builds its rows with it (``chain.stored_form``), then ``chain_batch``."""
        self._started()
        return self._last_batch() + 1

    def chain_batch(self, number: int, rows: Sequence[tuple]) -> None:
        """Chain batch ``number`` (from ``next_batch``, in the same transaction): sample rows in their
        stored form, one per key, each ending with ``number``."""
        head, prev = self._started()
        if number != self._last_batch() + 1:
            raise ValueError(f"batch {number} is not the chain's next ({self._last_batch() + 1})")
        # The names once per id, not per row: an import chains 20,000 rows a batch.
        probes = {pid: self.name_of("probes", pid) for pid in {r[0] for r in rows}}
        vantages = {vid: self.name_of("vantages", vid) for vid in {r[1] for r in rows}}
        digest, _ = batch_digest(sorted(rows, key=KEY), probes, vantages)
        lo, hi = min(r[2] for r in rows), max(r[2] for r in rows)
        if head.kind == "samples" and head.first_batch is not None \
                and head.last_batch is not None and head.last_batch - head.first_batch + 1 < BATCHES_PER_BLOCK:
            count = int(head.subject.split()[0]) + len(rows)
            link = sealed(prev, head.seq, "samples", f"{count} samples", max(head.at_ms, hi),
                          extended(head.content, digest), first_batch=head.first_batch, last_batch=number,
                          lo_ms=min(lo, head.lo_ms if head.lo_ms is not None else lo),
                          hi_ms=max(hi, head.hi_ms if head.hi_ms is not None else hi))
            self.sql.run("DELETE FROM evidence WHERE seq = ?", [head.seq])  # the open block, rewritten
        else:
            link = sealed(head.link, head.seq + 1, "samples", f"{len(rows)} samples", hi, extended("", digest),
                          first_batch=number, last_batch=number, lo_ms=lo, hi_ms=hi)
        self._store_link(link)

    def chain_record(self, table: str, key: object, at_ms: int) -> None:
        """Chain a record's row as it is now (gone: deleted), inside the caller's transaction."""
        head, _ = self._started()
        self._append(head, "record", f"{table}/{key}", at_ms, record_content(self._record_row(table, key)))

    def chain_prune(self, before_ms: int) -> None:
        """Chain a prune: samples before ``before_ms`` are gone on purpose."""
        head, _ = self._started()
        subject = f"samples before {iso(before_ms)}"
        self._append(head, "prune", subject, before_ms, text_content(subject), hi_ms=before_ms)

    def chain_close(self, kind: str, period: str, at_ms: int) -> Link:
        """Chain a day's or month's close (``period``: 2026-11-30 or 2026-11) and return its link."""
        with self.transaction():
            head, _ = self._started()
            return self._append(head, kind, period, at_ms, text_content(f"{kind} {period}"))

    def close_of(self, period: str) -> Link | None:
        """The month's close of ``period`` (2026-11), None when it is not closed."""
        row = self.sql.one(f"SELECT {LINK_COLUMNS} FROM evidence WHERE kind = 'month' AND subject = ?", [period])
        return None if row is None else Link(*row)

    def last_close(self, kind: str) -> str | None:
        """The period of the newest close of ``kind`` (day, month); None before the first."""
        row = self.sql.one("SELECT subject FROM evidence WHERE kind = ? ORDER BY seq DESC LIMIT 1", [kind])
        return None if row is None else str(row[0])

    def sign_link(self, seq: int, signature: str) -> None:
        """Store a link's signature (outside its hash: the signature is over the hash)."""
        self.sql.run("UPDATE evidence SET signature = ? WHERE seq = ?", [signature, seq])

    def _append(self, head: Link, kind: str, subject: str, at_ms: int, content: str,
                hi_ms: int | None = None) -> Link:
        """A new link after ``head``."""
        link = sealed(head.link, head.seq + 1, kind, subject, at_ms, content, hi_ms=hi_ms)
        self._store_link(link)
        return link

    def _store_link(self, link: Link) -> None:
        self.sql.run(f"INSERT INTO evidence ({LINK_COLUMNS}) VALUES ({', '.join('?' * len(Link._fields))})", link)

    def _last_batch(self) -> int:
        row = self.sql.one("SELECT last_batch FROM evidence WHERE last_batch IS NOT NULL ORDER BY seq DESC LIMIT 1")
        return 0 if row is None else int(row[0])

    def _started(self) -> tuple[Link, str]:
        """The head after taking the lock, the chain begun when there was none: its genesis covers the
        samples stored before (batch NULL), and one link each the records there are."""
        self.lock_chain()
        head, prev = self._head()
        if head is not None:
            return head, prev
        samples = self.sql.all("SELECT count(*) FROM samples WHERE batch IS NULL")[0][0]
        head = sealed(GENESIS_PREV, 1, "genesis", f"{samples} samples before the chain began", 0,
                      batch_digest(self.sql.stream(PRECHAIN_SAMPLES), self.names("probes"), self.names("vantages"))[0])
        self._store_link(head)
        for table, key in RECORD_TABLES.items():
            for (value,) in self.sql.all(f"SELECT {key} FROM {table} ORDER BY {key}"):
                head = self._append(head, "record", f"{table}/{value}", 0,
                                    record_content(self._record_row(table, value)))
        return head, ""

    def record_rows(self) -> dict[str, list[dict]]:
        """Every row of every record table the chain covers, by key."""
        return {table: self.sql.dicts(f"SELECT * FROM {table} ORDER BY {key}") for table, key in RECORD_TABLES.items()}

    def restore_records(self, rows: dict[str, list[dict]]) -> None:
        """Put record rows in as they are, ids and all, unchained (a scratch store that computes a bundle's
        month again)."""
        for table, table_rows in rows.items():
            if table in RECORD_TABLES and table_rows:
                columns = list(table_rows[0])
                self.sql.many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                              [[row[c] for c in columns] for row in table_rows])

    def chained_rows(self, batches: set[int]) -> list[tuple]:
        """Every sample of ``batches`` (0: before the chain began), those replaced too, in the chain's order:
        (batch, probe id, vantage id, probe, vantage, ts, ok, latency, error, detail, cause, replaced by)."""
        if not batches:
            return []
        found = (row for row in self.sql.stream(BUNDLED_SAMPLES, [min(batches), max(batches)]) if row[0] in batches)
        return sorted(found, key=lambda row: (row[0], row[1], row[2], row[5]))

    def has_prechain_samples(self, lo_ms: int, hi_ms: int) -> bool:
        """Whether samples stored before the chain began lie in ``[lo_ms, hi_ms)``."""
        return self.sql.one("SELECT 1 FROM samples WHERE batch IS NULL AND ts >= ? AND ts < ? LIMIT 1",
                            [lo_ms, hi_ms]) is not None

    def _record_row(self, table: str, key: object) -> dict | None:
        rows = self.sql.dicts(f"SELECT * FROM {table} WHERE {RECORD_TABLES[table]} = ?", [key])
        return rows[0] if rows else None


