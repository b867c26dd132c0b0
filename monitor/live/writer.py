"""Samples reach the store in small batched transactions, at most ``flush_interval`` late.

A failed write (disk full, read-only file) keeps the batch and retries on the next tick: the daemon
keeps probing, reports not-ready, and catches up when the store takes writes again. The buffer is
bounded; past it the oldest samples are dropped and counted (they would have been unknown anyway).
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Iterable, Mapping, Sequence

from ..config.models import RouteConfig
from ..event import Event
from ..hooks.events import routed
from ..samples import Sample
from ..storage.interface import Storage
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.writer")


class SampleWriter:
    def __init__(self, db: DbThread, stale_ms: Mapping[str, int], flush_interval_ms: int,
                 routes: Sequence[RouteConfig], max_pending: int = 1_000_000):
        self.db = db
        self.stale_ms = stale_ms
        self.flush_interval_ms = flush_interval_ms
        self.max_pending = max_pending
        self.pending: list[Sample] = []
        self.pending_events: list[Event] = []  # committed in the same transaction as the samples behind them
        self.routes = routes  # where the events of a batch are delivered
        self.dropped = 0
        self.written = 0
        self.events_committed = 0
        self.last_error: str | None = None

    def add(self, sample: Sample) -> None:
        self.pending.append(sample)
        if len(self.pending) > self.max_pending:
            excess = len(self.pending) - self.max_pending
            del self.pending[:excess]
            self.dropped += excess

    def add_events(self, events: Iterable[Event]) -> None:
        """Events to commit with the next batch of samples."""
        self.pending_events.extend(events)

    async def flush(self) -> bool:
        """Write what is pending; True when the store took it (or nothing was pending)."""
        if not self.pending and not self.pending_events:
            return True
        batch, self.pending = self.pending, []
        events, self.pending_events = self.pending_events, []
        try:
            await self.db.call(Storage.append_samples, batch, self.stale_ms, routed(events, self.routes))
        except Exception as exc:  # supervised: whatever the store raises, the batch is kept and retried
            self.pending = batch + self.pending  # keep order; retry next tick
            self.pending_events = events + self.pending_events
            if self.last_error is None:
                log.error("event=store_write_failed error=%r pending=%d (probing continues; retrying)",
                          f"{type(exc).__name__}: {exc}", len(self.pending),
                          exc_info=not isinstance(exc, (sqlite3.Error, OSError)))  # a bug: its traceback, once
            self.last_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, sqlite3.Error) else str(exc)
            return False
        if self.last_error is not None:
            log.info("event=store_write_recovered written=%d", len(batch))
        self.last_error = None
        self.written += len(batch)
        self.events_committed += len(events)
        return True

