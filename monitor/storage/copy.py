"""``store copy``: one store's whole content into another, SQLite into PostgreSQL or back. The target
must be empty; everything is written in one transaction on it (a copy that fails or is stopped
leaves it as it was), with each row's ids and keys as they were, so that every report of the copy is
the original's, byte for byte."""
from __future__ import annotations

from typing import Callable, Iterator

from .errors import StoreError
from .sqlstore import SqlStore

# Every table of the schema (version 6), parents first: its columns and its key, by which rows are
# read in batches (keyset pages: a year of samples never sits in memory at once).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "meta": (("key", "value"), ("key",)),
    "probes": (("id", "name"), ("id",)),
    "vantages": (("id", "name"), ("id",)),
    "samples": (("probe_id", "vantage_id", "ts", "ok", "latency_ms", "error", "detail", "cause"),
                ("probe_id", "vantage_id", "ts")),
    "segments": (("probe_id", "vantage_id", "start_ms", "end_ms", "ok", "cause"), ("probe_id", "vantage_id", "start_ms")),
    "maintenance": (("id", "region", "start_ms", "end_ms", "kind", "announced_at_ms", "reason", "created_by",
                     "created_at_ms", "cancelled", "cancelled_by", "cancelled_at_ms", "source_uid"), ("id",)),
    "exclusions": (("id", "region", "start_ms", "end_ms", "cause", "note", "created_by", "created_at_ms"), ("id",)),
    "incidents": (("id", "region", "component", "severity", "opened_ms", "resolved_ms", "title", "created_by",
                   "created_at_ms"), ("id",)),
    "incident_overrides": (("incident_id", "resolved_ms", "severity", "updated_by", "updated_at_ms"), ("incident_id",)),
    "events": (("seq", "id", "type", "dedup_key", "region", "severity", "occurred_at_ms", "payload"), ("seq",)),
    "deliveries": (("event_seq", "destination", "status", "attempts", "next_attempt_ms", "last_error",
                    "delivered_at_ms", "claimed_by"), ("event_seq", "destination")),
}
BATCH = 20_000
OWN_META = ("schema_version",)  # each store's own, not copied


def copy_store(source: SqlStore, target: SqlStore,
               progress: Callable[[str, int], None] = lambda table, rows: None) -> dict[str, int]:
    """Copy every row of ``source`` into the empty ``target``, atomically; rows copied by table.
    ``progress(table, rows so far)`` after each batch."""
    held = {table: count for table in TABLES if table != "meta" and (count := target.rows_in(table))}
    if held:
        raise StoreError(f"{target.path}: holds data already ({', '.join(f'{n} {t}' for t, n in held.items())}); "
                         "copy only into a new, empty store")
    copied = {}
    with target.transaction():
        for table, (columns, key) in TABLES.items():
            insert = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                      + (" ON CONFLICT (key) DO UPDATE SET value = excluded.value" if table == "meta" else ""))
            copied[table] = 0
            for rows in pages(source, table, columns, key):
                if table == "meta":
                    rows = [row for row in rows if row[0] not in OWN_META]
                target.sql.many(insert, rows)
                copied[table] += len(rows)
                progress(table, copied[table])
        target.after_copy()
    return copied


def pages(source: SqlStore, table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> Iterator[list[tuple]]:
    """``table``'s rows in key order, BATCH at a time, each page starting after the last one's key."""
    select, order = f"SELECT {', '.join(columns)} FROM {table}", ", ".join(key)
    at = [columns.index(k) for k in key]
    after: list = []
    while True:
        where = f" WHERE ({order}) > ({', '.join('?' * len(key))})" if after else ""
        rows = source.sql.all(f"{select}{where} ORDER BY {order} LIMIT {BATCH}", after)
        if not rows:
            return
        yield rows
        after = [rows[-1][i] for i in at]
