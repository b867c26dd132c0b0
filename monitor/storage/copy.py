"""``store copy``: one store's whole content into another, SQLite into PostgreSQL or back, resumably.
The target must be empty, or an unfinished copy of the same source. The copy marks the target as
unfinished first, then copies each table in batches by key, each batch its own transaction, and the
small text-keyed tables, the identities and the removal of the mark in one last transaction. Every
other opener refuses a store so marked (``location.open_store``), so a half-made copy is never read
as a store; running the copy again goes on after the last batch the target holds. Rows keep their ids
and keys, so that every report of the copy is the original's, byte for byte."""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

from .errors import StoreError
from .sqlstore import SqlStore

# Every table of the schema (version 7), parents first: its columns and its key, by which rows are
# read in batches (keyset pages: a year of samples never sits in memory at once).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "meta": (("key", "value"), ("key",)),
    "probes": (("id", "name"), ("id",)),
    "vantages": (("id", "name"), ("id",)),
    "samples": (("probe_id", "vantage_id", "ts", "ok", "latency_ms", "error", "detail", "cause", "batch"),
                ("probe_id", "vantage_id", "ts")),
    "samples_replaced": (("batch", "probe_id", "vantage_id", "ts", "ok", "latency_ms", "error", "detail", "cause",
                          "replaced_by"), ("probe_id", "vantage_id", "ts", "replaced_by")),
    "segments": (("probe_id", "vantage_id", "start_ms", "end_ms", "ok", "cause"), ("probe_id", "vantage_id", "start_ms")),
    "maintenance": (("id", "region", "start_ms", "end_ms", "kind", "announced_at_ms", "reason", "created_by",
                     "created_at_ms", "cancelled", "cancelled_by", "cancelled_at_ms", "source_uid", "managed_by"), ("id",)),
    "exclusions": (("id", "region", "start_ms", "end_ms", "cause", "note", "created_by", "created_at_ms", "managed_by",
                    "withdrawn_at_ms"), ("id",)),
    "incidents": (("id", "region", "component", "severity", "opened_ms", "resolved_ms", "title", "created_by",
                   "created_at_ms", "ticket", "responded_ms", "updates"), ("id",)),
    "incident_overrides": (("incident_id", "resolved_ms", "severity", "updated_by", "updated_at_ms", "managed_by"),
                           ("incident_id",)),
    "vendor_reports": (("id", "month", "region", "availability_percent", "stated_downtime_ms", "incidents", "note",
                        "created_by", "created_at_ms"), ("id",)),
    "api_requests": (("token", "idem_key", "fingerprint", "status", "body", "at_ms"), ("token", "idem_key")),
    "vendor_posts": (("id", "region_list", "title", "impact", "started_ms", "posted_ms", "resolved_ms", "link",
                      "first_seen_ms"), ("id",)),
    "evidence": (("seq", "kind", "subject", "at_ms", "first_batch", "last_batch", "lo_ms", "hi_ms", "content", "link",
                  "signature"), ("seq",)),
    "events": (("seq", "id", "type", "dedup_key", "region", "severity", "occurred_at_ms", "payload"), ("seq",)),
    "deliveries": (("event_seq", "destination", "status", "attempts", "next_attempt_ms", "last_error",
                    "delivered_at_ms", "claimed_by"), ("event_seq", "destination")),
}
BATCH = 20_000
OWN_META = ("schema_version", "copy_incomplete")  # each store's own, not copied
UNFINISHED = "copy_incomplete"  # the meta key that marks an unfinished copy (its value: the source)
# Copied last, whole, with the mark's removal: their text keys sort differently in SQLite and
# PostgreSQL, so "after the last key the target holds" would not be the same row in both.
LAST = ("meta", "incident_overrides", "deliveries", "vendor_posts", "api_requests")


def copy_store(source: SqlStore, target: SqlStore,
               progress: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` (empty, or an unfinished copy of ``source``); the
    rows the target holds afterwards, by table. ``progress(table, rows copied so far)`` after each batch."""
    unfinished = target.meta_value(UNFINISHED)
    if unfinished is None:
        held = {table: count for table in TABLES if table != "meta" and (count := target.rows_in(table))}
        if held:
            raise StoreError(f"{target.path}: holds data already ({', '.join(f'{n} {t}' for t, n in held.items())}"
                             "); copy only into a new, empty store")
        target.set_meta(UNFINISHED, source.path)
    elif unfinished != source.path:
        raise StoreError(f"{target.path}: holds an unfinished copy of {unfinished}; finish it with --from "
                         f"{unfinished}, or copy into another store")
    for table, (columns, key) in TABLES.items():
        if table not in LAST:
            done = 0
            for rows in pages(source, table, columns, key, after=target.last_key(table, key)):
                with target.transaction():
                    target.sql.many(_insert(table, columns), rows)
                done += len(rows)
                progress(table, done)
    with target.transaction():
        for table in LAST:
            columns, key = TABLES[table]
            for rows in pages(source, table, columns, key):
                target.sql.many(_insert(table, columns), [row for row in rows if table != "meta" or
                                                          row[0] not in OWN_META])
        target.after_copy()
        target.set_meta(UNFINISHED, None)
    return {table: target.rows_in(table) for table in TABLES}


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            + (" ON CONFLICT (key) DO UPDATE SET value = excluded.value" if table == "meta" else ""))


def pages(source: SqlStore, table: str, columns: tuple[str, ...], key: tuple[str, ...],
          after: Sequence = ()) -> Iterator[list[tuple]]:
    """``table``'s rows in key order, BATCH at a time, from after the key ``after`` (from the first:
    empty), each page starting after the last one's key."""
    select, order = f"SELECT {', '.join(columns)} FROM {table}", ", ".join(key)
    at = [columns.index(k) for k in key]
    after = list(after)
    while True:
        where = f" WHERE ({order}) > ({', '.join('?' * len(key))})" if after else ""
        rows = source.sql.all(f"{select}{where} ORDER BY {order} LIMIT {BATCH}", after)
        if not rows:
            return
        yield rows
        after = [rows[-1][i] for i in at]
