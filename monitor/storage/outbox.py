"""The durable outbox: events and their deliveries live in the store.

Recording is idempotent (an event id is unique), so a threshold crossed again after a restart fires
nothing new; a delivery is marked delivered only after the receiver accepted it, so a crash in
between re-sends at most that one (receivers dedupe on ``webhook-id`` / ``dedup_key``)."""
from __future__ import annotations

import contextlib
import json
from typing import Sequence

from ..event import RESTORED_CONDITIONS, Event, still_open
from ..outbox import DueDeliveries, Routed
from .sql import Sql

GIVEN_UP = "gave up: not delivered within max_age"


class OutboxMixin:
    """The outbox operations of the SQL stores."""

    sql: Sql

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError  # Store.transaction: one transaction

    def record_events(self, routed: Sequence[Routed]) -> int:
        """Insert new events and a pending delivery per destination; returns how many were new. Call
        inside the transaction that made the state change, where there is one."""
        new = 0
        with self.transaction():
            for event, destinations in routed:
                # Recorded once, however many instances detect it: the id is the key.
                inserted = self.sql.one(
                    "INSERT INTO events (id, type, dedup_key, region, severity, occurred_at_ms, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq",
                    [event.id, event.type, event.dedup_key, event.region, event.severity, event.occurred_at_ms,
                     json.dumps(event.as_json())])
                if inserted is None:
                    continue
                new += 1
                for destination in destinations:
                    self.sql.run("INSERT INTO deliveries (event_seq, destination, status, attempts, next_attempt_ms)"
                                 " VALUES (?, ?, 'pending', 0, ?)", [inserted[0], destination, event.occurred_at_ms])
        return new

    def due_deliveries(self, now_ms: int) -> DueDeliveries:
        """Per destination, its pending deliveries in event order. A destination is blocked at its first
        delivery that is not due yet, so order per destination is kept."""
        queue: DueDeliveries = {}
        blocked: set[str] = set()
        rows = self.sql.all(
            "SELECT d.destination, d.event_seq, d.attempts, d.next_attempt_ms, e.payload, e.occurred_at_ms"
            " FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status = 'pending'"
            " ORDER BY d.destination, d.event_seq")
        for destination, seq, attempts, next_at, payload, occurred in rows:
            if destination in blocked:
                continue
            if next_at > now_ms:
                blocked.add(destination)
                continue
            queue.setdefault(destination, []).append((seq, Event.from_json(json.loads(payload), occurred), attempts))
        return queue

    def claim_delivery(self, seq: int, destination: str, now_ms: int, until_ms: int, by: str) -> bool:
        """Take a due delivery until ``until_ms``: its next attempt moves there, so that to everyone else
        it is not due (and its destination waits behind it, in order) until the claim runs out. One
        conditional UPDATE: of two instances, the database lets exactly one change the row."""
        return self.sql.run("UPDATE deliveries SET next_attempt_ms = ?, claimed_by = ? WHERE event_seq = ?"
                            " AND destination = ? AND status = 'pending' AND next_attempt_ms <= ?",
                            [until_ms, by, seq, destination, now_ms]) == 1

    def release_claims(self, by: str, now_ms: int) -> int:
        """Make the pending deliveries that ``by`` claimed due now."""
        with self.transaction():
            return self.sql.run("UPDATE deliveries SET next_attempt_ms = ?, claimed_by = NULL WHERE claimed_by = ?"
                                " AND status = 'pending' AND next_attempt_ms > ?", [now_ms, by, now_ms])

    def mark_delivery(self, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
                      error: str | None, now_ms: int) -> None:
        """Record an attempt's outcome: ``delivered``, ``failed`` (given up) or ``pending`` (retry at ``next_attempt_ms``)."""
        with self.transaction():
            self.sql.run(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_ms = ?, last_error = ?, delivered_at_ms = ?,"
                " claimed_by = NULL"
                " WHERE event_seq = ? AND destination = ?",
                [status, attempts, next_attempt_ms, error, now_ms if status == "delivered" else None, seq, destination])

    def expire_deliveries(self, destination: str, before_ms: int, now_ms: int) -> list[str]:
        """Mark failed the destination's pending deliveries of events that occurred before ``before_ms``;
        returns their event ids."""
        with self.transaction():
            rows = self.sql.all(
                "SELECT d.event_seq, e.id FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                " WHERE d.destination = ? AND d.status = 'pending' AND e.occurred_at_ms < ? ORDER BY d.event_seq",
                [destination, before_ms])
            # Only the rows this call changed: an instance beside it may have given some up already.
            expired = [event_id for seq, event_id in rows if self.sql.run(
                "UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_ms = ?"
                " WHERE event_seq = ? AND destination = ? AND status = 'pending'", [GIVEN_UP, now_ms, seq, destination])]
        return expired

    def open_conditions(self) -> list[Event]:
        """The conditions a restart must pick up (``event.RESTORED_CONDITIONS``) still open in the outbox."""
        types = [*RESTORED_CONDITIONS, *RESTORED_CONDITIONS.values()]
        rows = self.sql.all(f"SELECT payload, occurred_at_ms FROM events WHERE type IN ({', '.join('?' * len(types))})"
                            " ORDER BY seq", types)
        return still_open(Event.from_json(json.loads(payload), occurred) for payload, occurred in rows)

    def pending_deliveries(self) -> int:
        """How many deliveries wait (the hook queue's depth)."""
        row = self.sql.one("SELECT count(*) FROM deliveries WHERE status = 'pending'")
        return 0 if row is None else int(row[0])

    def event_log(self, limit: int = 200) -> list[dict]:
        """The newest events with each delivery's state, newest first (`hooks list`)."""
        rows = self.sql.all(
            "SELECT e.seq, e.id, e.type, e.region, e.severity, e.occurred_at_ms, d.destination, d.status, d.attempts,"
            " d.last_error, d.delivered_at_ms FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq"
            " ORDER BY e.seq DESC, d.destination LIMIT ?", [limit])
        return [dict(zip(EVENT_LOG_KEYS, row, strict=True)) for row in rows]

    def events_of_type(self, event_type: str, since_ms: int) -> list[Event]:
        """The recorded events of ``event_type`` since ``since_ms``, oldest first (incident updates)."""
        rows = self.sql.all("SELECT payload, occurred_at_ms FROM events WHERE type = ? AND occurred_at_ms >= ?"
                            " ORDER BY occurred_at_ms, seq", [event_type, since_ms])
        return [Event.from_json(json.loads(payload), at) for payload, at in rows]

    def event_log_of(self, ids: Sequence[str]) -> list[dict]:
        """The events of ``ids`` that are recorded, with each delivery's state (schedules: what was sent)."""
        if not ids:
            return []
        rows = self.sql.all(
            "SELECT e.seq, e.id, e.type, e.region, e.severity, e.occurred_at_ms, d.destination, d.status, d.attempts,"
            " d.last_error, d.delivered_at_ms FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq"
            f" WHERE e.id IN ({','.join('?' * len(ids))}) ORDER BY e.seq, d.destination", list(ids))
        return [dict(zip(EVENT_LOG_KEYS, row, strict=True)) for row in rows]


EVENT_LOG_KEYS = ("seq", "id", "type", "region", "severity", "occurred_at_ms", "destination", "status", "attempts",
                  "last_error", "delivered_at_ms")
