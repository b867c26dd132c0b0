"""Schema and forward migrations. ``PRAGMA user_version`` is the schema version.

Each migration takes the sqlite-utils Database inside the opening transaction;
append new ones, never edit a released one.
"""
from __future__ import annotations

from typing import Callable

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("probes").create({"id": int, "name": str}, pk="id", not_null={"name"})
    db.table("probes").create_index(["name"], unique=True)
    db.table("vantages").create({"id": int, "name": str}, pk="id", not_null={"name"})
    db.table("vantages").create_index(["name"], unique=True)
    # Raw samples and run-length segments are the hot tables: clustered on their key, no rowid.
    db.execute(
        "CREATE TABLE samples (probe_id INTEGER NOT NULL, vantage_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
        " ok INTEGER NOT NULL, latency_ms REAL, error TEXT, PRIMARY KEY (probe_id, vantage_id, ts)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE segments (probe_id INTEGER NOT NULL, vantage_id INTEGER NOT NULL, start_ms INTEGER NOT NULL,"
        " end_ms INTEGER NOT NULL, ok INTEGER NOT NULL, PRIMARY KEY (probe_id, vantage_id, start_ms)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX segments_by_end ON segments (end_ms)")
    db.table("maintenance").create(
        {
            "id": int, "region": str, "start_ms": int, "end_ms": int, "kind": str, "announced_at_ms": int,
            "reason": str, "created_by": str, "created_at_ms": int, "cancelled": int, "cancelled_by": str,
            "cancelled_at_ms": int,
        },
        pk="id",
        not_null={"start_ms", "end_ms", "kind", "reason", "cancelled"},
        defaults={"cancelled": 0},
    )
    db.table("exclusions").create(
        {"id": int, "region": str, "start_ms": int, "end_ms": int, "cause": str, "note": str,
         "created_by": str, "created_at_ms": int},
        pk="id",
        not_null={"start_ms", "end_ms", "cause"},  # region NULL: every region
    )
    db.table("incidents").create(
        {"id": int, "region": str, "component": str, "severity": str, "opened_ms": int, "resolved_ms": int,
         "title": str, "created_by": str, "created_at_ms": int},
        pk="id",
        not_null={"region", "severity", "opened_ms"},
    )
    # Hand corrections of automatic incidents, keyed by their stable id.
    db.table("incident_overrides").create(
        {"incident_id": str, "resolved_ms": int, "severity": str, "updated_by": str, "updated_at_ms": int},
        pk="incident_id",
    )


def _v2(db: sqlite_utils.Database) -> None:
    # Evidence of a status-feed sample (components, incidents, links) as JSON (issue 4).
    db.execute("ALTER TABLE samples ADD COLUMN detail TEXT")


