"""PagerDuty Events API v2: trigger, and resolve with the same stable ``dedup_key``."""
from __future__ import annotations

import json

from .events import Event
from .transport import post

SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    body: dict = {"routing_key": dest.routing_key, "dedup_key": event.dedup_key,
                  "event_action": "resolve" if event.resolves else "trigger"}
    if not event.resolves:
        body["payload"] = {"summary": event.summary[:1024], "source": f"sla-monitor/{event.region or 'global'}",
                           "severity": SEVERITY[event.severity], "timestamp": event.as_json()["occurred_at"],
                           "component": event.region, "group": "sla", "class": event.type,
                           "custom_details": {"event_id": event.id, **event.data}}
    return json.dumps(body, separators=(",", ":")).encode(), dict(dest.headers)


async def send(session, dest, body: bytes, headers: dict):
    return await post(session, dest.url, body, headers, dest.timeout)
