"""Events read off the month-to-date figures (the same engine as `report`): an outage passing the
threshold, error-budget thresholds, the budget at risk, the SLA breached. Ids are stable, so
recomputing every refresh records each one once per region and month (also across restarts)."""
from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from ..event import Event
from ..sla.exclusions import assess_maintenance
from ..sla.incidents import UPDATE_INTERVAL_MS
from ..sla.model import MINUTE_MS, MaintenanceWindow, Policy, minutes
from ..sla.result import MonthResult, PeriodResult
from . import events

NO_OUTAGES: Mapping[str, int] = MappingProxyType({})


def outage_identity(region: str, period: PeriodResult, outage_start: Mapping[str, int]) -> int:
    """The start an open period's events are keyed on: the live outage's (``outage_start``: region →
    the start of the outage announced as opened) when it began no later. A spell of unknown inside an
    outage (the monitor's loop stalled past ``stale_after``) restarts the figures' period after it, but
    not the outage the pager knows: keyed on the period, its counting would page a second time."""
    live = outage_start.get(region)
    return live if live is not None and live <= period.start_ms else period.start_ms


def counting_outages(result: MonthResult, policy: Policy, now_ms: int,
                     outage_start: Mapping[str, int] = NO_OUTAGES) -> list[Event]:
    """outage.counted for every open outage that counts now (after exclusions and the threshold)."""
    return [events.outage_counted(region.region, outage_identity(region.region, period, outage_start), now_ms,
                                  policy.downtime_threshold_ms / 60_000)
            for region in result.regions for period in region.periods if period.open and period.counting]


def from_result(result: MonthResult, policy: Policy, thresholds: Iterable[int], at_risk_minutes: int,
                now_ms: int, outage_start: Mapping[str, int] = NO_OUTAGES) -> list[Event]:
    """Events of the month-to-date result: outages counting, budget thresholds crossed, the budget at
    risk from an open outage, the SLA breached. Outage events are keyed as ``outage_identity`` says."""
    found: list[Event] = counting_outages(result, policy, now_ms, outage_start)
    month = result.label
    for region in result.regions:
        name, figures = region.region, region.figures
        open_periods = [p for p in region.periods if p.open]
        if region.environment != "production":
            continue  # no budget, no breach: the SLA applies to production (§8)
        used = figures.budget_used_percent
        for threshold in sorted(thresholds):
            if used >= threshold:
                found.append(events.budget_consumed(name, month, threshold, float(used), now_ms))
        left_ms = figures.budget_remaining_ms
        if open_periods and 0 < left_ms <= at_risk_minutes * MINUTE_MS:
            start = outage_identity(name, open_periods[-1], outage_start)
            found.append(events.budget_at_risk(name, month, start, minutes(left_ms), now_ms))
        # Over the whole month: False only once the downtime so far exceeds the budget, a certain miss
        # (None, nothing observed, is no breach).
        if figures.met is False and figures.availability_percent is not None:
            found.append(events.sla_breached(name, month, float(figures.availability_percent),
                                             region.credit.total_percent, now_ms))
    return found


DAY_MS = 86_400_000


def from_maintenance(windows: Iterable[MaintenanceWindow], policy: Policy, now_ms: int,
                     tz: ZoneInfo | None = None) -> list[Event]:
    """maintenance.started while a window is on (warning when it lacked the 48 h notice or runs past
    the 2 h limit), maintenance.ended in the day after it ends."""
    found = []
    for w in windows:
        if w.cancelled:
            continue
        _, flags = assess_maintenance(w, policy)
        if w.start_ms <= now_ms < w.end_ms:
            found.append(events.maintenance(w, flags, True, now_ms, tz))
        elif w.end_ms <= now_ms < w.end_ms + DAY_MS:
            found.append(events.maintenance(w, flags, False, now_ms, tz))
    return found


def incident_updates(result: MonthResult, now_ms: int) -> list[Event]:
    """incident.update_due for each open P1 (hourly) and P2 (every 2 h) incident (SLA §7)."""
    found = []
    for region in result.regions:
        for assessment in region.incidents:
            incident = assessment.incident
            if incident.resolved_ms is not None or incident.severity not in ("P1", "P2"):
                continue
            due = (now_ms - incident.opened_ms) // UPDATE_INTERVAL_MS[incident.severity]
            if due >= 1:
                found.append(events.incident_update_due(region.region, incident.id, incident.severity, due, now_ms))
    return found
