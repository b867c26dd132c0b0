"""Hand-kept records: maintenance windows, exclusions, incidents and incident overrides."""
from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Iterable, Iterator, Sequence, cast

from ..sla.model import (
    HandExclusion,
    Incident,
    IncidentOverride,
    MaintenanceWindow,
    Records,
    VendorIncident,
    VendorPost,
    VendorReport,
)
from .errors import LARGEST_INTEGER, StoreError, already_cancelled, already_withdrawn, no_such, resolved_before_opened
from .interface import ExclusionRow, MaintenanceRow, TicketFields
from .sql import Sql


class RecordsMixin:
    """The hand-kept records of the SQL stores."""

    sql: Sql

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError  # Store.transaction: one transaction

    def rows(self, sql: str, params: Iterable = ()) -> Iterator[dict]:
        raise NotImplementedError  # Store.rows

    def chain_record(self, table: str, key: object, at_ms: int) -> None:
        raise NotImplementedError  # ChainMixin.chain_record

    def add_maintenance(self, *, region: str | None, start_ms: int, end_ms: int, kind: str,
                        announced_at_ms: int | None, reason: str, by: str, now_ms: int,
                        source_uid: str | None = None, managed_by: str | None = None) -> int:
        """Record a maintenance window (imported from the calendar event ``source_uid``; kept by the records
        file entry ``managed_by``); returns its id."""
        with self.transaction():
            return self._insert("maintenance", {
                "region": region, "start_ms": start_ms, "end_ms": end_ms, "kind": kind,
                "announced_at_ms": announced_at_ms, "reason": reason, "created_by": by, "created_at_ms": now_ms,
                "cancelled": 0, "source_uid": source_uid, **({"managed_by": managed_by} if managed_by else {}),
            }, now_ms)

    def cancel_maintenance(self, window_id: int, by: str, now_ms: int) -> None:
        """Mark a window cancelled (kept for the record; it excludes nothing)."""
        row = self._get("maintenance", window_id, "maintenance window")
        if row["cancelled"]:
            raise already_cancelled(window_id)
        with self.transaction():
            self.sql.run("UPDATE maintenance SET cancelled = 1, cancelled_by = ?, cancelled_at_ms = ? WHERE id = ?",
                         [by, now_ms, window_id])
            self.chain_record("maintenance", window_id, now_ms)

    def add_exclusion(self, *, region: str | None, start_ms: int, end_ms: int, cause: str, note: str,
                      by: str, now_ms: int, managed_by: str | None = None) -> int:
        """Record a hand-entered exclusion (or a `counted` override; kept by the records file entry
        ``managed_by``); returns its id."""
        with self.transaction():
            return self._insert("exclusions", {
                "region": region, "start_ms": start_ms, "end_ms": end_ms, "cause": cause, "note": note,
                "created_by": by, "created_at_ms": now_ms, **({"managed_by": managed_by} if managed_by else {}),
            }, now_ms)

    def withdraw_exclusion(self, exclusion_id: int, now_ms: int) -> None:
        """Withdraw an exclusion its records file no longer holds (kept for the record; it excludes nothing)."""
        if self._get("exclusions", exclusion_id, "exclusion")["withdrawn_at_ms"] is not None:
            raise already_withdrawn(exclusion_id)
        with self.transaction():
            self.sql.run("UPDATE exclusions SET withdrawn_at_ms = ? WHERE id = ?", [now_ms, exclusion_id])
            self.chain_record("exclusions", exclusion_id, now_ms)

    def put_override(self, row: dict, now_ms: int) -> None:
        """Set an automatic incident's override to exactly ``row`` (the ``incident_overrides`` columns)."""
        with self.transaction():
            self.sql.run("DELETE FROM incident_overrides WHERE incident_id = ?", [row["incident_id"]])
            self.sql.run(f"INSERT INTO incident_overrides ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))
            self.chain_record("incident_overrides", row["incident_id"], now_ms)

    def drop_override(self, incident_id: str, now_ms: int) -> None:
        """Remove an automatic incident's override: the incident is as the samples make it again."""
        with self.transaction():
            self.sql.run("DELETE FROM incident_overrides WHERE incident_id = ?", [incident_id])
            self.chain_record("incident_overrides", incident_id, now_ms)

    def override_rows(self) -> list[dict]:
        """The automatic incidents' overrides, by incident."""
        return list(self.rows("SELECT * FROM incident_overrides ORDER BY incident_id"))

    def add_incident(self, *, region: str, component: str | None, severity: str, opened_ms: int,
                     resolved_ms: int | None, title: str, by: str, now_ms: int,
                     ticket: TicketFields | None = None) -> int:
        """Record a hand-entered incident (a support ticket; an imported one with its ``ticket`` fields);
        returns its id."""
        with self.transaction():
            return self._insert("incidents", {
                "region": region, "component": component, "severity": severity, "opened_ms": opened_ms,
                "resolved_ms": resolved_ms, "title": title, "created_by": by, "created_at_ms": now_ms,
                **(ticket_columns(ticket) if ticket is not None else {}),
            }, now_ms)

    def change_incident(self, incident_id: int, changes: dict, now_ms: int) -> None:
        """Change an imported ticket's incident (``changes``: column → value, as ``incident_columns`` gives)."""
        self._get("incidents", incident_id, "incident")
        with self.transaction():
            self.sql.run(f"UPDATE incidents SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                         [*changes.values(), incident_id])
            self.chain_record("incidents", incident_id, now_ms)

    def ticket_rows(self) -> list[dict]:
        """The incidents imported from ticket exports, by ticket."""
        return list(self.rows("SELECT * FROM incidents WHERE ticket IS NOT NULL ORDER BY ticket"))

    def resolve_incident(self, incident_id: str, *, resolved_ms: int | None = None,
                         severity: str | None = None, by: str, now_ms: int) -> None:
        """Resolve or re-classify an incident: a hand one by its number, an automatic one by its stable id."""
        with self.transaction():
            if is_hand_id(incident_id):
                row = self._get("incidents", int(incident_id), "incident")
                if resolved_ms is not None and resolved_ms <= row["opened_ms"]:
                    raise resolved_before_opened(incident_id)
                changes = {k: v for k, v in (("resolved_ms", resolved_ms), ("severity", severity)) if v is not None}
                if changes:
                    self.sql.run(f"UPDATE incidents SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                                 [*changes.values(), int(incident_id)])
                    self.chain_record("incidents", int(incident_id), now_ms)
                return
            current = next(self.rows("SELECT * FROM incident_overrides WHERE incident_id = ?", [incident_id]), {})
            self.sql.run(
                "INSERT INTO incident_overrides (incident_id, resolved_ms, severity, updated_by, updated_at_ms)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET resolved_ms = excluded.resolved_ms,"
                " severity = excluded.severity, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                [incident_id, resolved_ms if resolved_ms is not None else current.get("resolved_ms"),
                 severity or current.get("severity"), by, now_ms])
            self.chain_record("incident_overrides", incident_id, now_ms)

    def set_vendor_report(self, row: dict, by: str, now_ms: int) -> tuple[int, dict | None]:
        """Record the vendor's report of a region's month (``row``: the ``vendor_reports`` columns from
        ``month`` on); a later one of the same month and region replaces it. Returns its id and the row
        it replaced (None: the first)."""
        with self.transaction():
            before = next(self.rows("SELECT * FROM vendor_reports WHERE month = ? AND region = ?",
                                    [row["month"], row["region"]]), None)
            values = {**row, "created_by": by, "created_at_ms": now_ms}
            if before is None:
                return self._insert("vendor_reports", values, now_ms), None
            self.sql.run(f"UPDATE vendor_reports SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                         [*values.values(), before["id"]])
            self.chain_record("vendor_reports", before["id"], now_ms)
            return before["id"], before

    def record_vendor_posts(self, posts: Sequence[VendorPost], seen_ms: int | None, now_ms: int) -> tuple[int, int]:
        """Keep the vendor's status-page incidents as read (``seen_ms``: when; None for a saved page):
        a new one is added, one whose content changed is updated (its first sighting kept). Returns
        (added, changed)."""
        added = changed = 0
        with self.transaction():
            stored = {row["id"]: row for row in self.vendor_post_rows()}
            for post in posts:
                row, before = vendor_post_row(post), stored.get(post.id)
                if before is None:
                    self.sql.run(f"INSERT INTO vendor_posts ({', '.join(row)}, first_seen_ms) VALUES "
                                 f"({', '.join('?' * (len(row) + 1))})", [*row.values(), seen_ms])
                    added += 1
                elif any(before[k] != v for k, v in row.items()):
                    self.sql.run(f"UPDATE vendor_posts SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?",
                                 [*row.values(), post.id])
                    changed += 1
                else:
                    continue
                self.chain_record("vendor_posts", post.id, now_ms)
        return added, changed

    def vendor_post_rows(self) -> list[dict]:
        """The vendor's status-page incidents, by posting time."""
        return list(self.rows("SELECT * FROM vendor_posts ORDER BY posted_ms, id"))

    def vendor_report_rows(self) -> list[dict]:
        """The vendor's reports, by month and region."""
        return list(self.rows("SELECT * FROM vendor_reports ORDER BY month, region"))

    def api_request(self, token: str, key: str) -> dict | None:
        """The answer the API gave to ``token``'s write with the Idempotency-Key ``key`` (None: none yet)."""
        return next(self.rows("SELECT * FROM api_requests WHERE token = ? AND idem_key = ?", [token, key]), None)

    def remember_api_request(self, row: dict) -> None:
        """Keep the answer to a write sent with an Idempotency-Key (``row``: the ``api_requests`` columns)."""
        with self.transaction():
            self.sql.run(f"INSERT INTO api_requests ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))

    def maintenance_rows(self, window_id: int | None = None) -> list[MaintenanceRow]:
        """Stored maintenance windows (all, by start; or the one with ``window_id``) as rows."""
        if window_id is not None:
            return cast(list[MaintenanceRow], list(self.rows("SELECT * FROM maintenance WHERE id = ?", [window_id])))
        return cast(list[MaintenanceRow], list(self.rows("SELECT * FROM maintenance ORDER BY start_ms, id")))

    def exclusion_rows(self) -> list[ExclusionRow]:
        """Stored hand exclusions, by start, as rows."""
        return cast(list[ExclusionRow], list(self.rows("SELECT * FROM exclusions ORDER BY start_ms, id")))

    def _insert(self, table: str, row: dict, now_ms: int) -> int:
        """Insert ``row``, chain it as of ``now_ms``, and return its new id."""
        found = self.sql.one(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) RETURNING id",
                             list(row.values()))
        if found is None or found[0] is None:  # an integer primary key always gets one; never a silent 0
            raise StoreError(f"{table}: the store gave the new row no id")
        self.chain_record(table, int(found[0]), now_ms)
        return int(found[0])

    def _get(self, table: str, row_id: int, what: str) -> dict:
        # An id past SQLite's integers (from the API's path) names no row; binding it would overflow.
        row = next(self.rows(f"SELECT * FROM {table} WHERE id = ?", [row_id]), None) \
            if 0 < row_id <= LARGEST_INTEGER else None
        if row is None:
            raise no_such(what, table, row_id)
        return row

    def load_records(self) -> Records:
        """Everything hand-kept, as the engine's frozen records."""
        return records_of(self.maintenance_rows(), self.exclusion_rows(),
                          list(self.rows("SELECT * FROM incidents ORDER BY opened_ms, id")),
                          list(self.rows("SELECT * FROM incident_overrides")), self.vendor_report_rows(),
                          self.vendor_post_rows())


def records_of(maintenance: list[MaintenanceRow], exclusions: list[ExclusionRow], incidents: list[dict],
               overrides: list[dict], vendor_reports: list[dict], vendor_posts: list[dict]) -> Records:
    """Record rows (each kind in its order) as the engine's frozen records."""
    return Records(
        vendor_reports=tuple(vendor_report_of(r) for r in vendor_reports),
        vendor_posts=tuple(VendorPost(r["id"], tuple(json.loads(r["region_list"])), r["title"] or "", r["impact"] or "",
                                      r["started_ms"], r["posted_ms"], r["resolved_ms"], r["link"] or "")
                           for r in vendor_posts),
        maintenance=tuple(window_of(r) for r in maintenance),
        exclusions=tuple(HandExclusion(r["id"], r["region"], r["start_ms"], r["end_ms"], r["cause"], r["note"] or "")
                         for r in exclusions if r["withdrawn_at_ms"] is None),
        incidents=tuple(incident_of(r) for r in incidents),
        overrides=tuple(IncidentOverride(r["incident_id"], r["resolved_ms"], r["severity"]) for r in overrides),
    )


def incident_of(row: dict) -> Incident:
    """A stored incident row (hand-entered or imported) as the engine's incident."""
    updates = row.get("updates")
    return Incident(str(row["id"]), row["region"], row["component"], row["severity"], row["opened_ms"],
                    row["resolved_ms"], row["title"] or "", "manual", row.get("ticket"), row.get("responded_ms"),
                    None if updates is None else tuple(json.loads(updates)))


def vendor_post_row(post: VendorPost) -> dict:
    """A status-page incident's stored columns (but its first sighting)."""
    return {"id": post.id, "region_list": json.dumps(list(post.regions)), "title": post.title, "impact": post.impact,
            "started_ms": post.started_ms, "posted_ms": post.posted_ms, "resolved_ms": post.resolved_ms,
            "link": post.link}


def vendor_report_of(row: dict) -> VendorReport:
    """A stored vendor report row as the engine's."""
    incidents = None if row["incidents"] is None else tuple(VendorIncident(*i) for i in json.loads(row["incidents"]))
    return VendorReport(row["id"], row["month"], row["region"], Decimal(row["availability_percent"]),
                        row["stated_downtime_ms"], incidents, row["note"] or "")


def ticket_columns(ticket: TicketFields) -> dict:
    """An imported ticket's own columns: its id in its tool, its first response, its updates as JSON."""
    return {"ticket": ticket.ticket, "responded_ms": ticket.responded_ms,
            "updates": None if ticket.updates_ms is None else json.dumps(list(ticket.updates_ms))}


def is_hand_id(incident_id: str) -> bool:
    """A hand incident's number (ASCII digits that fit SQLite's integers), not an automatic id."""
    return incident_id.isascii() and incident_id.isdigit() and len(incident_id) <= 18


def window_of(row: MaintenanceRow) -> MaintenanceWindow:
    """A stored maintenance row as the engine's window."""
    return MaintenanceWindow(row["id"], row["region"], row["start_ms"], row["end_ms"], row["kind"],
                             row["announced_at_ms"], row["reason"] or "", bool(row["cancelled"]))
