"""The durable outbox: events and their deliveries live in the store.

Recording is idempotent (an event id is unique), so a threshold crossed again after a restart fires
nothing new; a delivery is marked delivered only after the receiver accepted it, so a crash in
between re-sends at most that one (receivers dedupe on ``webhook-id`` / ``dedup_key``)."""
from __future__ import annotations

import json
from typing import Iterable

from ..storage import Store
from .events import Event, routes_for


def record(store: Store, events: Iterable[Event], routes) -> int:
    """Insert new events and a pending delivery per routed destination; returns how many were new.
    Call inside the transaction that made the state change, where there is one."""
    new = 0
    with store.atomic():
        for event in events:
            cursor = store.db.execute(
                "INSERT OR IGNORE INTO events (id, type, dedup_key, region, severity, occurred_at_ms, payload)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [event.id, event.type, event.dedup_key, event.region, event.severity, event.occurred_at_ms,
                 json.dumps(event.as_json())])
            if cursor.rowcount == 0:
                continue
            new += 1
            seq = cursor.lastrowid
            for destination in routes_for(event, routes):
                store.db.execute("INSERT INTO deliveries (event_seq, destination, status, attempts, next_attempt_ms)"
                                 " VALUES (?, ?, 'pending', 0, ?)", [seq, destination, event.occurred_at_ms])
    return new


def due(store: Store, now_ms: int) -> dict[str, list[tuple[int, Event, int]]]:
    """Per destination, its pending deliveries in event order: (seq, event, attempts). A destination
    is blocked at its first delivery that is not due yet, so order per destination is kept."""
    queue: dict[str, list] = {}
    blocked: set[str] = set()
    rows = store.db.execute(
        "SELECT d.destination, d.event_seq, d.attempts, d.next_attempt_ms, e.payload, e.occurred_at_ms"
        " FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status = 'pending'"
        " ORDER BY d.destination, d.event_seq").fetchall()
    for destination, seq, attempts, next_at, payload, occurred in rows:
        if destination in blocked:
            continue
        if next_at > now_ms:
            blocked.add(destination)
            continue
        queue.setdefault(destination, []).append((seq, Event.from_json(json.loads(payload), occurred), attempts))
    return queue


def mark(store: Store, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
         error: str | None, now_ms: int) -> None:
    with store.atomic():
        store.db.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_ms = ?, last_error = ?, delivered_at_ms = ?"
            " WHERE event_seq = ? AND destination = ?",
            [status, attempts, next_attempt_ms, error, now_ms if status == "delivered" else None, seq, destination])


def expire(store: Store, destination: str, before_ms: int, now_ms: int) -> list[str]:
    """Mark failed the destination's pending deliveries of events that occurred before ``before_ms``;
    returns their event ids."""
    with store.atomic():
        rows = store.db.execute(
            "SELECT d.event_seq, e.id FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.destination = ? AND d.status = 'pending' AND e.occurred_at_ms < ?",
            [destination, before_ms]).fetchall()
        for seq, _ in rows:
            store.db.execute("UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_ms = ?"
                             " WHERE event_seq = ? AND destination = ?",
                             ["gave up: not delivered within max_age", now_ms, seq, destination])
    return [event_id for _, event_id in rows]


def depth(store: Store) -> int:
    return store.db.execute("SELECT count(*) FROM deliveries WHERE status = 'pending'").fetchone()[0]


def listing(store: Store, limit: int = 200) -> list[dict]:
    rows = store.db.execute(
        "SELECT e.seq, e.id, e.type, e.region, e.severity, e.occurred_at_ms, d.destination, d.status, d.attempts,"
        " d.last_error, d.delivered_at_ms FROM events e LEFT JOIN deliveries d ON d.event_seq = e.seq"
        " ORDER BY e.seq DESC LIMIT ?", [limit]).fetchall()
    keys = ("seq", "id", "type", "region", "severity", "occurred_at_ms", "destination", "status", "attempts",
            "last_error", "delivered_at_ms")
    return [dict(zip(keys, row, strict=True)) for row in rows]
