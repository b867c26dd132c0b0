"""What the engine says of a month, typed and frozen: instants and durations in integer ms, shares
as Fractions, decisions as booleans. Pure data; ISO strings, minutes and percents for people are made
at the edges (``reports.serialize`` for JSON, ``reports.render`` for text)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from .downtime import Piece  # a stretch of a period between exclusions: counted or not (§6.3)
from .exclusions import THIRD_PARTY_PREFIX
from .incidents import Assessment
from .model import Incident, MaintenanceWindow

if TYPE_CHECKING:  # vendor.py compares results: it imports this module
    from .vendor import VendorComparison
    from .vendor_status import StatusConfrontation


# Results are NamedTuples: as immutable as frozen dataclasses, built faster (a month has thousands of
# periods; measured: 0.32 against 0.58 µs each), and defined faster (every command imports them).
class ExclusionSlice(NamedTuple):
    """An exclusion entry where it overlaps one period (clipped to it). ``reason`` None: it excludes
    nothing there, and its flags say why (late notice, cancelled, disputed)."""

    start_ms: int
    end_ms: int
    reason: str | None
    flags: tuple[str, ...]
    source: str  # "maintenance:ID", "exclusion:ID" or "third_party:NAME"
    detail: str

    @property
    def third_party(self) -> str | None:
        """The third party whose own outage this automatic exclusion is, if it is one."""
        return self.source.removeprefix(THIRD_PARTY_PREFIX) if self.source.startswith(THIRD_PARTY_PREFIX) else None


class PeriodResult(NamedTuple):
    """An unavailability period clipped to the month so far, with its exclusions and pieces."""

    start_ms: int
    end_ms: int
    open: bool  # still going at the report's instant
    exclusions: tuple[ExclusionSlice, ...]
    pieces: tuple[Piece, ...]

    @property
    def counting(self) -> bool:
        """Whether some of it counts as Downtime."""
        return any(piece.counted for piece in self.pieces)

    def exclusion_now(self) -> ExclusionSlice | None:
        """The exclusion that covers the period now: one that excludes and reaches its end."""
        return next((e for e in self.exclusions if e.end_ms == self.end_ms and e.reason is not None), None)


def last_open(periods: tuple[PeriodResult, ...]) -> PeriodResult | None:
    """The period of ``periods`` still open at the report's instant, if any (only the last can be)."""
    return next((p for p in reversed(periods) if p.open), None)


class Figures(NamedTuple):
    """Availability of a region or a component: the whole month's figure as of the report's instant.

    In a month in progress the figure is still over the whole month (SLA-SPEC §7): the month's
    availability if nothing more happens. It can only fall as the month goes on, so ``met`` is False
    only once the downtime so far exceeds the budget, a miss that no later day can undo."""

    total_ms: int  # the whole month
    elapsed_ms: int  # the month so far
    downtime_ms: int  # counted Downtime so far
    met: bool | None  # availability not below the target (exact); None: not assessable (no observation)
    budget_ms: Fraction  # the month's error budget
    unknown_ms: int  # time whose state nobody knows

    @property
    def assessable(self) -> bool:
        """Whether anything of the month so far was observed (coverage above 0)."""
        return self.elapsed_ms > self.unknown_ms

    @property
    def availability_percent(self) -> Fraction | None:
        """The month's availability in percent, over the whole month; None when not assessable."""
        return percent_of(self.total_ms - self.downtime_ms, self.total_ms) if self.assessable else None

    @property
    def elapsed_availability_percent(self) -> Fraction | None:
        """Availability over the time elapsed so far: shown beside the SLA's figure, never as it."""
        return percent_of(self.elapsed_ms - self.downtime_ms, self.elapsed_ms) if self.assessable else None

    @property
    def budget_remaining_ms(self) -> Fraction:
        """Error budget left (negative once spent)."""
        return self.budget_ms - self.downtime_ms

    @property
    def budget_used_percent(self) -> Fraction:
        """Share of the month's error budget the downtime so far used, exactly (0 with no budget)."""
        return Fraction(self.downtime_ms) * 100 / self.budget_ms if self.budget_ms else Fraction(0)

    @property
    def coverage_percent(self) -> Fraction | None:
        """The share of the month so far whose state is known (None before it starts)."""
        return percent_of(self.elapsed_ms - self.unknown_ms, self.elapsed_ms) if self.elapsed_ms > 0 else None


def percent_of(part_ms: int, whole_ms: int) -> Fraction:
    """``part`` in percent of ``whole``, exactly (100 for an empty whole)."""
    return Fraction(part_ms, whole_ms) * 100 if whole_ms > 0 else Fraction(100)


class UnknownSpell(NamedTuple):
    """A maximal unknown stretch, with its milliseconds by cause (only causes present)."""

    start_ms: int
    end_ms: int
    causes: Mapping[str, int]


class MaintenanceResult(NamedTuple):
    """A maintenance window of the month and whether it excludes (its flags say why not)."""

    window: MaintenanceWindow
    excluded: bool
    flags: tuple[str, ...]


class CreditResult(NamedTuple):
    """The service credit earned so far. ``reason`` says why a region earns none (ineligible)."""

    eligible: bool
    reason: str | None = None
    availability_percent: int = 0
    resolution_percent: int = 0
    resolution_missed: int = 0
    resolution_counted: int = 0
    resolution_mean_delay_percent: Fraction | None = None
    same_event: bool = False
    total_percent: int = 0
    amount: Decimal | None = None
    monthly_fee: Decimal | None = None  # what ``amount`` is the share of (None: no fee configured)
    currency: str | None = None
    claim_deadline: date | None = None


