"""The sample: what a probe saw, as the store, the live state and the exporter take it. A plain
module of its own, so that the store and the commands do not load the probes (aiohttp, dnspython)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)  # a slot a field: one per probe is kept live, twice (bench/RESULTS.md)
class Sample:
    """One probe result (SLA-SPEC §1), as the store and the exporter see it."""

    probe: str
    vantage: str
    ts_ms: int
    ok: bool | None  # None: unknown (the monitor could not tell), stored with its ``cause``
    latency_ms: float | None
    error: str | None = None
    status_code: int | None = None
    cert_expiry_ms: int | None = None  # earliest certificate expiry seen, for probe_ssl_earliest_cert_expiry
    detail: dict | None = None  # evidence (status feed components and incidents, warnings), stored with the sample
    cause: str | None = None  # why unknown (sla.model.STORED_UNKNOWN_CAUSES); None when ok is known
    fault: str | None = None  # a failure that may be the monitor's own ("local", "resolver"); judged, not stored
