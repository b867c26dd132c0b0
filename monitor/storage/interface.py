"""The storage interface: every operation the engine's glue, the daemon and the commands need of a
store, by name. ``Store`` (SQLite, ``store.py``) implements it; ``MemoryStore`` (``memory.py``) is a
second implementation, for tests. A new store is a new file implementing this Protocol; mypy checks
both against it (``storage/__init__.py``).

Instants are integer UTC milliseconds. Record rows are typed dicts with the columns of ``schema.py``
(``MaintenanceRow``, ``ExclusionRow``), as the commands print them."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Iterable, Literal, Mapping, NamedTuple, Protocol, Sequence, TypedDict

from ..outbox import OutboxStore, Routed
from ..samples import Sample
from ..sla.model import Records, VendorPost
from ..sla.timeline import SegmentMap

# A sample to import by name: probe, vantage, ts, ok (None: unknown, with its cause), latency_ms, error,
# cause. A plain tuple: an import takes millions of them.
ImportRow = tuple[str, str, int, "bool | None", "float | None", "str | None", "str | None"]


class StoredSample(NamedTuple):
    """A raw down sample as read back for evidence."""

    probe: str
    ts_ms: int
    error: str | None
    detail: str | None  # JSON text
    vantage: str


class MaintenanceRow(TypedDict):
    """A stored maintenance window (the ``maintenance`` table's columns)."""

    id: int
    region: str | None  # None: every region
    start_ms: int
    end_ms: int
    kind: Literal["scheduled", "emergency"]
    announced_at_ms: int | None
    reason: str
    created_by: str  # who recorded it (always written)
    created_at_ms: int
    cancelled: int  # 1 when cancelled
    cancelled_by: str | None
    cancelled_at_ms: int | None
    source_uid: str | None  # the calendar event it was imported from
    managed_by: str | None  # the records file entry that keeps it (SOURCE:KEY); None: entered by hand


class ExclusionRow(TypedDict):
    """A stored hand exclusion (the ``exclusions`` table's columns)."""

    id: int
    region: str | None  # None: every region
    start_ms: int
    end_ms: int
    cause: str
    note: str | None
    created_by: str
    created_at_ms: int
    managed_by: str | None  # the records file entry that keeps it (SOURCE:KEY); None: entered by hand
    withdrawn_at_ms: int | None  # when its records file stopped holding it (it then excludes nothing)


class TicketFields(NamedTuple):
    """What an incident imported from a ticket export holds besides a hand incident's columns."""

    ticket: str  # TOOL:ID, unique: a re-import updates the incident instead of adding one
    responded_ms: int | None
    updates_ms: tuple[int, ...] | None  # None: the export carries no status updates


class LatencyBucket(NamedTuple):
    start_ms: int
    mean_ms: float
    max_ms: float
    samples: int


class Storage(OutboxStore, Protocol):
    # -- samples and state segments -------------------------------------------------------------
    def append_samples(self, samples: Sequence[Sample], stale_ms: Mapping[str, int],
                       routed: Sequence[Routed] = ()) -> None:
        """Store samples, fold them into state segments and record the events they caused, atomically."""
        ...

    def import_samples(self, rows: Iterable[ImportRow], stale_ms: Mapping[str, int]) -> tuple[int, int]:
        """Store samples given by name, in order (the later of two at one instant wins), and fold each
        touched timeline once at the end; inside the caller's ``transaction`` (a row that raises leaves
        nothing behind). Returns (samples, timelines touched)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Every write inside happens, or none (a nested one is a part that can fail alone)."""
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

    def samples_between(self, lo: int, hi: int) -> list[Sample]:
        """Every vantage's samples in ``[lo, hi)`` (unknown ones too), by time, then vantage: what an
        aggregator reading a shared store takes in (without detail, cause or status)."""
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

    def maintenance_rows(self, window_id: int | None = None) -> list[MaintenanceRow]:
        """Maintenance windows by start (or the one with ``window_id``)."""
        ...

    def add_maintenance(self, *, region: str | None, start_ms: int, end_ms: int, kind: str,
                        announced_at_ms: int | None, reason: str, by: str, now_ms: int,
                        source_uid: str | None = None, managed_by: str | None = None) -> int:
        """Record a window (imported from the calendar event ``source_uid``; kept by the records file entry
        ``managed_by``); returns its id."""
        ...

    def cancel_maintenance(self, window_id: int, by: str, now_ms: int) -> None:
        """Cancel a window (``StoreError`` when there is none or it is cancelled)."""
        ...

    def add_exclusion(self, *, region: str | None, start_ms: int, end_ms: int, cause: str, note: str,
                      by: str, now_ms: int, managed_by: str | None = None) -> int:
        """Record a hand exclusion (kept by the records file entry ``managed_by``); returns its id."""
        ...

    def withdraw_exclusion(self, exclusion_id: int, now_ms: int) -> None:
        """Withdraw an exclusion (kept; it excludes nothing)."""
        ...

    def put_override(self, row: dict, now_ms: int) -> None:
        """Set an automatic incident's override to exactly ``row``."""
        ...

    def drop_override(self, incident_id: str, now_ms: int) -> None:
        """Remove an automatic incident's override."""
        ...

    def override_rows(self) -> list[dict]:
        """The automatic incidents' overrides, by incident."""
        ...

    def api_request(self, token: str, key: str) -> dict | None:
        """The API's answer to ``token``'s write with the Idempotency-Key ``key`` (None: none yet)."""
        ...

    def remember_api_request(self, row: dict) -> None:
        """Keep the answer to a write sent with an Idempotency-Key."""
        ...

    def exclusion_rows(self) -> list[ExclusionRow]:
        """Hand exclusions by start."""
        ...

    def add_incident(self, *, region: str, component: str | None, severity: str, opened_ms: int,
                     resolved_ms: int | None, title: str, by: str, now_ms: int,
                     ticket: TicketFields | None = None) -> int:
        """Record a hand incident (an imported ticket with its ``ticket`` fields); returns its id."""
        ...

    def change_incident(self, incident_id: int, changes: dict, now_ms: int) -> None:
        """Change an imported ticket's incident: ``changes`` maps columns to their new values."""
        ...

    def ticket_rows(self) -> list[dict]:
        """The incidents imported from ticket exports, by ticket."""
        ...

    def resolve_incident(self, incident_id: str, *, resolved_ms: int | None = None,
                         severity: str | None = None, by: str, now_ms: int) -> None:
        """Resolve or re-classify an incident (a hand one by number, an automatic one by its id)."""
        ...

    def set_vendor_report(self, row: dict, by: str, now_ms: int) -> tuple[int, dict | None]:
        """Record the vendor's report of a region's month, replacing an earlier one of the same; returns its
        id and the row it replaced (None: the first)."""
        ...

    def vendor_report_rows(self) -> list[dict]:
        """The vendor's reports, by month and region."""
        ...

    def record_vendor_posts(self, posts: Sequence[VendorPost], seen_ms: int | None, now_ms: int) -> tuple[int, int]:
        """Keep the vendor's status-page incidents as read; returns (added, changed)."""
        ...

    def vendor_post_rows(self) -> list[dict]:
        """The vendor's status-page incidents, by posting time."""
        ...

    # -- the alert outbox: ``outbox.OutboxStore`` ----------------------------------------------

    def close(self) -> None:
        """Release the store."""
        ...
