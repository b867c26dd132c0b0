"""Incidents from unavailability periods and their resolution performance (SLA-SPEC §9)."""
from __future__ import annotations

import functools
from typing import Iterable, Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from .calendar import business_days, iso
from .intervals import Intervals, intersect, overlap_ms, subtract, total, window
from .model import HOUR_MS, MINUTE_MS, Incident, IncidentOverride, Policy, RegionSpec

RESPONSE_TARGET_MS = {"P1": 15 * MINUTE_MS, "P2": HOUR_MS, "P3": 4 * HOUR_MS, "P4": 8 * HOUR_MS}
UPDATE_INTERVAL_MS = {"P1": HOUR_MS, "P2": 2 * HOUR_MS, "P3": 8 * HOUR_MS, "P4": 24 * HOUR_MS}
CREDIT_SEVERITIES = ("P1", "P2")


def auto_incident_prefix(region: str, component: str | None) -> str:
    """Automatic incident ids are stable: this prefix (region, component) and the period start in ISO."""
    return f"{region}/{component or 'region'}/"


def auto_incidents(
    region: RegionSpec, region_periods: Intervals, component_periods: Mapping[str, Intervals], now_ms: int
) -> list[Incident]:
    """One incident per unavailability period (brief ones too): P1 for a production region,
    P2 for a non-critical component of one, P3 for anything non-production."""
    production = region.environment == "production"
    sources: list[tuple[str | None, str, Intervals]] = [(None, "P1" if production else "P3", region_periods)]
    for name, periods in component_periods.items():
        sources.append((name, "P2" if production else "P3", periods))
    found: list[Incident] = []
    for component, severity, periods in sources:
        title = f"{region.name} {component or 'region'} unavailable"
        prefix = auto_incident_prefix(region.name, component)
        found.extend(
            Incident(prefix + iso(start), region.name, component, severity, start, end if end < now_ms else None,
                     title, "auto")
            for start, end in periods
        )
    return found


def apply_overrides(incidents: Iterable[Incident], overrides: Sequence[IncidentOverride]) -> list[Incident]:
    """Apply hand corrections (earlier resolution, new severity) by incident id."""
    if not overrides:
        return list(incidents)
    by_id = {o.id: o for o in overrides}
    out = []
    for incident in incidents:
        override = by_id.get(incident.id)
        if override is not None:
            incident = incident._replace(
                resolved_ms=override.resolved_ms if override.resolved_ms is not None else incident.resolved_ms,
                severity=override.severity or incident.severity,
            )
        out.append(incident)
    return out


@functools.lru_cache(maxsize=8)
def _targets(pairs: tuple[tuple[str, int], ...]) -> dict[str, int]:
    return dict(pairs)


class Communication(NamedTuple):
    """How the vendor kept the customer informed about a ticket (SLA §7 targets, §12 hourly updates)."""

    response_ms: int | None  # from opened (received and classified) to the first response; None: not known
    response_met: bool | None
    updates: int | None  # status updates recorded; None: the export carries none
    longest_silence_ms: int | None  # the longest time without word while open (first response → … → resolution)
    updates_met: bool | None


class Assessment(NamedTuple):
    incident: Incident
    target_ms: int | None  # None: no resolution target (P4)
    resolution_ms: int  # less excluded time; business time for P3
    met: bool | None
    counts: bool  # counts towards the resolution credit (P1/P2, not wholly excluded)
    excluded_ms: int = 0  # taken out of the resolution time (of business time for P3)
    communication: Communication | None = None  # tickets only: an automatic incident has no timeline


def communication(incident: Incident, now_ms: int) -> Communication:
    """The ticket's response time and its longest silence against the §7 targets. The silences run from
    the first response through each status update to the resolution (``now`` while open): updates are
    judged only where the export carries them, never as "none were sent" where it does not say."""
    response = None if incident.responded_ms is None else max(0, incident.responded_ms - incident.opened_ms)
    response_met = None if response is None else response <= RESPONSE_TARGET_MS[incident.severity]
    if incident.updates_ms is None:
        return Communication(response, response_met, None, None, None)
    end = incident.resolved_ms if incident.resolved_ms is not None else now_ms
    words = sorted({t for t in (incident.responded_ms, *incident.updates_ms) if t is not None and t <= end})
    if not words:
        return Communication(response, response_met, len(incident.updates_ms), None, None)
    silence = max(b - a for a, b in zip(words, [*words[1:], end], strict=True))
    return Communication(response, response_met, len(incident.updates_ms), silence,
                         silence <= UPDATE_INTERVAL_MS[incident.severity])


def assess(
    incident: Incident, excluded: Intervals, policy: Policy, now_ms: int, tz: ZoneInfo, holidays: frozenset
) -> Assessment:
    """Resolution time and target of one incident (an open one measured to ``now``); a ticket's
    communication besides."""
    found = _resolution(incident, excluded, policy, now_ms, tz, holidays)
    return found if incident.ticket is None else found._replace(communication=communication(incident, now_ms))


def _resolution(
    incident: Incident, excluded: Intervals, policy: Policy, now_ms: int, tz: ZoneInfo, holidays: frozenset
) -> Assessment:
    end = incident.resolved_ms if incident.resolved_ms is not None else now_ms
    span = [(incident.opened_ms, end)] if end > incident.opened_ms else []
    excluded = window(excluded, incident.opened_ms, end) if span else []  # only what can overlap
    if incident.severity != "P3" and not excluded:  # the common case, kept cheap: many brief incidents
        target = _targets(policy.resolution_target_ms).get(incident.severity)
        resolution = max(0, end - incident.opened_ms)
        return Assessment(incident, target, resolution, None if target is None else resolution <= target,
                          incident.severity in CREDIT_SEVERITIES)
    if incident.severity == "P3":
        target = policy.p3_business_days * 24 * HOUR_MS
        business = intersect(span, business_days(incident.opened_ms, end, tz, holidays)) if span else []
        resolution = total(subtract(business, excluded))
        taken_out = total(business) - resolution
    else:
        target = _targets(policy.resolution_target_ms).get(incident.severity)
        taken_out = overlap_ms(excluded, incident.opened_ms, end)
        resolution = max(0, end - incident.opened_ms) - taken_out
    wholly_excluded = bool(span) and bool(excluded) and not subtract(span, excluded)
    return Assessment(
        incident=incident,
        target_ms=target,
        resolution_ms=resolution,
        met=None if target is None else resolution <= target,
        counts=incident.severity in CREDIT_SEVERITIES and not wholly_excluded,
        excluded_ms=taken_out,
    )
