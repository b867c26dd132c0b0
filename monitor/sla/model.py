"""Plain, frozen inputs of the SLA engine.

These mirror the validated config and the store's rows but carry no I/O and no
pydantic: the engine can be driven from a test table, an import, or the store.
All instants are integer UTC milliseconds; durations are integer milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal, NamedTuple

# Exclusion reasons in attribution order (SLA-SPEC §5: the first that applies wins).
HAND_CAUSES = (
    "customer",
    "customer_network",
    "customer_config",
    "force_majeure",
    "suspension",
    "beta",
    "unsupported_integration",
    "external_security",
)
REASONS = ("maintenance", "emergency_maintenance", "third_party", *HAND_CAUSES)
# Causes accepted by `exclusion add`: the hand reasons, `third_party:<name>`, and the `counted` override.
COUNTED = "counted"
SEVERITIES = ("P1", "P2", "P3", "P4")

# Why a spell is unknown (issue 9), in attribution order: the first that applies names the time.
# Stored with unknown samples: the vantage's control targets failed; the probe's failure was the
# monitor's own (its resolver, its routes, its sockets); a status feed could not be read. ``no_data``
# is the rest: no sample at all (the monitor was not running, or a probe went stale).
UNKNOWN_CAUSES = ("vantage_unhealthy", "monitor_fault", "feed_unreadable", "no_data")
STORED_UNKNOWN_CAUSES = UNKNOWN_CAUSES[:-1]
NO_DATA = "no_data"

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


def minutes(ms: int | Fraction) -> float:
    """Milliseconds as float minutes, for showing (int / int true division is correctly rounded, like the
    Fraction's)."""
    return ms / MINUTE_MS if isinstance(ms, int) else float(ms / MINUTE_MS)


@dataclass(frozen=True)
class AvailabilityTier:
    """Credit earned when availability is strictly below ``below_percent``."""

    below_percent: Fraction
    credit_percent: int


DEFAULT_TIERS = (
    AvailabilityTier(Fraction(98), 25),
    AvailabilityTier(Fraction(99), 15),
    AvailabilityTier(Fraction(999, 10), 10),
)


@dataclass(frozen=True)
class Policy:
    """Every ``policy.*`` knob of SLA-SPEC, with the spec's defaults."""

    target_percent: Fraction = Fraction(999, 10)
    downtime_threshold_ms: int = 15 * MINUTE_MS
    threshold_before_exclusions: bool = False
    stale_after_factor: int = 3
    quorum: Literal["majority"] | int = "majority"
    flap_merge_ms: int = 0
    unknown_counts_as: Literal["up", "down"] = "up"
    maintenance_notice_ms: int = 48 * HOUR_MS
    maintenance_max_ms: int = 2 * HOUR_MS
    credit_cap_percent: int = 25
    availability_tiers: tuple[AvailabilityTier, ...] = DEFAULT_TIERS
    # Resolution targets (SLA §7); P3 is in business days, P4 has none.
    resolution_target_ms: tuple[tuple[str, int], ...] = (("P1", 4 * HOUR_MS), ("P2", 12 * HOUR_MS))
    p3_business_days: int = 3
    claim_window_days: int = 30


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    id: str
    stale_ms: int


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    critical: bool
    probes: tuple[ProbeSpec, ...]


@dataclass(frozen=True)
class ThirdPartySpec:
    name: str
    provider: str
    probes: tuple[ProbeSpec, ...]


@dataclass(frozen=True)
class RegionSpec:
    name: str
    environment: Literal["production", "non-production"]
    support_plan: Literal["premium", "standard"]
    components: tuple[ComponentSpec, ...]
    depends_on: tuple[str, ...] = ()
    monthly_fee: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Fleet:
    """What the engine needs to know of the config."""

    timezone: str
    vantages: tuple[str, ...]
    regions: tuple[RegionSpec, ...]
    third_parties: tuple[ThirdPartySpec, ...] = ()
    policy: Policy = field(default_factory=Policy)
    holidays: frozenset = frozenset()  # datetime.date values, local business holidays
    vendor_status: bool = False  # the vendor's own status page is read: its posts are confronted with our outages

    def region(self, name: str) -> RegionSpec:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)


class Segment(NamedTuple):
    """A probe's state on ``[start_ms, end_ms)`` at one vantage: up, down, or (ok None) unknown for ``cause``."""

    start_ms: int
    end_ms: int
    ok: bool | None
    cause: str | None = None


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    region: str | None  # None: all regions
    start_ms: int
    end_ms: int
    kind: Literal["scheduled", "emergency"]
    announced_at_ms: int | None
    reason: str = ""
    cancelled: bool = False


@dataclass(frozen=True)
class HandExclusion:
    """An exclusion entered by hand; ``cause`` is a hand reason, ``third_party:<name>`` or ``counted``."""

    id: int
    region: str | None  # None: all regions
    start_ms: int
    end_ms: int
    cause: str
    note: str = ""


class Incident(NamedTuple):
    id: str
    region: str
    component: str | None
    severity: str
    opened_ms: int
    resolved_ms: int | None
    title: str = ""
    source: Literal["auto", "manual"] = "manual"
    ticket: str | None = None  # imported from a ticket export: TOOL:ID (one incident per ticket)
    responded_ms: int | None = None  # the vendor's first response, where the export has it
    updates_ms: tuple[int, ...] | None = None  # the vendor's status updates; None: the export has none


@dataclass(frozen=True)
class IncidentOverride:
    """A hand correction of an automatic incident (earlier resolution, re-classification)."""

    id: str
    resolved_ms: int | None = None
    severity: str | None = None


class VendorIncident(NamedTuple):
    """An incident of the vendor's own summary: when it began and ended (by their account)."""

    start_ms: int
    end_ms: int
    title: str = ""


@dataclass(frozen=True)
class VendorReport:
    """The vendor's own SLA report for one region's month (SLA §14), as the customer received it."""

    id: int
    month: str  # YYYY-MM, local
    region: str
    availability_percent: Decimal  # as they wrote it
    downtime_ms: int | None = None  # their Downtime, where they state it
    incidents: tuple[VendorIncident, ...] | None = None  # their incident summary; None: none was given
    note: str = ""


class VendorPost(NamedTuple):
    """An incident the vendor posted on its own status page, as read from it."""

    id: str  # the page's incident id
    regions: tuple[str, ...]  # ours, through the components it names
    title: str
    impact: str  # as the page states it: none, minor, major, critical (or a feed's words)
    started_ms: int | None  # when the page says it began, if it says
    posted_ms: int  # when it was posted (created)
    resolved_ms: int | None
    link: str = ""


@dataclass(frozen=True)
class Records:
    """Hand-kept records the engine reads beside the probe segments."""

    maintenance: tuple[MaintenanceWindow, ...] = ()
    exclusions: tuple[HandExclusion, ...] = ()
    incidents: tuple[Incident, ...] = ()
    overrides: tuple[IncidentOverride, ...] = ()
    vendor_reports: tuple[VendorReport, ...] = ()
    vendor_posts: tuple[VendorPost, ...] = ()
