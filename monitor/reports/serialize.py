"""The one JSON form of the engine's results: the report of SLA-SPEC §10 (``report --format json``,
``/api/v1/availability``), the outage rows (``outages``, ``/api/v1/outages``) and incident rows. ISO
instants, float minutes and percents are made here and only here; the text renderers read this form."""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

from ..gcpause import gc_paused
from ..sla.calendar import iso
from ..sla.exclusions import assess_maintenance
from ..sla.incidents import RESPONSE_TARGET_MS, UPDATE_INTERVAL_MS, Assessment, Communication
from ..sla.model import MINUTE_MS, MaintenanceWindow, Policy, VendorPost, minutes
from ..sla.result import (
    ComponentResult,
    CreditResult,
    DownSamples,
    Evidence,
    ExclusionSlice,
    Figures,
    MaintenanceResult,
    MonthResult,
    PeriodResult,
    RegionResult,
)
from ..sla.vendor import VendorComparison
from ..sla.vendor_status import StatusConfrontation

Json = dict[str, Any]


def report_json(result: MonthResult, all_components: bool = False) -> Json:
    """The report object: every region, and the non-critical components (every one with ``all_components``)."""
    with gc_paused():  # thousands of small acyclic dicts: the cyclic GC's passes would cost more than they do
        return _report_json(result, all_components)


def _report_json(result: MonthResult, all_components: bool) -> Json:
    return {
        "month": result.label,
        "timezone": result.timezone,
        "generated_at": iso(result.generated_ms),
        "target_percent": float(result.target_percent),
        "threshold_minutes": minutes(result.threshold_ms),
        "month_to_date": result.month_to_date,
        # SLA-SPEC §7's names for the same fact: the figures are the whole month's as of this instant.
        "in_progress": result.month_to_date,
        "as_of": iso(result.generated_ms) if result.month_to_date else None,
        "regions": [region_json(r, result) for r in result.regions],
        "components": [component_json(c, result) for c in result.components if all_components or not c.critical],
    }


def float_or_none(value: Fraction | None) -> float | None:
    """An exact share as a JSON number, or null where there is none."""
    return None if value is None else float(value)


def figures_json(f: Figures) -> Json:
    return {
        "total_minutes": minutes(f.total_ms),
        "total_ms": f.total_ms,
        "elapsed_minutes": minutes(f.elapsed_ms),
        "downtime_minutes": minutes(f.downtime_ms),
        "downtime_ms": f.downtime_ms,
        "availability_percent": float_or_none(f.availability_percent),  # null: nothing observed, not assessable
        "elapsed_availability_percent": float_or_none(f.elapsed_availability_percent),  # over the time so far
        "met": f.met,
        "error_budget_minutes": minutes(f.budget_ms),
        "error_budget_remaining_minutes": minutes(f.budget_remaining_ms),
        "unknown_minutes": minutes(f.unknown_ms),
        "coverage_percent": float_or_none(f.coverage_percent),
    }


def region_json(r: RegionResult, result: MonthResult) -> Json:
    return {
        "region": r.region,
        "environment": r.environment,
        **figures_json(r.figures),
        "unknown_by_cause": {cause: minutes(ms) for cause, ms in r.unknown_by_cause.items()},
        "unknown_spells": [{"start": iso(s.start_ms), "end": iso(s.end_ms), "minutes": minutes(s.end_ms - s.start_ms),
                            "causes": {cause: minutes(ms) for cause, ms in s.causes.items()}}
                           for s in r.unknown_spells],
        "excluded_minutes": {reason: minutes(ms) for reason, ms in r.excluded_ms.items()},
        "periods": [period_json(p, result) for p in r.periods],
        "incidents": [incident_json(a) for a in r.incidents],
        "maintenance": [maintenance_json(m) for m in r.maintenance],
        "flags": list(r.flags),
        "credit": credit_json(r.credit),
        "vendor_report": None if r.vendor is None else vendor_json(r.vendor),
        "vendor_status": None if r.vendor_status is None else vendor_status_json(r.vendor_status),
    }


def vendor_report_rows(results: Sequence[MonthResult]) -> list[Json]:
    """One row per month and region with a vendor report (``vendor-report list``): theirs beside ours."""
    rows = []
    for result in results:
        for r in result.regions:
            if r.vendor is None:
                continue
            theirs, ours = vendor_json(r.vendor), figures_json(r.figures)
            rows.append({"month": result.label, "region": r.region, "their_percent": theirs["availability_percent"],
                         "our_percent": ours["availability_percent"],
                         "their_downtime_minutes": theirs["downtime_minutes"],
                         "our_downtime_minutes": ours["downtime_minutes"],
                         "difference_minutes": theirs["difference_minutes"],
                         "unlisted_outages": theirs["unlisted_outages"]})
    return rows


