"""PagerDuty Events API v2. Every trigger has a resolve on the same ``dedup_key``; facts that have no
end are Change Events, which never page and need no resolve. One outage, one page: its opening is
a Change Event (a brief or wholly excluded outage pages nobody); it triggers once it counts.

| trigger (pages, by its severity) | resolved by |
| --- | --- |
| outage.counted, budget.at_risk | outage.resolved (one incident per outage) |
| third_party.down | third_party.up |
| monitor.degraded | monitor.recovered |
| maintenance.started | maintenance.ended |
| certificate.expiring | certificate.renewed |
| test (`hooks test`) | test.resolved, sent right after |

Change Events (``/v2/change/enqueue``): outage.opened, budget.consumed, sla.breached, incident.update_due, incident.updated,
evidence.month_closed."""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from ..event import Event
from .base import SECRET, URL, DestinationSettings
from .text import cut
from .transport import Result, post

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}
CHANGE_EVENTS = frozenset({"outage.opened", "budget.consumed", "sla.breached", "incident.update_due", "incident.updated",
                           "evidence.month_closed"})
SUMMARY_MAX, DEDUP_MAX = 1024, 255  # the Events API's limits

def _links(event: Event) -> list[dict]:
    links = event.data.get("links", {})
    return [{"href": href, "text": text} for text, href in links.items()]

def change_url(url: str) -> str:
    """The Change Events endpoint beside the configured Events endpoint."""
    return url.removesuffix("/v2/enqueue") + "/v2/change/enqueue" if url.endswith("/v2/enqueue") else url

class PagerDutyDestination(DestinationSettings):
    """PagerDuty Events API v2."""

    stateful: ClassVar[bool] = True

    type: Literal["pagerduty"]
    """PagerDuty Events API v2."""
    url: str = Field("https://events.pagerduty.com/v2/enqueue", pattern=URL, json_schema_extra=SECRET)
    """The Events API endpoint."""
    routing_key: str = Field(json_schema_extra=SECRET)
    """The integration key of an Events API v2 integration; use ${VAR}."""

    @field_validator("routing_key")
    @classmethod
    def _integration_key(cls, key: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{32}", key):
            raise ValueError("must be the 32-character integration key of an Events API v2 integration "
                             "(PagerDuty service → Integrations)")
        return key

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        details = {"event_id": event.id, "type": event.type, **{k: v for k, v in event.data.items() if k != "links"}}
        if event.type in CHANGE_EVENTS:
            body: dict = {"routing_key": self.routing_key,
                          "payload": {"summary": cut(event.summary, SUMMARY_MAX), "timestamp": event.as_json()["occurred_at"],
                                      "source": f"sla-monitor/{event.region or 'global'}", "custom_details": details}}
        else:
            body = {"routing_key": self.routing_key, "dedup_key": cut(event.dedup_key, DEDUP_MAX),
                    "event_action": "resolve" if event.resolves else "trigger"}
            if not event.resolves:
                payload = {"summary": cut(event.summary, SUMMARY_MAX), "source": f"sla-monitor/{event.region or 'global'}",
                           "severity": SEVERITY[event.severity], "timestamp": event.as_json()["occurred_at"],
                           "group": "sla", "class": event.type, "custom_details": details}
                if event.region:  # a string or absent, never null
                    payload["component"] = event.region
                body["payload"] = payload
        if _links(event):
            body["links"] = _links(event)
        return json.dumps(body, separators=(",", ":")).encode(), dict(self.headers)

    async def send(self, session: aiohttp.ClientSession, body: bytes, headers: dict) -> Result:
        """POST to the Events or the Change Events endpoint. The shared classification fits PagerDuty's
        answers: 202 accepted, 400 an invalid event (permanent), 429 throttled and 5xx retried."""
        change = b'"dedup_key"' not in body and b'"event_action"' not in body
        return await post(session, change_url(self.url) if change else self.url, body, headers, self.timeout)
