"""The monthly SLA report (SLA-SPEC §10) as plain data, built from region timelines. Pure.

Minutes are floats for people; exact figures (milliseconds, the ``met`` and
credit decisions) are computed with integers and Fractions before conversion.
"""
from __future__ import annotations

import operator
from fractions import Fraction
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from . import credits
from .calendar import claim_deadline, iso, month_bounds
from .downtime import Period, counted_pieces, downtime_ms
from .engine import RegionTimeline
from .exclusions import ExclusionEntry, assess_maintenance, attribute, flags_of, maintenance_for
from .incidents import RESPONSE_TARGET_MS, UPDATE_INTERVAL_MS, apply_overrides, assess, auto_incidents
from .intervals import clip, overlap_ms
from .model import MINUTE_MS, REASONS, Fleet, Records


def open_period(section: dict) -> dict | None:
    """The period of a report's region (or component) section still open at its instant, if any."""
    return next((p for p in reversed(section.get("periods", ())) if p["open"]), None)


def exclusion_now(period: dict) -> dict | None:
    """The exclusion that covers an open period now: one that excludes and reaches the period's end."""
    return next((e for e in period["exclusions"] if e["end"] == period["end"] and e["reason"] != "none"), None)


def minutes(ms: int | Fraction) -> float:
    """Milliseconds as float minutes (int / int true division is correctly rounded, like the Fraction)."""
    return ms / MINUTE_MS if isinstance(ms, int) else float(ms / MINUTE_MS)


def percent_available(down_ms: int, total_ms: int) -> float:
    """Availability in percent, unrounded (100 for an empty span)."""
    return float(Fraction(total_ms - down_ms, total_ms) * 100) if total_ms > 0 else 100.0


def _entry(e: ExclusionEntry, lo: int, hi: int) -> dict[str, Any]:
    return {
        "start": iso(max(e.start_ms, lo)),
        "end": iso(min(e.end_ms, hi)),
        "reason": e.reason or "none",
        "flags": list(e.flags),
        "source": e.source,
        "detail": e.detail,
    }


def periods_json(periods: Sequence[Period], entries: Sequence[ExclusionEntry], lo: int, hi: int) -> list[dict]:
    """Periods overlapping ``[lo, hi)``, clipped to it, with their exclusions and pieces."""
    out = []
    for p in periods:
        start, end = max(p.start_ms, lo), min(p.end_ms, hi)
        if start >= end:
            continue
        start_iso, end_iso, length = iso(start), iso(end), (end - start) / MINUTE_MS
        whole = len(p.pieces) == 1 and p.pieces[0][:2] == (p.start_ms, p.end_ms)
        out.append(
            {
                "start": start_iso,
                "end": end_iso,
                "minutes": length,
                "open": p.open,
                "exclusions": [
                    _entry(e, start, end) for e in entries if e.start_ms < end and e.end_ms > start
                ] if entries else [],
                "pieces": [{"start": start_iso, "end": end_iso, "minutes": length, "counted": p.pieces[0].counted}]
                if whole else [
                    {
                        "start": iso(max(x.start_ms, lo)),
                        "end": iso(min(x.end_ms, hi)),
                        "minutes": minutes(min(x.end_ms, hi) - max(x.start_ms, lo)),
                        "counted": x.counted,
                    }
                    for x in p.pieces
                    if x.start_ms < hi and x.end_ms > lo
                ],
            }
        )
    return out


_RESPONSE_MIN = {k: v / MINUTE_MS for k, v in RESPONSE_TARGET_MS.items()}
_UPDATE_MIN = {k: v / MINUTE_MS for k, v in UPDATE_INTERVAL_MS.items()}
_incident_order = operator.itemgetter(4, 0)  # (opened_ms, id) of an Incident tuple


def _spans(periods: Sequence[Period]) -> list[tuple[int, int]]:
    return [(p.start_ms, p.end_ms) for p in periods]


def build_report(fleet: Fleet, timelines: dict[str, RegionTimeline], records: Records, year: int, month: int,
                 now_ms: int, regions: Sequence[str] | None = None, all_components: bool = False) -> dict[str, Any]:
    """The report object for one local calendar month, as of ``now_ms``. ``components`` lists the
    non-critical components (SLA-SPEC §10), or every component with ``all_components`` (live gauges)."""
    tz = ZoneInfo(fleet.timezone)
    start, end = month_bounds(year, month, tz)
    ctx = _MonthContext(fleet, records, tz, year, month, start, end, now_ms)
    chosen = [t for name, t in timelines.items() if regions is None or name in regions]
    return {
        "month": f"{year:04d}-{month:02d}",
        "timezone": fleet.timezone,
        "generated_at": iso(now_ms),
        "target_percent": float(fleet.policy.target_percent),
        "threshold_minutes": minutes(fleet.policy.downtime_threshold_ms),
        "month_to_date": now_ms < end,
        "regions": [ctx.region(t) for t in chosen],
        "components": [{**ctx.component(t, c.name), "critical": c.critical}
                       for t in chosen for c in t.region.components if all_components or not c.critical],
    }


