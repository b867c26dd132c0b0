"""The events the monitor makes (outages, third parties, vantage health, certificates, budget) and
the routes that choose their destinations. The model itself is ``monitor/event.py``."""
from __future__ import annotations

import fnmatch
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from ..config.models import RouteConfig
from ..event import Event
from ..sla.calendar import iso, local_text
from ..sla.model import MaintenanceWindow


def outage_key(region: str, start_ms: int) -> str:
    return f"sla-monitor/{region}/outage/{iso(start_ms)}"


def outage_opened(region: str, start_ms: int, now_ms: int, tz: ZoneInfo | None = None) -> Event:
    """A region down: a notice (warning); the page is ``outage_counted``, once it counts. The summary
    gives the start in ``tz``, the config's zone, as the status page does."""
    return Event(f"outage.opened:{region}:{iso(start_ms)}", "outage.opened", outage_key(region, start_ms), "warning",
                 now_ms, region, f"{region} is down (since {local_text(start_ms, tz)})", {"start": iso(start_ms)})


def outage_resolved(region: str, start_ms: int, now_ms: int) -> Event:
    minutes = (now_ms - start_ms) / 60_000
    return Event(f"outage.resolved:{region}:{iso(start_ms)}", "outage.resolved", outage_key(region, start_ms), "info",
                 now_ms, region, f"{region} is back up after {minutes:.1f} min",
                 {"start": iso(start_ms), "end": iso(now_ms), "minutes": minutes})


def outage_counted(region: str, start_ms: int, now_ms: int, threshold_minutes: float) -> Event:
    return Event(f"outage.counted:{region}:{iso(start_ms)}", "outage.counted", outage_key(region, start_ms),
                 "critical", now_ms, region,
                 f"{region} has been down {threshold_minutes:g}+ minutes: the outage now counts against the SLA",
                 {"start": iso(start_ms)})


def budget_consumed(region: str, month: str, threshold: int, consumed_percent: float, now_ms: int) -> Event:
    severity = "critical" if threshold >= 100 else "warning" if threshold >= 75 else "info"
    return Event(f"budget.consumed:{region}:{month}:{threshold}", "budget.consumed",
                 f"sla-monitor/{region}/budget/{month}/{threshold}", severity, now_ms, region,
                 f"{region} has used {consumed_percent:.1f} % of its {month} error budget (≥ {threshold} %)",
                 {"month": month, "threshold_percent": threshold, "consumed_percent": consumed_percent})


def sla_breached(region: str, month: str, availability: float, credit_percent: int, now_ms: int) -> Event:
    return Event(f"sla.breached:{region}:{month}", "sla.breached", f"sla-monitor/{region}/breach/{month}", "critical",
                 now_ms, region, f"{region} is below target for {month}: {availability:.4f} % "
                                 f"(service credit now {credit_percent} %)",
                 {"month": month, "availability_percent": availability, "credit_percent": credit_percent})


def budget_at_risk(region: str, month: str, outage_start_ms: int, remaining_minutes: float, now_ms: int) -> Event:
    """The open outage exhausts the month's budget if it lasts ``remaining_minutes`` more; under the
    outage's own dedup key (one incident per outage, resolved when the outage is)."""
    return Event(f"budget.at_risk:{region}:{iso(outage_start_ms)}", "budget.at_risk",
                 outage_key(region, outage_start_ms), "warning", now_ms, region,
                 f"{region}: an open outage exhausts the {month} error budget if it lasts "
                 f"{remaining_minutes:.1f} more minutes",
                 {"remaining_minutes": remaining_minutes, "outage_start": iso(outage_start_ms)})


def maintenance(window: MaintenanceWindow, flags: Iterable[str], started: bool, now_ms: int,
                tz: ZoneInfo | None = None) -> Event:
    """maintenance.started (warning when it lacked the notice or overran) or .ended, with the same
    severity as its start: for Alertmanager, one window is one alert with one label set."""
    w, flags = window, list(flags)
    where = w.region or "all regions"
    warning = [f for f in flags if f in ("late_notice", "overrun")]
    severity = "warning" if warning else "info"
    kind = "maintenance.started" if started else "maintenance.ended"
    if started:
        summary = (f"{w.kind} maintenance started in {where} until {local_text(w.end_ms, tz)}: {w.reason}"
                   + (f" (warning: {', '.join(warning)})" if warning else ""))
        data = {"id": w.id, "kind": w.kind, "start": iso(w.start_ms), "end": iso(w.end_ms), "flags": flags}
    else:
        summary = f"maintenance in {where} ended: {w.reason}"
        data = {"id": w.id, "start": iso(w.start_ms), "end": iso(w.end_ms)}
    return Event(f"{kind}:{w.id}", kind, f"sla-monitor/maintenance/{w.id}", severity, now_ms, w.region, summary, data)


def incident_update_due(region: str, incident: str, severity: str, update: int, now_ms: int) -> Event:
    """Status update number ``update`` of an open P1/P2 incident is due (SLA §7)."""
    return Event(f"incident.update_due:{incident}:{update}", "incident.update_due", f"sla-monitor/incident/{incident}",
                 "warning", now_ms, region, f"{severity} incident {incident} is open: status update #{update} is due",
                 {"incident": incident, "update": update})


UPDATE_STATUSES = ("investigating", "identified", "monitoring", "resolved")


