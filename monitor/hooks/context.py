"""What a person acting on an alert needs, added to each event when it is recorded: the probes that
fail and their last errors, the exclusion that covers the outage now, the month's availability and
budget left, and links to the status page and the runbook. Pure: the daemon passes what it knows."""
from __future__ import annotations

import dataclasses
from typing import Mapping

from ..event import Event
from ..sla.model import minutes
from ..sla.result import MonthResult, RegionResult

# The runbook entry (monitor/web/templates/runbooks.html) for each event type that has one.
RUNBOOK = {"outage.opened": "slaregiondown", "outage.counted": "slaoutage", "outage.resolved": "slaregiondown",
           "budget.at_risk": "slaerrorbudgetbelow10", "budget.consumed": "slaerrorbudgetbelow50",
           "sla.breached": "slabreached", "monitor.degraded": "slavantageunhealthy",
           "monitor.recovered": "slavantageunhealthy", "certificate.expiring": "slacertificateexpiring",
           "certificate.renewed": "slacertificateexpiring", "third_party.down": "slaregiondown"}
FAILING_FOR = frozenset({"outage.opened", "outage.counted", "budget.at_risk"})


def with_context(event: Event, public_url: str, failing: Mapping[str, list[dict]],
                 month: Mapping[str, Mapping]) -> Event:
    """``event`` with ``failing`` probes (for outage events), its region's month-to-date context (``month``,
    from ``month_context``: availability, budget left, the exclusion covering its open outage now) and ``links``."""
    extra: dict = {}
    links = {}
    if event.region:
        links["Status page"] = f"{public_url}/#region-{event.region}"
        region = month.get(event.region, {})
        extra.update({k: v for k, v in region.items() if k != "exclusion"})
        if event.type in FAILING_FOR and failing.get(event.region):
            extra["failing"] = failing[event.region]
        if region.get("exclusion") and event.type.startswith("outage."):
            extra["exclusion"] = region["exclusion"]
    elif event.type.startswith(("monitor.", "third_party.")):
        links["Status page"] = f"{public_url}/"
    if event.type in RUNBOOK:
        links["Runbook"] = f"{public_url}/runbooks#runbook-{RUNBOOK[event.type]}"
    if links:
        extra["links"] = links
    return dataclasses.replace(event, data={**event.data, **extra}) if extra else event


def region_context(region: RegionResult) -> dict:
    """What an alert says of its region's month: ``availability_percent``, ``error_budget_remaining_minutes``
    and, when its open outage is excluded now, ``exclusion``."""
    availability = region.figures.availability_percent  # the whole month's if nothing more happens
    context: dict = {"availability_percent": None if availability is None else round(float(availability), 4),
                     "error_budget_remaining_minutes": round(minutes(region.figures.budget_remaining_ms), 1)}
    if (exclusion := _exclusion_now(region)) is not None:
        context["exclusion"] = exclusion
    return context


def month_context(result: MonthResult | None) -> dict[str, dict]:
    """``region_context`` of every region of the month so far. Small and plain: the probe process, which
    records the events its samples cause, gets it from the engine after each refresh."""
    return {r.region: region_context(r) for r in result.regions} if result is not None else {}


def _exclusion_now(region: RegionResult) -> str | None:
    """The reason the region's open outage is excluded now, in words, or None."""
    period = region.open_period()
    e = period.exclusion_now() if period is not None else None
    if e is None or e.reason is None:
        return None
    return f"{e.reason.replace('_', ' ')}: {e.detail}" if e.detail else e.reason
