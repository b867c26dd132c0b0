"""The event model, below everything that makes, stores or sends events (the live side, hooks,
storage, config's route checks): every alert is an Event with a stable id (fires once) and a dedup
key (pairs a trigger with its resolve, e.g. one outage's opened/counted/resolved)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .sla.calendar import iso

SEVERITIES = ("critical", "warning", "info")
# Every event type the daemon and `hooks test` produce (routes are checked against it).
EVENT_TYPES = ("outage.opened", "outage.counted", "outage.resolved", "budget.consumed", "budget.at_risk",
               "sla.breached", "maintenance.started", "maintenance.ended", "third_party.down", "third_party.up",
               "incident.update_due", "incident.updated", "monitor.degraded", "monitor.recovered", "certificate.expiring",
               "certificate.renewed", "evidence.month_closed", "test", "test.resolved")


@dataclass(frozen=True)
class Event:
    id: str  # stable: the same happening always has the same id, so it is recorded once
    type: str  # outage.opened, outage.counted, outage.resolved, budget.consumed, sla.breached, …
    dedup_key: str
    severity: str
    occurred_at_ms: int
    region: str | None = None
    summary: str = ""
    data: dict = field(default_factory=dict)

    @property
    def resolves(self) -> bool:
        """Whether this event ends what its dedup key opened (PagerDuty resolve, Alertmanager endsAt)."""
        return self.type in ("outage.resolved", "third_party.up", "maintenance.ended", "monitor.recovered",
                             "certificate.renewed", "test.resolved")

    def as_json(self) -> dict:
        return {"id": self.id, "type": self.type, "dedup_key": self.dedup_key, "severity": self.severity,
                "occurred_at": iso(self.occurred_at_ms), "region": self.region, "summary": self.summary,
                "data": self.data}

    @classmethod
    def from_json(cls, d: dict, occurred_at_ms: int) -> "Event":
        return cls(d["id"], d["type"], d["dedup_key"], d["severity"], occurred_at_ms, d.get("region"),
                   d.get("summary", ""), d.get("data", {}))


# Conditions whose state lives only in the outbox (not in the samples): the event that opens each,
# and the one that ends it. A restart picks up those still open, so their end is announced once.
RESTORED_CONDITIONS = {"monitor.degraded": "monitor.recovered", "certificate.expiring": "certificate.renewed"}


def still_open(recorded: Iterable[Event], ends: Mapping[str, str] = RESTORED_CONDITIONS) -> list[Event]:
    """Of events in recording order, the latest opening event of each dedup key that nothing ended
    since (``ends``: opening type → ending type)."""
    open_by_key: dict[str, Event] = {}
    endings = set(ends.values())
    for event in recorded:
        if event.type in ends:
            open_by_key[event.dedup_key] = event
        elif event.type in endings:
            open_by_key.pop(event.dedup_key, None)
    return list(open_by_key.values())