class _MonthContext:
    """The month's bounds and inputs, shared by the region and component sections."""

    def __init__(self, fleet: Fleet, records: Records, tz: ZoneInfo, year: int, month: int,
                 start: int, end: int, now_ms: int):
        self.fleet, self.records, self.tz = fleet, records, tz
        self.year, self.month, self.start, self.end, self.now = year, month, start, end, now_ms
        self.until = max(start, min(end, now_ms))  # month to date

    def availability(self, periods: Sequence[Period], unknown) -> dict[str, Any]:
        down = downtime_ms(periods, self.start, self.until)
        elapsed = self.until - self.start
        target = self.fleet.policy.target_percent
        budget = Fraction(self.end - self.start) * (100 - target) / 100
        unknown_ms = overlap_ms(unknown, self.start, self.until)
        return {
            "total_minutes": minutes(self.end - self.start),
            "total_ms": self.end - self.start,
            "elapsed_minutes": minutes(elapsed),
            "downtime_minutes": minutes(down),
            "downtime_ms": down,
            "availability_percent": percent_available(down, elapsed),
            "met": not credits.below(down, elapsed, target),
            "error_budget_minutes": minutes(budget),
            "error_budget_remaining_minutes": minutes(budget - down),
            "unknown_minutes": minutes(unknown_ms),
            # Coverage: the share of the month so far whose state is known (None before it starts).
            "coverage_percent": percent_available(unknown_ms, elapsed) if elapsed > 0 else None,
        }

    def region(self, t: RegionTimeline) -> dict[str, Any]:
        figures = self.availability(t.periods, t.states.unknown)
        figures["unknown_by_cause"] = {cause: minutes(overlap_ms(spans, self.start, self.until))
                                       for cause, spans in t.unknown_causes.items()}
        figures["unknown_spells"] = self.unknown_spells(t)
        excluded = attribute(_spans(t.periods), t.entries, self.start, self.until)
        in_month = [e for e in t.entries if e.start_ms < self.end and e.end_ms > self.start]
        assessments = self.incidents(t)
        return {
            "region": t.region.name,
            "environment": t.region.environment,
            **figures,
            "excluded_minutes": {reason: minutes(excluded[reason]) for reason in REASONS},
            "periods": periods_json(t.periods, t.entries, self.start, self.until),
            "incidents": [self.incident_json(a) for a in assessments],
            "maintenance": self.maintenance(t.region.name),
            "flags": flags_of(in_month),
            "credit": self.credit(t, figures["downtime_ms"], assessments),
        }

    def unknown_spells(self, t: RegionTimeline) -> list[dict[str, Any]]:
        """Each maximal unknown spell in the month so far, with its minutes by cause."""
        spells = []
        for start, end in clip(t.states.unknown, self.start, self.until):
            causes = {cause: minutes(overlap_ms(spans, start, end)) for cause, spans in t.unknown_causes.items()}
            spells.append({"start": iso(start), "end": iso(end), "minutes": minutes(end - start),
                           "causes": {cause: m for cause, m in causes.items() if m}})
        return spells

    def component(self, t: RegionTimeline, name: str) -> dict[str, Any]:
        periods = t.component_periods[name]
        figures = self.availability(periods, t.component_states[name].unknown)
        return {
            "region": t.region.name,
            "component": name,
            **figures,
            "periods": periods_json(periods, t.entries, self.start, self.until),
        }

    def incidents(self, t: RegionTimeline) -> list:
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

    @staticmethod
    def incident_json(a) -> dict[str, Any]:
        i = a.incident
        return {
            "id": i.id,
            "source": i.source,
            "severity": i.severity,
            "component": i.component,
            "title": i.title,
            "opened": iso(i.opened_ms),
            "resolved": iso(i.resolved_ms),
            "target_minutes": None if a.target_ms is None else a.target_ms / MINUTE_MS,
            "resolution_minutes": a.resolution_ms / MINUTE_MS,
            "met": a.met,
            "counts": a.counts,
            "response_target_minutes": _RESPONSE_MIN[i.severity],
            "update_interval_minutes": _UPDATE_MIN[i.severity],
        }

    def maintenance(self, region: str) -> list[dict[str, Any]]:
        out = []
        for w in maintenance_for(region, self.records.maintenance):
            if w.start_ms < self.end and w.end_ms > self.start:
                reason, flags = assess_maintenance(w, self.fleet.policy)
                out.append({
                    "id": w.id, "kind": w.kind, "start": iso(w.start_ms), "end": iso(w.end_ms),
                    "announced_at": iso(w.announced_at_ms), "excluded": reason is not None,
                    "flags": list(flags), "reason": w.reason, "all_regions": w.region is None,
                })
        return out

    def credit(self, t: RegionTimeline, down: int, assessments) -> dict[str, Any]:
        why_not = credits.ineligibility(t.region)
        policy = self.fleet.policy
        if why_not is not None:
            return {"eligible": False, "reason": why_not, "availability_percent": 0, "resolution_percent": 0,
                    "total_percent": 0, "same_event": False, "amount": None, "currency": None,
                    "claim_deadline": None}
        availability = credits.availability_credit(down, self.until - self.start, policy.availability_tiers)
        resolution = credits.resolution_credit(assessments)
        same = credits.same_event(assessments, counted_pieces(t.periods), self.now)
        total = credits.combine(availability, resolution.percent, same, policy)
        money = credits.amount(total, t.region.monthly_fee)
        return {
            "eligible": True, "reason": None,
            "availability_percent": availability,
            "resolution_percent": resolution.percent,
            "resolution_missed": resolution.missed,
            "resolution_counted": resolution.counted,
            "resolution_mean_delay_percent": (
                None if resolution.mean_delay_percent is None else float(resolution.mean_delay_percent)
            ),
            "same_event": same,
            "total_percent": total,
            "amount": None if money is None else str(money),
            "currency": t.region.currency if money is not None else None,
            "claim_deadline": claim_deadline(self.year, self.month, policy.claim_window_days).isoformat(),
        }