def vendor_status_json(c: StatusConfrontation) -> Json:
    """The vendor's status page against our counted outages: each outage's post (or none) and lag, the
    posts we did not observe, the share of our Downtime it acknowledged and its median lag."""
    return {
        "acknowledged_percent": None if c.acknowledged is None else float(c.acknowledged * 100),
        "median_lag_minutes": None if c.median_lag_ms is None else float(c.median_lag_ms / MINUTE_MS),
        "outages": [{"start": iso(a.period.start_ms), "end": iso(a.period.end_ms),
                     "minutes": (a.period.end_ms - a.period.start_ms) / MINUTE_MS, "posted": a.post is not None,
                     "lag_minutes": None if a.lag_ms is None else a.lag_ms / MINUTE_MS,
                     "incident": None if a.post is None else post_json(a.post)} for a in c.outages],
        "unposted": sum(a.post is None for a in c.outages),
        "blind_spots": [post_json(p) for p in c.blind_spots],
    }


def post_json(p: VendorPost) -> Json:
    """An incident the vendor posted on its status page."""
    return {"id": p.id, "title": p.title, "impact": p.impact, "posted": iso(p.posted_ms), "started": iso(p.started_ms),
            "resolved": iso(p.resolved_ms), "link": p.link}


def vendor_json(v: VendorComparison) -> Json:
    """The vendor's own report of the month beside ours: their figures, the difference in minutes (ours −
    theirs) and our counted outages their incident summary lacks (null: they gave no summary)."""
    return {
        "availability_percent": float(v.report.availability_percent),
        "downtime_minutes": float(v.their_downtime_ms / MINUTE_MS),
        "downtime_stated": v.stated,
        "difference_minutes": float(v.difference_ms / MINUTE_MS),
        "availability_difference_percent": None if v.availability_difference is None else float(v.availability_difference),
        "incidents": None if v.report.incidents is None else len(v.report.incidents),
        "unlisted_outages": None if v.unlisted is None else [
            {"start": iso(p.start_ms), "end": iso(p.end_ms), "minutes": (p.end_ms - p.start_ms) / MINUTE_MS}
            for p in v.unlisted],
        "note": v.report.note,
    }


def component_json(c: ComponentResult, result: MonthResult) -> Json:
    return {"region": c.region, "component": c.component, **figures_json(c.figures),
            "periods": [period_json(p, result) for p in c.periods], "critical": c.critical}


def period_json(p: PeriodResult, result: MonthResult) -> Json:
    # A month can have thousands of periods, most of them one piece: that piece reuses the period's
    # strings, and minutes are one true division of ints.
    start, end, length, pieces = iso(p.start_ms), iso(p.end_ms), (p.end_ms - p.start_ms) / MINUTE_MS, p.pieces
    if len(pieces) == 1 and pieces[0].start_ms == p.start_ms and pieces[0].end_ms == p.end_ms:
        pieces_json = [{"start": start, "end": end, "minutes": length, "counted": pieces[0].counted}]
    else:
        pieces_json = [{"start": iso(x.start_ms), "end": iso(x.end_ms), "minutes": (x.end_ms - x.start_ms) / MINUTE_MS,
                        "counted": x.counted} for x in pieces]
    return {"start": start, "end": end, "minutes": length, "open": p.open,
            "exclusions": [exclusion_json(e, result) for e in p.exclusions] if p.exclusions else [],
            "pieces": pieces_json}


def exclusion_json(e: ExclusionSlice, result: MonthResult) -> Json:
    out: Json = {"start": iso(e.start_ms), "end": iso(e.end_ms), "reason": e.reason or "none", "flags": list(e.flags),
           "source": e.source, "detail": e.detail}
    if e.third_party is not None:  # null: its samples are past retention
        out["evidence"] = evidence_json(result.evidence_of(e))
    return out


def evidence_json(found: Evidence | None) -> Json | None:
    if found is None:
        return None
    return {"probes": list(found.probes), "samples": found.samples, "first_sample": iso(found.first_sample_ms),
            "last_sample": iso(found.last_sample_ms), "error": found.error, "components": list(found.components),
            "incidents": list(found.incidents)}


def down_samples_json(found: DownSamples) -> Json:
    """A counted period's failed samples, summed up (a claim's evidence)."""
    return {"probes": list(found.probes), "vantages": list(found.vantages), "samples": found.samples,
            "first_sample": iso(found.first_sample_ms), "last_sample": iso(found.last_sample_ms),
            "errors": [{"error": error, "samples": count} for error, count in found.errors]}


def incident_json(a: Assessment) -> Json:
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
        "excluded_minutes": a.excluded_ms / MINUTE_MS,
        "met": a.met,
        "counts": a.counts,
        "response_target_minutes": _RESPONSE_MINUTES[i.severity],
        "update_interval_minutes": _UPDATE_MINUTES[i.severity],
        "ticket": i.ticket,
        "communication": None if a.communication is None else communication_json(a.communication),
    }


def communication_json(c: Communication) -> Json:
    """A ticket's response and status-update cadence against the §7 targets (None where the export is silent)."""
    return {"response_minutes": None if c.response_ms is None else c.response_ms / MINUTE_MS,
            "response_met": c.response_met, "updates": c.updates,
            "longest_silence_minutes": None if c.longest_silence_ms is None else c.longest_silence_ms / MINUTE_MS,
            "updates_met": c.updates_met}


