"""Store and forward: the batches a shared store (PostgreSQL) could not take, kept on local disk in a
SQLite file of their own until it takes them again, oldest first. Unlike the writer's memory, they
survive a restart, a crash or a kill -9 while the database is away. Bounded: past ``max_samples`` the
oldest batches are dropped and counted (as the memory buffer drops its oldest samples).

A batch forwarded twice (the store took it, the process died before it was crossed off here) is
stored once: samples upsert on their key and events are recorded once by id."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Sequence

from ..config.models import StorageConfig
from ..event import Event
from ..samples import Sample
from .location import is_postgres

SAMPLE_FIELDS = ("probe", "vantage", "ts_ms", "ok", "latency_ms", "error", "detail", "cause")  # what the store keeps


def spool_for(location: str, storage: StorageConfig) -> "Spool | None":
    """The probe side's spool: for a PostgreSQL store (reached over a network that can fail), none for
    a SQLite file (its failures are the local disk's, which a second file on it would share)."""
    return Spool(storage.buffer, storage.buffer_max_samples) if is_postgres(location) else None


class Spool:
    def __init__(self, path: str, max_samples: int):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_samples = max_samples
        self.conn = sqlite3.connect(path, isolation_level=None)  # each statement commits: nothing half-kept
        self.conn.execute("PRAGMA journal_mode=wal")
        self.conn.execute("CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                          " samples INTEGER NOT NULL, body TEXT NOT NULL)")
        self.count = self.conn.execute("SELECT coalesce(sum(samples), 0) FROM batches").fetchone()[0]

    def put(self, samples: Sequence[Sample], events: Sequence[Event]) -> int:
        """Keep a batch after those kept before; returns how many samples were dropped to stay in bounds
        (the oldest batches', or this one's if it alone is too large)."""
        if not samples and not events:
            return 0
        body = json.dumps({"samples": [[getattr(s, f) for f in SAMPLE_FIELDS] for s in samples],
                           "events": [[e.as_json(), e.occurred_at_ms] for e in events]}, separators=(",", ":"))
        self.conn.execute("INSERT INTO batches (samples, body) VALUES (?, ?)", (len(samples), body))
        self.count += len(samples)
        dropped = 0
        while self.count > self.max_samples:
            seq, size = self.conn.execute("SELECT seq, samples FROM batches ORDER BY seq LIMIT 1").fetchone()
            self.remove(seq, size)
            dropped += size
        return dropped

    def oldest(self) -> tuple[int, list[Sample], list[Event]] | None:
        """The oldest batch kept: (its number, its samples, its events), or None."""
        row = self.conn.execute("SELECT seq, body FROM batches ORDER BY seq LIMIT 1").fetchone()
        if row is None:
            return None
        body = json.loads(row[1])
        return (row[0], [Sample(**dict(zip(SAMPLE_FIELDS, values, strict=True))) for values in body["samples"]],
                [Event.from_json(data, occurred) for data, occurred in body["events"]])

    def remove(self, seq: int, samples: int) -> None:
        """Cross off a batch (forwarded, or dropped)."""
        if self.conn.execute("DELETE FROM batches WHERE seq = ?", (seq,)).rowcount:
            self.count -= samples

    def close(self) -> None:
        self.conn.close()
