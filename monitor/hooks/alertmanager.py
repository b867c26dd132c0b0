"""Alertmanager ``POST /api/v2/alerts``, as Prometheus does it: existing routing, grouping, silences
and inhibitions apply.

A condition (an outage from opened through counted to resolved, a third party down, this vantage
unable to see the network, a maintenance window, a certificate near its end) is one alert: the same
labels from start to end. While it holds, the daemon re-posts it every ``resend_interval`` with
``startsAt`` fixed and ``endsAt`` four intervals ahead (``monitor/hooks/resend.py``), so Alertmanager
never resolves it on its own; its end posts ``endsAt`` = now once. One-off events (budget, breach,
update due) are posted with ``endsAt`` four intervals ahead and end by themselves."""
from __future__ import annotations

import json

import aiohttp

from ..sla.calendar import iso
from .context import detail_lines
from .events import Event
from .transport import Result, post

# The alert name of each condition, by event type; one-off events get "Sla" + their type in CamelCase.
CONDITIONS = {
    "outage.opened": "SlaOutage", "outage.counted": "SlaOutage", "outage.resolved": "SlaOutage",
    "third_party.down": "SlaThirdPartyDown", "third_party.up": "SlaThirdPartyDown",
    "monitor.degraded": "SlaVantageUnhealthy", "monitor.recovered": "SlaVantageUnhealthy",
    "maintenance.started": "SlaMaintenance", "maintenance.ended": "SlaMaintenance",
    "certificate.expiring": "SlaCertificateExpiring", "certificate.renewed": "SlaCertificateExpiring",
    "test": "SlaTest", "test.resolved": "SlaTest",
}
# The severity label a condition keeps to its end (an alert's labels are its identity).
# (A maintenance window keeps its own: warning when it lacked notice or overran, start and end alike.)
CONDITION_SEVERITY = {"SlaOutage": "critical", "SlaThirdPartyDown": "warning", "SlaVantageUnhealthy": "warning",
                      "SlaCertificateExpiring": "warning"}
ENDS_AHEAD = 4  # endsAt this many resend intervals ahead, as Prometheus does


def alertname(event: Event) -> str:
    return CONDITIONS.get(event.type) or "Sla" + "".join(
        part.capitalize() for part in event.type.replace("_", ".").split("."))


def labels(event: Event) -> dict:
    """The alert's identity: the same for every event of one condition."""
    name = alertname(event)
    found = {"alertname": name, "severity": CONDITION_SEVERITY.get(name, event.severity),
             "dedup_key": event.dedup_key, "source": "sla-monitor"}
    if event.region:
        found["region"] = event.region
    return found


def alert(event: Event, now_ms: int, resend_ms: int) -> dict:
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
    return {"labels": labels(event), "annotations": annotations,
            "startsAt": event.data.get("start") or event.data.get("since") or event.as_json()["occurred_at"],
            "endsAt": iso(ends)}


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    return json.dumps([alert(event, now_ms, dest.resend_interval)], separators=(",", ":")).encode(), dict(dest.headers)


def build_resend(conditions: list[Event], dest, now_ms: int) -> bytes:
    """Every condition that still holds, in one post."""
    return json.dumps([alert(e, now_ms, dest.resend_interval) for e in conditions], separators=(",", ":")).encode()


async def send(session: aiohttp.ClientSession, dest, body: bytes, headers: dict) -> Result:
    url = dest.url.rstrip("/")
    return await post(session, url if url.endswith("/api/v2/alerts") else f"{url}/api/v2/alerts", body, headers,
                      dest.timeout)