_RESPONSE_MINUTES = {severity: ms / MINUTE_MS for severity, ms in RESPONSE_TARGET_MS.items()}
_UPDATE_MINUTES = {severity: ms / MINUTE_MS for severity, ms in UPDATE_INTERVAL_MS.items()}


# A maintenance window's keys in each of its forms, in order: a stored record's (the API and the CLI:
# with whether it excludes and whether it was cancelled), a month's report's, the status page's.
WINDOW_FORMS = {
    "record": ("id", "region", "kind", "start", "end", "announced_at", "reason", "excluded", "flags", "cancelled"),
    "report": ("id", "kind", "start", "end", "announced_at", "excluded", "flags", "reason", "all_regions"),
    "status": ("id", "kind", "start", "end", "reason"),
}


def window_json(w: MaintenanceWindow, form: str, excluded: bool = False, flags: Sequence[str] = ()) -> Json:
    """A maintenance window in one of its ``WINDOW_FORMS``: every value made here, once."""
    every = {"id": w.id, "region": w.region, "kind": w.kind, "start": iso(w.start_ms), "end": iso(w.end_ms),
             "announced_at": iso(w.announced_at_ms), "reason": w.reason, "excluded": excluded,
             "flags": list(flags), "cancelled": w.cancelled, "all_regions": w.region is None}
    return {key: every[key] for key in WINDOW_FORMS[form]}


def record_window_json(w: MaintenanceWindow, policy: Policy) -> Json:
    """A stored window for people and the API, with whether and why it excludes."""
    reason, flags = assess_maintenance(w, policy)
    return window_json(w, "record", reason is not None, flags)


def maintenance_json(m: MaintenanceResult) -> Json:
    """A month's window in its report."""
    return window_json(m.window, "report", m.excluded, m.flags)


def credit_json(c: CreditResult) -> Json:
    if not c.eligible:
        return {"eligible": False, "reason": c.reason, "availability_percent": 0, "resolution_percent": 0,
                "total_percent": 0, "same_event": False, "amount": None, "monthly_fee": None, "currency": None,
                "claim_deadline": None}
    return {
        "eligible": True, "reason": None,
        "availability_percent": c.availability_percent,
        "resolution_percent": c.resolution_percent,
        "resolution_missed": c.resolution_missed,
        "resolution_counted": c.resolution_counted,
        "resolution_mean_delay_percent": (None if c.resolution_mean_delay_percent is None
                                          else float(c.resolution_mean_delay_percent)),
        "same_event": c.same_event,
        "total_percent": c.total_percent,
        "amount": None if c.amount is None else str(c.amount),
        "monthly_fee": None if c.monthly_fee is None else str(c.monthly_fee),
        "currency": c.currency,
        "claim_deadline": None if c.claim_deadline is None else c.claim_deadline.isoformat(),
    }


RANGE_COLUMNS = ["month", "region", "availability_percent", "met", "downtime_minutes", "excluded_minutes",
                 "unknown_minutes", "coverage_percent", "credit_percent", "credit_amount", "currency"]


def range_rows(results: list[MonthResult]) -> list[Json]:
    """One row per month and region of a range overview (``report --from --to``), figures as in each month's
    report JSON."""
    rows = []
    for result in results:
        for r in result.regions:
            f, c = figures_json(r.figures), credit_json(r.credit)
            rows.append({"month": result.label, "region": r.region, "availability_percent": f["availability_percent"],
                         "met": f["met"], "downtime_minutes": f["downtime_minutes"],
                         "excluded_minutes": minutes(sum(r.excluded_ms.values())),
                         "unknown_minutes": f["unknown_minutes"], "coverage_percent": f["coverage_percent"],
                         "credit_percent": c["total_percent"], "credit_amount": c["amount"], "currency": c["currency"]})
    return rows


def outage_rows(result: MonthResult, region: str | None = None) -> list[Json]:
    """Every region's periods (or ``region``'s) as rows with the region's name first."""
    return [{"region": r.region, **period_json(p, result)} for r in result.regions if region in (None, r.region)
            for p in r.periods]


def outage_summary_rows(result: MonthResult) -> list[Json]:
    """Every period as a row for `outages`: its span, counted minutes, exclusions and pieces."""
    rows = []
    for r in result.regions:
        for p in r.periods:
            full = period_json(p, result)
            rows.append({"region": r.region, "start": full["start"], "end": full["end"], "minutes": full["minutes"],
                         "open": p.open, "counted_minutes": sum((minutes(x.end_ms - x.start_ms) for x in p.pieces
                                                                 if x.counted), 0.0),
                         "exclusions": full["exclusions"], "pieces": full["pieces"]})
    return rows


def exclusion_reasons(row: Json) -> str:
    """An outage row's exclusion reasons for a table column ("-" when none)."""
    return ", ".join(sorted({e["reason"] for e in row["exclusions"]})) or "-"


def incident_rows(result: MonthResult) -> list[Json]:
    """Every region's incidents as rows with the region's name first."""
    return [{"region": r.region, **incident_json(a)} for r in result.regions for a in r.incidents]
