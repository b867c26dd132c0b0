"""The alert maker: the live state's transitions as events (each built by ``hooks/events.py``), and the
log lines an operator greps for. The one place a transition becomes an event."""
from __future__ import annotations

import logging
from typing import Iterable
from zoneinfo import ZoneInfo

from ..config import Config
from ..event import Event
from ..hooks import events
from ..sla.calendar import iso
from .state import CertificateNearExpiry, CertificateReplaced, OutageOpened, OutageResolved, ThirdPartyChanged, Transition

log = logging.getLogger("sla_monitor.state")


class AlertMaker:
    def __init__(self, cfg: Config):
        self.zone = ZoneInfo(cfg.timezone)  # outage summaries give times as the status page does
        self.providers = {t.name: t.provider for t in cfg.third_parties}

    def announce(self, transitions: Iterable[Transition]) -> list[Event]:
        """One event per new transition, in order, with the log line an operator looks for."""
        found = []
        for t in transitions:
            match t:
                case OutageOpened():
                    log.warning("event=outage_opened region=%s since=%s", t.region, iso(t.start_ms))
                case OutageResolved():
                    log.info("event=outage_resolved region=%s", t.region)
                case CertificateNearExpiry():
                    log.warning("event=certificate_expiring probe=%s expires=%s", t.probe, iso(t.expiry_ms))
            found.append(self.event(t))
        return found

    def events(self, transitions: Iterable[Transition]) -> list[Event]:
        """One event per transition, in order (a resend's: nothing is logged)."""
        return [self.event(t) for t in transitions]

    def event(self, t: Transition) -> Event:
        """The event that announces ``t``."""
        match t:
            case OutageOpened():
                return events.outage_opened(t.region, t.start_ms, t.at_ms, self.zone)
            case OutageResolved():
                return events.outage_resolved(t.region, t.start_ms, t.at_ms)
            case ThirdPartyChanged():
                return events.third_party(t.name, self.providers[t.name], t.down, t.at_ms, t.since_ms)
            case CertificateNearExpiry():
                return events.certificate(t.probe, t.region, t.expiry_ms, True, t.at_ms, t.warning, t.since_ms)
            case CertificateReplaced():
                return events.certificate(t.probe, t.region, t.expiry_ms, False, t.at_ms,
                                          f"now valid until {iso(t.now_valid_until_ms)}", t.since_ms)
        raise TypeError(f"not a transition: {t!r}")
