"""The month's result (SLA-SPEC §10), built from region timelines. Pure.

Everything is exact here (integer ms, Fractions, booleans); ``reports.serialize`` turns it into the
documented JSON (ISO instants, float minutes and percents) at the edge.
"""
from __future__ import annotations

import operator
from fractions import Fraction
from typing import Sequence
from zoneinfo import ZoneInfo

from . import credits
from .calendar import claim_deadline, month_bounds
from .downtime import Period, counted_pieces, downtime_ms
from .engine import RegionTimeline
from .exclusions import ExclusionEntry, assess_maintenance, attribute, flags_of, maintenance_for
from .incidents import Assessment, apply_overrides, assess, auto_incidents
from .intervals import Intervals, clip, overlap_ms
from .model import REASONS, Fleet, Records
from .result import (
    ComponentResult,
    CreditResult,
    ExclusionSlice,
    Figures,
    MaintenanceResult,
    MonthResult,
    PeriodResult,
    Piece,
    RegionResult,
    UnknownSpell,
)
from .vendor import VendorComparison, compare
from .vendor_status import confront


def _slice(e: ExclusionEntry, lo: int, hi: int) -> ExclusionSlice:
    return ExclusionSlice(max(e.start_ms, lo), min(e.end_ms, hi), e.reason, e.flags, e.source, e.detail)


def period_results(periods: Sequence[Period], entries: Sequence[ExclusionEntry], lo: int,
                   hi: int) -> tuple[PeriodResult, ...]:
    """Periods overlapping ``[lo, hi)``, clipped to it, with their exclusions and pieces."""
    out = []
    for p in periods:
        start, end = max(p.start_ms, lo), min(p.end_ms, hi)
        if start >= end:
            continue
        if p.start_ms >= lo and p.end_ms <= hi:
            pieces = p.pieces  # inside the window, as most are: the engine's own pieces
        else:
            pieces = tuple(Piece(max(x.start_ms, lo), min(x.end_ms, hi), x.counted)
                           for x in p.pieces if x.start_ms < hi and x.end_ms > lo)
        exclusions = tuple(_slice(e, start, end) for e in entries if e.start_ms < end and e.end_ms > start) \
            if entries else ()
        out.append(PeriodResult(start, end, p.open, exclusions, pieces))
    return tuple(out)


_incident_order = operator.itemgetter(4, 0)  # (opened_ms, id) of an Incident tuple


def _spans(periods: Sequence[Period]) -> list[tuple[int, int]]:
    return [(p.start_ms, p.end_ms) for p in periods]


def build_month(fleet: Fleet, timelines: dict[str, RegionTimeline], records: Records, year: int, month: int,
                now_ms: int, regions: Sequence[str] | None = None, all_components: bool = False) -> MonthResult:
    """One local calendar month as of ``now_ms``: every chosen region (default: all), and its non-critical
    components (SLA-SPEC §10), or every component with ``all_components`` (the live gauges)."""
    tz = ZoneInfo(fleet.timezone)
    start, end = month_bounds(year, month, tz)
    ctx = _MonthContext(fleet, records, tz, year, month, start, end, now_ms)
    chosen = [t for name, t in timelines.items() if regions is None or name in regions]
    return MonthResult(
        year=year, month=month, timezone=fleet.timezone, generated_ms=now_ms,
        target_percent=fleet.policy.target_percent, threshold_ms=fleet.policy.downtime_threshold_ms,
        month_to_date=now_ms < end,
        regions=tuple(ctx.region(t) for t in chosen),
        components=tuple(ctx.component(t, c.name, c.critical) for t in chosen for c in t.region.components
                         if all_components or not c.critical),
    )


