"""The conditions that hold now, as their opening events: what the Alertmanager resends re-post
(``hooks/resend.py`` asks for them; it knows nothing of the live side)."""
from __future__ import annotations

from ..event import Event
from ..hooks import detect, events
from ..sla.model import Policy
from .figures import LiveFigures
from .handoff import VantageStatus
from .tracker import Tracker


def active_conditions(tracker: Tracker, vantage: VantageStatus, figures: LiveFigures, policy: Policy,
                      now_ms: int) -> list[Event]:
    """The opening event of every condition that holds now (same ids and labels as when it opened):
    each open outage, and its counting once it counts (from the month-to-date figures)."""
    found = [events.outage_opened(region, start, now_ms, tracker.zone)
             for region, start in tracker.outage_start.items()]
    if figures.current is not None:
        found += [e for e in detect.counting_outages(figures.current, policy, now_ms)
                  if e.region in tracker.outage_start]
    providers = {t.name: t.provider for t in tracker.cfg.third_parties}
    found += [events.third_party(name, providers[name], True, now_ms, since)
              for name, since in tracker.third_down_since.items()]
    if vantage.degraded_since_ms is not None:
        found.append(events.vantage_health(vantage.vantage, False, vantage.degraded_since_ms, now_ms,
                                           vantage.detail or ""))
    found += [e for e in detect.from_maintenance(figures.maintenance, policy, now_ms, tracker.zone)
              if e.type == "maintenance.started"]
    for probe, (expiry, since) in tracker.cert_warned.items():
        state = tracker.probes[probe]
        warning = ((state.last.detail or {}).get("warning") if state.last is not None else None) or "expiring"
        found.append(events.certificate(probe, state.region, expiry, True, now_ms, warning, since))
    return found
