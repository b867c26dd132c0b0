"""Samples reach the store in small batched transactions, at most ``flush_interval`` late.

A failed write (disk full, read-only file) keeps the batch and retries on the next tick: the daemon
keeps probing, reports not-ready, and catches up when the store takes writes again. The buffer is
bounded; past it the oldest samples are dropped and counted (they would have been unknown anyway).
With a ``Spool`` (a shared PostgreSQL store), a batch the store refused is kept on local disk instead
of in memory, and forwarded, oldest first, before anything newer.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Iterable, Mapping, Sequence

from ..config.models import RouteConfig
from ..event import Event
from ..hooks.events import routed
from ..samples import Sample
from ..storage.errors import StoreUnavailable
from ..storage.interface import Storage
from ..storage.spool import Spool
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.writer")


class SampleWriter:
    def __init__(self, db: DbThread, stale_ms: Mapping[str, int], flush_interval_ms: int,
                 routes: Sequence[RouteConfig], max_pending: int = 1_000_000, spool: Spool | None = None):
        self.db = db
        self.spool = spool
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

    @property
    def waiting(self) -> int:
        """Samples probed and not yet in the store: in memory and in the spool."""
        return len(self.pending) + (self.spool.count if self.spool is not None else 0)

    async def flush(self) -> bool:
        """Write what is pending (after what the spool keeps); True when the store took it all (or
        nothing was pending)."""
        if not self.pending and not self.pending_events and not self.waiting:
            return True
        batch, self.pending = self.pending, []
        events, self.pending_events = self.pending_events, []
        try:
            await self._forward()
            await self._append(batch, events)
        except Exception as exc:  # supervised: whatever the store raises, the batch is kept and retried
            if self.spool is not None:  # on disk, after the batches kept before it
                self.dropped += self.spool.put(batch, events)
            else:
                self.pending = batch + self.pending  # keep order; retry next tick
                self.pending_events = events + self.pending_events
            if self.last_error is None:
                log.error("event=store_write_failed error=%r pending=%d (probing continues; retrying)",
                          f"{type(exc).__name__}: {exc}", self.waiting,
                          exc_info=not isinstance(exc, (sqlite3.Error, OSError, StoreUnavailable)))  # a bug: once
            self.last_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, sqlite3.Error) else str(exc)
            return False
        if self.last_error is not None:
            log.info("event=store_write_recovered written=%d", self.written)
        self.last_error = None
        return True

    async def _append(self, batch: list[Sample], events: list[Event]) -> None:
        if batch or events:
            await self.db.call(Storage.append_samples, batch, self.stale_ms, routed(events, self.routes))
            self.written += len(batch)
            self.events_committed += len(events)

    async def _forward(self) -> None:
        """The spool's batches into the store, oldest first, each crossed off once the store took it."""
        while self.spool is not None and (kept := self.spool.oldest()) is not None:
            seq, batch, events = kept
            await self._append(batch, events)
            self.spool.remove(seq, len(batch))

