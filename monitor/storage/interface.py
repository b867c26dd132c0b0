"""The storage interface: every operation the engine's glue, the daemon and the commands need of a
store, by name. ``Store`` (SQLite, ``store.py``) implements it; ``MemoryStore`` (``memory.py``) is a
second implementation, for tests. A new store is a new file implementing this Protocol; mypy checks
both against it (``storage/__init__.py``).

Instants are integer UTC milliseconds. Record rows are dicts with the columns of ``schema.py``
(``id``, ``region``, ``start_ms``, …), as the commands print them."""
from __future__ import annotations

from typing import Mapping, NamedTuple, Protocol, Sequence

from ..event import Event
from ..samples import Sample
from ..sla.model import Records
from ..sla.timeline import SegmentMap

# An event with the destinations its routes chose (hooks.events.routed).
Routed = tuple[Event, Sequence[str]]
# Per destination, its due deliveries in event order: (event seq, event, attempts so far).
DueDeliveries = dict[str, list[tuple[int, Event, int]]]


class StoredSample(NamedTuple):
    """A raw down sample as read back for evidence."""

    probe: str
    ts_ms: int
    error: str | None
    detail: str | None  # JSON text
    vantage: str


class LatencyBucket(NamedTuple):
    start_ms: int
    mean_ms: float
    max_ms: float
    samples: int


class Storage(Protocol):
    # -- samples and state segments -------------------------------------------------------------
    def append_samples(self, samples: Sequence[Sample], stale_ms: Mapping[str, int],
                       routed: Sequence[Routed] = ()) -> None:
        """Store samples, fold them into state segments and record the events they caused, atomically."""
        ...

    def segments_between(self, lo: int, hi: int) -> SegmentMap:
        """Segments overlapping ``[lo, hi)`` by (probe, vantage), sorted by start."""
        ...

    def down_samples(self, probes: Sequence[str], lo: int, hi: int) -> list[StoredSample]:
        """The down samples of ``probes`` in ``[lo, hi)``, by time."""
        ...

    def latency_series(self, probes: Sequence[str], lo: int, hi: int, bucket_ms: int) -> list[LatencyBucket]:
        """The successful samples of ``probes`` (any vantage) in ``[lo, hi)`` by ``bucket_ms`` bucket
        (aligned to multiples of it): their mean and largest latency, oldest bucket first."""
        ...

    def live_history(self, vantage: str,
                     per_probe: int) -> tuple[dict[str, list[tuple[int, bool | None]]], dict[str, int]]:
        """The newest ``per_probe`` samples per probe at ``vantage`` (newest first), and since when each
        probe down now has been down."""
        ...

    def prune_samples(self, before_ms: int) -> int:
        """Delete raw samples older than ``before_ms`` (segments stay); returns how many."""
        ...

    # -- hand-kept records ----------------------------------------------------------------------
    def load_records(self) -> Records:
        """Every record, as the engine's frozen inputs."""
        ...

    def maintenance_rows(self, window_id: int | None = None) -> list[dict]:
        """Maintenance windows by start (or the one with ``window_id``)."""
        ...

    def add_maintenance(self, *, region: str | None, start_ms: int, end_ms: int, kind: str,
                        announced_at_ms: int | None, reason: str, by: str, now_ms: int,
                        source_uid: str | None = None) -> int:
        """Record a window (imported from the calendar event ``source_uid``); returns its id."""
        ...

    def cancel_maintenance(self, window_id: int, by: str, now_ms: int) -> None:
        """Cancel a window (``StoreError`` when there is none or it is cancelled)."""
        ...

    def add_exclusion(self, *, region: str | None, start_ms: int, end_ms: int, cause: str, note: str,
                      by: str, now_ms: int) -> int:
        """Record a hand exclusion; returns its id."""
        ...

    def exclusion_rows(self) -> list[dict]:
        """Hand exclusions by start."""
        ...

    def add_incident(self, *, region: str, component: str | None, severity: str, opened_ms: int,
                     resolved_ms: int | None, title: str, by: str, now_ms: int) -> int:
        """Record a hand incident; returns its id."""
        ...

    def resolve_incident(self, incident_id: str, *, resolved_ms: int | None = None,
                         severity: str | None = None, by: str, now_ms: int) -> None:
        """Resolve or re-classify an incident (a hand one by number, an automatic one by its id)."""
        ...

    # -- the alert outbox -----------------------------------------------------------------------
    def record_events(self, routed: Sequence[Routed]) -> int:
        """Record new events with a pending delivery per destination; returns how many were new."""
        ...

    def due_deliveries(self, now_ms: int) -> DueDeliveries:
        """Per destination, its due deliveries in order, up to the first one not due yet."""
        ...

    def mark_delivery(self, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
                      error: str | None, now_ms: int) -> None:
        """Record an attempt's outcome: delivered, failed, or pending until ``next_attempt_ms``."""
        ...

    def expire_deliveries(self, destination: str, before_ms: int, now_ms: int) -> list[str]:
        """Give up the destination's deliveries of events older than ``before_ms``; returns their ids."""
        ...

    def open_conditions(self) -> list[Event]:
        """The outbox's conditions still open that a restart must pick up (a vantage degraded, a
        certificate near its end): the latest opening event of each, in recording order."""
        ...

    def pending_deliveries(self) -> int:
        """How many deliveries wait."""
        ...

    def event_log(self, limit: int = 200) -> list[dict]:
        """The newest events with each delivery's state, newest first."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