def _v3(db: sqlite_utils.Database) -> None:
    # The alert outbox (issue 5): an event once (its id is stable), one delivery row per destination.
    db.table("events").create(
        {"seq": int, "id": str, "type": str, "dedup_key": str, "region": str, "severity": str,
         "occurred_at_ms": int, "payload": str},
        pk="seq", not_null={"id", "type", "dedup_key", "severity", "occurred_at_ms", "payload"},
    )
    db.table("events").create_index(["id"], unique=True)
    db.table("deliveries").create(
        {"event_seq": int, "destination": str, "status": str, "attempts": int, "next_attempt_ms": int,
         "last_error": str, "delivered_at_ms": int},
        pk=("event_seq", "destination"), not_null={"status", "attempts", "next_attempt_ms"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("deliveries").create_index(["status", "destination", "event_seq"])


def _v4(db: sqlite_utils.Database) -> None:
    # Unknown is stored too (issue 9): a sample or segment with ok NULL is unknown, and ``cause`` says
    # why (vantage_unhealthy, monitor_fault, feed_unreadable). SQLite cannot drop NOT NULL in place:
    # both tables are rebuilt, keeping their clustered keys.
    db.execute(
        "CREATE TABLE samples_v4 (probe_id INTEGER NOT NULL, vantage_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
        " ok INTEGER, latency_ms REAL, error TEXT, detail TEXT, cause TEXT,"
        " PRIMARY KEY (probe_id, vantage_id, ts)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO samples_v4 (probe_id, vantage_id, ts, ok, latency_ms, error, detail)"
               " SELECT probe_id, vantage_id, ts, ok, latency_ms, error, detail FROM samples")
    db.execute("DROP TABLE samples")
    db.execute("ALTER TABLE samples_v4 RENAME TO samples")
    db.execute(
        "CREATE TABLE segments_v4 (probe_id INTEGER NOT NULL, vantage_id INTEGER NOT NULL,"
        " start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, ok INTEGER, cause TEXT,"
        " PRIMARY KEY (probe_id, vantage_id, start_ms)) WITHOUT ROWID"
    )
    db.execute("INSERT INTO segments_v4 (probe_id, vantage_id, start_ms, end_ms, ok)"
               " SELECT probe_id, vantage_id, start_ms, end_ms, ok FROM segments")
    db.execute("DROP TABLE segments")
    db.execute("ALTER TABLE segments_v4 RENAME TO segments")
    db.execute("CREATE INDEX segments_by_end ON segments (end_ms)")


def _v5(db: sqlite_utils.Database) -> None:
    # The UID of the calendar event a window was imported from: a later import of the same calendar
    # moves or cancels that window instead of adding a second one beside it.
    db.execute("ALTER TABLE maintenance ADD COLUMN source_uid TEXT")
    db.execute("CREATE INDEX maintenance_by_source_uid ON maintenance (source_uid)")


def _v6(db: sqlite_utils.Database) -> None:
    # Who holds a delivery's claim (issue 25: instances sharing a store attempt each delivery once): a
    # restarted instance lets go of the claims it held when it stopped, instead of waiting them out.
    db.execute("ALTER TABLE deliveries ADD COLUMN claimed_by TEXT")


def _v7(db: sqlite_utils.Database) -> None:
    # The evidence chain (issue 27, ``chain.py``): the batch that wrote each sample, the links, and the
    # samples a later batch replaced (kept by the trigger under their own batch, so that it still adds up).
    db.execute("ALTER TABLE samples ADD COLUMN batch INTEGER")
    db.execute(
        "CREATE TABLE evidence (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, first_batch INTEGER, last_batch INTEGER, lo_ms INTEGER, hi_ms INTEGER,"
        " content TEXT NOT NULL, link TEXT NOT NULL, signature TEXT)")
    db.execute(
        "CREATE TABLE samples_replaced (batch INTEGER, probe_id INTEGER NOT NULL, vantage_id INTEGER NOT NULL,"
        " ts INTEGER NOT NULL, ok INTEGER, latency_ms REAL, error TEXT, detail TEXT, cause TEXT, replaced_by INTEGER)")
    db.execute(
        "CREATE TRIGGER samples_keep_replaced BEFORE UPDATE ON samples WHEN OLD.batch IS NOT NEW.batch BEGIN"
        " INSERT INTO samples_replaced VALUES (OLD.batch, OLD.probe_id, OLD.vantage_id, OLD.ts, OLD.ok,"
        " OLD.latency_ms, OLD.error, OLD.detail, OLD.cause, NEW.batch); END")


def _v8(db: sqlite_utils.Database) -> None:
    # Issue 27: incidents imported from a ticket export (the ticket's id in its tool, one incident per
    # ticket so that a re-import updates it; its first response; its status updates as a JSON list of
    # ms), the vendor's own SLA reports (one per month and region; their incidents as JSON), and its status
    # page's posts.
    for statement in V8_STATEMENTS:
        db.execute(statement.replace("{IDENTITY}", "INTEGER PRIMARY KEY"))


V8_STATEMENTS = (  # SQLite's and PostgreSQL's alike, but for the identity column
    "ALTER TABLE incidents ADD COLUMN ticket TEXT",
    "ALTER TABLE incidents ADD COLUMN responded_ms BIGINT",
    "ALTER TABLE incidents ADD COLUMN updates TEXT",
    "CREATE UNIQUE INDEX incidents_by_ticket ON incidents (ticket)",
    # Records kept as code (`records apply`): the file and entry that manage each (SOURCE:KEY; null:
    # entered by hand), and an exclusion's withdrawal (one no longer in its file).
    "ALTER TABLE maintenance ADD COLUMN managed_by TEXT",
    "ALTER TABLE exclusions ADD COLUMN managed_by TEXT",
    "ALTER TABLE exclusions ADD COLUMN withdrawn_at_ms BIGINT",
    "ALTER TABLE incident_overrides ADD COLUMN managed_by TEXT",
    "CREATE TABLE vendor_reports (id {IDENTITY}, month TEXT NOT NULL, region TEXT NOT NULL,"
    " availability_percent TEXT NOT NULL, stated_downtime_ms BIGINT, incidents TEXT, note TEXT, created_by TEXT,"
    " created_at_ms BIGINT, UNIQUE (month, region))",
    # The incidents the vendor posted on its own status page (``vendor_status``), as last read; when
    # the monitor first saw each (null: imported from a saved page).
    # The API's answers to writes sent with an Idempotency-Key (by token and key): a retry gets the
    # first answer again instead of a second record.
    "CREATE TABLE api_requests (token TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " status INTEGER NOT NULL, body TEXT NOT NULL, at_ms BIGINT NOT NULL, PRIMARY KEY (token, idem_key))",
    "CREATE TABLE vendor_posts (id TEXT PRIMARY KEY, region_list TEXT NOT NULL, title TEXT, impact TEXT,"
    " started_ms BIGINT, posted_ms BIGINT NOT NULL, resolved_ms BIGINT, link TEXT, first_seen_ms BIGINT)",
)
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8]
SCHEMA_VERSION = len(MIGRATIONS)
