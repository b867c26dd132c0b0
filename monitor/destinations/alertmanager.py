"""Alertmanager ``POST /api/v2/alerts``, as Prometheus does it: existing routing, grouping, silences
and inhibitions apply.

A condition (a region down, its outage counting against the SLA, a third party down, this vantage
unable to see the network, a maintenance window, a certificate near its end) is one alert: the same
labels from start to end. While it holds, the daemon re-posts it every ``resend_interval`` with
``startsAt`` fixed and ``endsAt`` four intervals ahead (``monitor/hooks/resend.py``), so Alertmanager
never resolves it on its own; its end posts ``endsAt`` = now once. One-off events (budget, breach,
update due) are posted with ``endsAt`` four intervals ahead and end by themselves.

One outage, one page: the region down is a notice (``SlaRegionDown``, warning) from the outage's
opening; the page (``SlaOutage``, critical) starts only when the outage counts (15 minutes after
exclusions), so a brief or a wholly excluded outage pages nobody. The recovery ends both. Facts with
no end never page either (as PagerDuty change events): their severity label stops at warning."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, Literal

from ..event import Event
from ..sla.calendar import iso
from ..values import DurationMs
from .base import DestinationSettings
from .text import detail_lines
from .transport import Result, post

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

# The alert name of each condition, by event type; one-off events get "Sla" + their type in CamelCase.
CONDITIONS = {
    "outage.opened": "SlaRegionDown", "outage.counted": "SlaOutage",
    "third_party.down": "SlaThirdPartyDown", "third_party.up": "SlaThirdPartyDown",
    "monitor.degraded": "SlaVantageUnhealthy", "monitor.recovered": "SlaVantageUnhealthy",
    "maintenance.started": "SlaMaintenance", "maintenance.ended": "SlaMaintenance",
    "certificate.expiring": "SlaCertificateExpiring", "certificate.renewed": "SlaCertificateExpiring",
    "test": "SlaTest", "test.resolved": "SlaTest",
}
# The severity label a condition keeps to its end (an alert's labels are its identity).
# (A maintenance window keeps its own: warning when it lacked notice or overran, start and end alike.)
CONDITION_SEVERITY = {"SlaRegionDown": "warning", "SlaOutage": "critical", "SlaThirdPartyDown": "warning",
                      "SlaVantageUnhealthy": "warning", "SlaCertificateExpiring": "warning"}
# An outage's recovery ends both of its alerts (one of them never posted when it never counted: an
# alert Alertmanager never saw firing notifies nobody).
OUTAGE_ALERTS = ("SlaRegionDown", "SlaOutage")
ONE_OFF_SEVERITY_CAP = "warning"  # a fact with no end (budget, breach) is never a page
ENDS_AHEAD = 4  # endsAt this many resend intervals ahead, as Prometheus does

def alertname(event: Event) -> str:
    return CONDITIONS.get(event.type) or "Sla" + "".join(
        part.capitalize() for part in event.type.replace("_", ".").split("."))

def _severity(name: str, event: Event) -> str:
    if name in CONDITION_SEVERITY:
        return CONDITION_SEVERITY[name]
    return ONE_OFF_SEVERITY_CAP if event.severity == "critical" and name not in CONDITIONS.values() else event.severity

def labels(event: Event, name: str | None = None) -> dict:
    """The alert's identity: the same for every event of one condition."""
    name = name or alertname(event)
    found = {"alertname": name, "severity": _severity(name, event), "dedup_key": event.dedup_key,
             "source": "sla-monitor"}
    if event.region:
        found["region"] = event.region
    return found

def alerts(event: Event, now_ms: int, resend_ms: int) -> list[dict]:
    """The event's alerts: one, or both of an outage's at its recovery."""
    names = OUTAGE_ALERTS if event.type == "outage.resolved" else (alertname(event),)
    return [alert(event, now_ms, resend_ms, name) for name in names]

def alert(event: Event, now_ms: int, resend_ms: int, name: str | None = None) -> dict:
    """One alert: ``endsAt`` when the condition ended for an event that ends it (even if delivered
    later), else ``ENDS_AHEAD`` resends ahead."""
    ends = event.occurred_at_ms if event.resolves else now_ms + ENDS_AHEAD * resend_ms
    annotations = {"summary": event.summary, "event_id": event.id, "event_type": event.type,
                   "severity_now": event.severity}
    description = "\n".join(detail_lines(event))
    if description:
        annotations["description"] = description
    links = event.data.get("links", {})
    if "Runbook" in links:
        annotations["runbook_url"] = links["Runbook"]
    if "Status page" in links:
        annotations["status_url"] = links["Status page"]
    return {"labels": labels(event, name), "annotations": annotations,
            "startsAt": event.data.get("start") or event.data.get("since") or event.as_json()["occurred_at"],
            "endsAt": iso(ends)}

class AlertmanagerDestination(DestinationSettings):
    """Alertmanager's /api/v2/alerts."""

    stateful: ClassVar[bool] = True
    posts_rule_alerts: ClassVar[bool] = True  # SlaRegionDown and SlaOutage, as the rules name them

    type: Literal["alertmanager"]
    """Alertmanager's /api/v2/alerts."""
    resend_interval: DurationMs = 60_000
    """While a condition holds its alert is re-posted this often, with endsAt four intervals ahead."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        return json.dumps(alerts(event, now_ms, self.resend_interval), separators=(",", ":")).encode(), dict(self.headers)

    def resend_interval_ms(self) -> int | None:
        return self.resend_interval

    def build_resend(self, conditions: list[Event], now_ms: int) -> bytes:
        """Every condition that still holds, in one post."""
        return json.dumps([a for e in conditions for a in alerts(e, now_ms, self.resend_interval)],
                          separators=(",", ":")).encode()

    async def send(self, session: aiohttp.ClientSession, body: bytes, headers: dict) -> Result:
        url = self.url.rstrip("/")
        return await post(session, url if url.endswith("/api/v2/alerts") else f"{url}/api/v2/alerts", body, headers,
                          self.timeout, self.judge)
