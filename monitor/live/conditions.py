"""The conditions that hold now, as their opening events: what the Alertmanager resends re-post
(``hooks/resend.py`` asks for them; it knows nothing of the live side)."""
from __future__ import annotations

from ..event import Event
from ..hooks import detect, events
from ..sla.model import Policy
from .alerts import AlertMaker
from .figures import LiveFigures
from .handoff import VantageStatus
from .state import LiveState


def active_conditions(live: LiveState, alerts: AlertMaker, vantage: VantageStatus, figures: LiveFigures,
                      policy: Policy, now_ms: int) -> list[Event]:
    """The opening event of every condition that holds now (same ids and labels as when it opened):
    the live state's standing ones (open outages, third parties down, certificates warned about), each
    outage's counting once it counts (from the month-to-date figures), a degraded vantage, maintenance."""
    found = alerts.events(live.standing(now_ms))
    if figures.current is not None:
        found += [e for e in detect.counting_outages(figures.current, policy, now_ms, live.outage_start)
                  if e.region in live.outage_start]
    if vantage.degraded_since_ms is not None:
        found.append(events.vantage_health(vantage.vantage, False, vantage.degraded_since_ms, now_ms,
                                           vantage.detail or ""))
    found += [e for e in detect.from_maintenance(figures.maintenance, policy, now_ms, live.zone)
              if e.type == "maintenance.started"]
    return found