def incident_updated(region: str, start_ms: int, status: str, message: str, at_ms: int, by: str,
                     tz: ZoneInfo | None = None) -> Event:
    """A person's narrative update on an outage (``status``: one of UPDATE_STATUSES), shown on the status
    page and in its feed, and sent on the outage's dedup key (an email answers the outage's thread)."""
    return Event(f"incident.updated:{region}:{iso(start_ms)}:{at_ms}", "incident.updated", outage_key(region, start_ms),
                 "info", at_ms, region, f"{region} outage (since {local_text(start_ms, tz)}), {status}: {message}",
                 {"start": iso(start_ms), "status": status, "message": message, "by": by})


def third_party(name: str, provider: str, down: bool, now_ms: int, since_ms: int) -> Event:
    kind = "third_party.down" if down else "third_party.up"
    return Event(f"{kind}:{name}:{iso(since_ms)}", kind, f"sla-monitor/third-party/{name}/{iso(since_ms)}",
                 "warning" if down else "info", now_ms, None,
                 f"{provider} ({name}) is {'down' if down else 'back up'}",
                 {"third_party": name, "provider": provider, "start": iso(since_ms)})


def vantage_health(vantage: str, healthy: bool, since_ms: int, now_ms: int, detail: str) -> Event:
    """monitor.degraded when this vantage's control targets fail (its samples are unknown meanwhile),
    monitor.recovered when they pass again; both carry the degraded spell's start."""
    kind = "monitor.recovered" if healthy else "monitor.degraded"
    what = ("can see the network again: its samples count again" if healthy else
            "cannot see the network (control targets fail): its samples are unknown, not downtime")
    return Event(f"{kind}:{vantage}:{iso(since_ms)}", kind, f"sla-monitor/vantage/{vantage}/{iso(since_ms)}",
                 "info" if healthy else "warning", now_ms, None, f"monitor vantage {vantage} {what} ({detail})",
                 {"vantage": vantage, "since": iso(since_ms), "detail": detail})


def certificate(probe: str, region: str | None, expiry_ms: int, expiring: bool, now_ms: int, detail: str,
                since_ms: int) -> Event:
    """certificate.expiring once per certificate (its expiry is in the id) while fewer than
    ``min_cert_days`` remain; certificate.renewed when the probe sees a later one."""
    kind = "certificate.expiring" if expiring else "certificate.renewed"
    return Event(f"{kind}:{probe}:{iso(expiry_ms)}", kind, f"sla-monitor/certificate/{probe}/{iso(expiry_ms)}",
                 "warning" if expiring else "info", now_ms, region,
                 f"{probe}: {detail}" if expiring else f"{probe}: certificate renewed ({detail})",
                 {"probe": probe, "expires": iso(expiry_ms), "start": iso(since_ms)})


def evidence_month_closed(month: str, seq: int, link: str, signed: bool, public_url: str, now_ms: int) -> Event:
    """A month's close of the evidence chain: its hash, mailed (or posted) when it is written, is a
    commitment with a date on it that the customer cannot take back."""
    signature = "signed with the monitor's Ed25519 key" if signed else "unsigned (no evidence.signing_key)"
    return Event(f"evidence.month_closed:{month}", "evidence.month_closed", f"sla-monitor/evidence/{month}", "info",
                 now_ms, None, f"evidence for {month} closed: link {seq}, SHA-256 {link}, {signature}",
                 {"month": month, "link": seq, "sha256": link, "signed": signed,
                  "public_key": f"{public_url}/evidence/public-key" if signed else None})


def trial_event(now_ms: int, by: str, resolved: bool = False) -> Event:
    """`hooks test`'s event, or its resolve (same dedup key) where the test opened something."""
    key = f"sla-monitor/test/{now_ms}"
    if resolved:
        return Event(f"test.resolved:{now_ms}", "test.resolved", key, "info", now_ms, None,
                     "sla-monitor test event: resolved", {"by": by})
    return Event(f"test:{now_ms}", "test", key, "info", now_ms, None,
                 "sla-monitor test event: this destination is reachable", {"by": by})


def routed(events: Iterable[Event], routes: Sequence[RouteConfig]) -> list[tuple[Event, list[str]]]:
    """Each event with the destinations its routes choose (what the outbox records)."""
    return [(event, routes_for(event, routes)) for event in events]


def routes_for(event: Event, routes: Sequence[RouteConfig]) -> list[str]:
    """The destinations whose routes accept the event (a destination once, in route order)."""
    chosen: list[str] = []
    for route in routes:
        if not any(fnmatch.fnmatchcase(event.type, pattern) for pattern in route.events):
            continue
        if route.regions and event.region not in route.regions:
            continue
        if route.severities and event.severity not in route.severities:
            continue
        if route.destination not in chosen:
            chosen.append(route.destination)
    return chosen


def document_mail(ident: str, kind: str, subject: str, data: dict, now_ms: int) -> Event:
    """A schedule's mail (``kind``: report.monthly, claim.drafted, claim.reminder): its own thread, the
    subject as summary, the mail's parts in ``data``."""
    return Event(ident, kind, ident, "info", now_ms, None, subject, data)


def schedule_skipped(ident: str, why: str, summary: str, month: str, now_ms: int) -> Event:
    """A schedule's sending that had nothing to send, recorded (with no delivery) so it is not asked again."""
    return Event(ident, "schedule.skipped", ident, "info", now_ms, None, summary, {"month": month, "reason": why})


def claim_sent(ident: str, month: str, by: str, now_ms: int) -> Event:
    """The record that a month's claim was sent to the vendor (`claim mark-sent`): the reminders stop."""
    return Event(ident, "claim.sent", ident, "info", now_ms, None,
                 f"the service credit claim for {month} was sent (recorded by {by})", {"month": month})