class _MonthContext:
    """The month's bounds and inputs, shared by the region and component sections."""

    def __init__(self, fleet: Fleet, records: Records, tz: ZoneInfo, year: int, month: int,
                 start: int, end: int, now_ms: int):
        self.fleet, self.records, self.tz = fleet, records, tz
        self.year, self.month, self.start, self.end, self.now = year, month, start, end, now_ms
        self.until = max(start, min(end, now_ms))  # month to date

    def figures(self, periods: Sequence[Period], unknown: Intervals) -> Figures:
        down = downtime_ms(periods, self.start, self.until)
        target = self.fleet.policy.target_percent
        unknown_ms = overlap_ms(unknown, self.start, self.until)
        # Over the whole month, also while it is in progress (SLA-SPEC §7): missed only once certain.
        assessable = self.until - self.start > unknown_ms
        return Figures(
            total_ms=self.end - self.start,
            elapsed_ms=self.until - self.start,
            downtime_ms=down,
            met=not credits.below(down, self.end - self.start, target) if assessable else None,
            budget_ms=Fraction(self.end - self.start) * (100 - target) / 100,
            unknown_ms=unknown_ms,
        )

    def region(self, t: RegionTimeline) -> RegionResult:
        figures = self.figures(t.periods, t.states.unknown)
        excluded = attribute(_spans(t.periods), t.entries, self.start, self.until)
        in_month = [e for e in t.entries if e.start_ms < self.end and e.end_ms > self.start]
        assessments = self.incidents(t)
        periods = period_results(t.periods, t.entries, self.start, self.until)
        return RegionResult(
            region=t.region.name,
            environment=t.region.environment,
            figures=figures,
            unknown_by_cause={cause: overlap_ms(spans, self.start, self.until)
                              for cause, spans in t.unknown_causes.items()},
            unknown_spells=self.unknown_spells(t),
            excluded_ms={reason: excluded[reason] for reason in REASONS},
            periods=periods,
            incidents=tuple(assessments),
            maintenance=self.maintenance(t.region.name),
            flags=tuple(flags_of(in_month)),
            credit=self.credit(t, figures.downtime_ms, assessments),
            vendor=self.vendor(t.region.name, figures, periods),
            vendor_status=confront(t.region.name, periods, self.records.vendor_posts, self.start, self.until)
            if self.fleet.vendor_status else None,
        )

    def vendor(self, region: str, figures: Figures, periods: tuple[PeriodResult, ...]) -> VendorComparison | None:
        """The vendor's own report of this region's month beside ours, when the customer recorded one."""
        month = f"{self.year:04d}-{self.month:02d}"
        found = next((v for v in self.records.vendor_reports if v.month == month and v.region == region), None)
        return None if found is None else compare(found, figures, periods)

    def unknown_spells(self, t: RegionTimeline) -> tuple[UnknownSpell, ...]:
        """Each maximal unknown spell in the month so far, with its ms by cause."""
        spells = []
        for start, end in clip(t.states.unknown, self.start, self.until):
            causes = {cause: overlap_ms(spans, start, end) for cause, spans in t.unknown_causes.items()}
            spells.append(UnknownSpell(start, end, {cause: ms for cause, ms in causes.items() if ms}))
        return tuple(spells)

    def component(self, t: RegionTimeline, name: str, critical: bool) -> ComponentResult:
        periods = t.component_periods[name]
        return ComponentResult(t.region.name, name, critical, self.figures(periods, t.component_states[name].unknown),
                               period_results(periods, t.entries, self.start, self.until))

    def incidents(self, t: RegionTimeline) -> list[Assessment]:
        auto = auto_incidents(
            t.region, _spans(t.periods),
            {c.name: _spans(t.component_periods[c.name]) for c in t.region.components if not c.critical}, self.now
        )
        manual = [i for i in self.records.incidents if i.region == t.region.name]
        chosen = [
            i for i in apply_overrides(auto + manual, self.records.overrides)
            if self.start <= i.opened_ms < self.end
        ]
        chosen.sort(key=_incident_order)
        return [assess(i, t.excluded, self.fleet.policy, self.now, self.tz, self.fleet.holidays) for i in chosen]

    def maintenance(self, region: str) -> tuple[MaintenanceResult, ...]:
        out = []
        for w in maintenance_for(region, self.records.maintenance):
            if w.start_ms < self.end and w.end_ms > self.start:
                reason, flags = assess_maintenance(w, self.fleet.policy)
                out.append(MaintenanceResult(w, reason is not None, flags))
        return tuple(out)

    def credit(self, t: RegionTimeline, down: int, assessments: list[Assessment]) -> CreditResult:
        why_not = credits.ineligibility(t.region)
        policy = self.fleet.policy
        if why_not is not None:
            return CreditResult(eligible=False, reason=why_not)
        # The tier the whole month has already reached: it can only rise as the month goes on.
        availability = credits.availability_credit(down, self.end - self.start, policy.availability_tiers)
        resolution = credits.resolution_credit(assessments)
        if self.now < self.end:  # later incidents of the month can still dilute the missed share
            resolution = credits.ResolutionCredit(0, resolution.counted, resolution.missed, resolution.mean_delay_percent)
        same = credits.same_event(assessments, counted_pieces(t.periods), self.now)
        total = credits.combine(availability, resolution.percent, same, policy)
        money = credits.amount(total, t.region.monthly_fee)
        return CreditResult(
            eligible=True,
            availability_percent=availability,
            resolution_percent=resolution.percent,
            resolution_missed=resolution.missed,
            resolution_counted=resolution.counted,
            resolution_mean_delay_percent=resolution.mean_delay_percent,
            same_event=same,
            total_percent=total,
            amount=money,
            monthly_fee=t.region.monthly_fee,
            currency=t.region.currency if money is not None else None,
            claim_deadline=claim_deadline(self.year, self.month, policy.claim_window_days),
        )
