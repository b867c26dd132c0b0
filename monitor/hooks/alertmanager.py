"""Alertmanager ``POST /api/v2/alerts``: existing routing, grouping and silences apply. A resolving
event sends the same labels with ``endsAt`` set."""
from __future__ import annotations

import json

from ..sla.calendar import iso
from .events import Event
from .transport import post


OPENING_SEVERITY = {"outage.resolved": "critical", "third_party.up": "warning", "maintenance.ended": "info"}


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    alertname = "SlaOutage" if event.type.startswith("outage.") else \
        "SlaThirdPartyDown" if event.type.startswith("third_party.") else \
        "Sla" + "".join(part.capitalize() for part in event.type.replace("_", ".").split("."))
    labels = {"alertname": alertname, "severity": event.severity, "dedup_key": event.dedup_key, "source": "sla-monitor"}
    if event.region:
        labels["region"] = event.region
    alert = {"labels": labels,
             "annotations": {"summary": event.summary, "event_id": event.id, "event_type": event.type},
             "startsAt": event.data.get("start") or event.as_json()["occurred_at"]}
    if event.resolves:
        alert["endsAt"] = iso(event.occurred_at_ms)
        labels["severity"] = OPENING_SEVERITY[event.type]  # the same label set as the alert it ends
    return json.dumps([alert], separators=(",", ":")).encode(), dict(dest.headers)


async def send(session, dest, body: bytes, headers: dict):
    url = dest.url.rstrip("/")
    return await post(session, url if url.endswith("/api/v2/alerts") else f"{url}/api/v2/alerts", body, headers,
                      dest.timeout)