class RegionResult(NamedTuple):
    region: str
    environment: str
    figures: Figures
    unknown_by_cause: Mapping[str, int]  # ms of the month so far by cause (UNKNOWN_CAUSES order)
    unknown_spells: tuple[UnknownSpell, ...]
    excluded_ms: Mapping[str, int]  # excluded down ms by reason (REASONS order)
    periods: tuple[PeriodResult, ...]
    incidents: tuple[Assessment, ...]
    maintenance: tuple[MaintenanceResult, ...]
    flags: tuple[str, ...]
    credit: CreditResult
    vendor: VendorComparison | None = None  # the vendor's own report of the month, beside ours
    vendor_status: StatusConfrontation | None = None  # the vendor's status page against our outages

    def open_period(self) -> PeriodResult | None:
        """The period still open at the report's instant, if any."""
        return last_open(self.periods)


class ComponentResult(NamedTuple):
    region: str
    component: str
    critical: bool
    figures: Figures
    periods: tuple[PeriodResult, ...]

    def open_period(self) -> PeriodResult | None:
        """The period still open at the report's instant, if any."""
        return last_open(self.periods)


class DayBar(NamedTuple):
    """One local day of a region for the status page's bars (today: so far)."""

    day: date
    counted_ms: int  # counted Downtime
    down_ms: int  # unavailable, brief or excluded time included
    excluded_ms: int  # of the down time, what exclusions cover
    unknown_ms: int
    span_ms: int  # the day's length so far


class WindowUptime(NamedTuple):
    """A region over the last ``span_ms`` before the snapshot (the status page's 24 h / 7 d / 30 d / 90 d)."""

    label: str
    span_ms: int
    down_ms: int  # unavailable, brief and excluded time included (the raw figure's downtime)
    counted_ms: int  # counted Downtime (the SLA figure's)
    unknown_ms: int

    @property
    def raw_percent(self) -> Fraction | None:
        """Up over the known time: every unavailability counts, exclusions and the threshold do not apply."""
        known = self.span_ms - self.unknown_ms
        return percent_of(known - self.down_ms, known) if known > 0 else None

    @property
    def sla_percent(self) -> Fraction | None:
        """As the SLA counts: counted Downtime over the whole span (unknown time counts as up); None
        when nothing of the span was observed."""
        return percent_of(self.span_ms - self.counted_ms, self.span_ms) if self.span_ms > self.unknown_ms else None


class RecentOutage(NamedTuple):
    """An unavailability period of the last days for the status page, with what it counted as."""

    start_ms: int
    end_ms: int
    open: bool
    counted_ms: int
    status: str  # "counted", "excluded" (wholly), "brief"
    reasons: tuple[tuple[str, str], ...]  # (reason, detail) of the exclusions that applied


EvidenceKey = tuple[str, int, int]  # an exclusion slice's (source, start_ms, end_ms)


def evidence_key(e: ExclusionSlice) -> EvidenceKey:
    """Where a slice's evidence is kept in ``MonthResult.evidence``."""
    return e.source, e.start_ms, e.end_ms


class Evidence(NamedTuple):
    """What the raw samples show of a third party's outage: the probes (or feeds) that saw it down,
    their first and last down samples in the slice, and the feed's components and incidents."""

    probes: tuple[str, ...]
    samples: int
    first_sample_ms: int
    last_sample_ms: int
    error: str | None
    components: tuple[Mapping[str, Any], ...]  # as the provider's feed gave them
    incidents: tuple[Mapping[str, Any], ...]


class DownSamples(NamedTuple):
    """What the raw samples show of a counted period: the failed samples of the region's critical probes,
    where and when they were taken, and their errors (most frequent first) — a claim's evidence."""

    probes: tuple[str, ...]
    vantages: tuple[str, ...]
    samples: int
    first_sample_ms: int
    last_sample_ms: int
    errors: tuple[tuple[str, int], ...]  # (error, how many samples), most frequent first


class MonthResult(NamedTuple):
    """One local calendar month as of ``generated_ms`` (SLA-SPEC §10). ``components`` holds the
    non-critical components, or every one when built for the live gauges (the JSON report lists the
    non-critical ones either way)."""

    year: int
    month: int
    timezone: str
    generated_ms: int
    target_percent: Fraction
    threshold_ms: int
    month_to_date: bool
    regions: tuple[RegionResult, ...]
    components: tuple[ComponentResult, ...]
    # Evidence of each automatic third-party exclusion slice, looked up in the store (None: samples
    # past retention). Empty until ``accounting`` looks it up.
    evidence: Mapping[EvidenceKey, Evidence | None] = MappingProxyType({})

    @property
    def label(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    def region(self, name: str) -> RegionResult | None:
        """The section of region ``name``, if the result has one."""
        return next((r for r in self.regions if r.region == name), None)

    def incident(self, incident_id: str) -> Incident | None:
        """The incident ``incident_id`` of any region, if the month has it."""
        return next((a.incident for r in self.regions for a in r.incidents if a.incident.id == incident_id), None)

    def evidence_of(self, e: ExclusionSlice) -> Evidence | None:
        """The evidence looked up for an automatic third-party slice (None: none found, or not looked up)."""
        return self.evidence.get(evidence_key(e))

    def third_party_slices(self) -> list[ExclusionSlice]:
        """Every automatic third-party exclusion slice of every region's periods (evidence is sought for these)."""
        return [e for r in self.regions for p in r.periods for e in p.exclusions if e.third_party is not None]
