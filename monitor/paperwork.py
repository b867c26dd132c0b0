"""The month's paperwork from the store: the terms a document states, the claim's material, and the
mails the schedules send (the report, the drafted claim, its reminders) as outbox events whose data the
email destination lays out (subject, paragraphs, listed figures, the PDF). Shared by the commands and the daemon."""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from .accounting import counted_evidence, month_report
from .config import Config
from .config.fleet import Fleet
from .event import Event
from .hooks import events
from .reports import Terms
from .reports.claim import claimed_regions
from .reports.document import percent_text
from .schedules import Occurrence
from .sla.calendar import claim_deadline
from .sla.model import minutes
from .sla.result import MonthResult
from .storage.interface import Storage
from .storage.sqlstore import SqlStore

# The outbox event types of the schedules' mails (recorded with their one destination, never routed).
DOCUMENT_TYPES = ("report.monthly", "claim.drafted", "claim.reminder")
SENT_MARK = "claim.sent"  # `claim mark-sent`: an event with no delivery, by month


def terms_of(cfg: Config) -> Terms:
    """The contract's terms a document states beside the figures."""
    p = cfg.policy
    return Terms(service=cfg.service, credit_cap_percent=p.credit_cap_percent,
                 maintenance_notice_hours=p.maintenance_notice_hours, claim_window_days=p.claim_window_days,
                 availability_tiers=tuple((str(t.below_percent), t.credit_percent)
                                          for t in sorted(p.availability_credits, key=lambda t: -t.below_percent)),
                 third_parties=tuple(dict.fromkeys(t.provider for t in cfg.third_parties)))


def claim_material(store: Storage, fleet: Fleet, year: int, month: int, now_ms: int,
                   regions: list[str] | None = None,
                   signing_key: str | None = None) -> tuple[MonthResult, list[str], dict, dict | None]:
    """The month's result, the regions that earned a credit, each one's evidence (the failed samples of
    its counted periods, by period start), and the month's close in the evidence chain (None: not closed;
    with the public half of ``signing_key``, the config's, when there is one)."""
    result = month_report(store, fleet, year, month, now_ms, regions)
    claimed = [r.region for r in claimed_regions(result)]
    evidence = {name: {start: found for (start, _), found in counted_evidence(store, fleet, result, name).items()}
                for name in claimed}
    return result, claimed, evidence, chain_close(store, f"{year:04d}-{month:02d}", signing_key)


def chain_close(store: Storage, label: str, signing_key: str | None) -> dict | None:
    """The month's close in the evidence chain, as a claim cites it: its link, its hash, whether signed,
    and the public key that checks the signature."""
    if not isinstance(store, SqlStore):
        return None
    close = store.close_of(label)
    if close is None:
        return None
    public_key = None
    if close.signature is not None and signing_key is not None:
        from .signing import load, public_pem  # cryptography, only when there is a key

        public_key = public_pem(load(signing_key))
    return {"month": label, "seq": close.seq, "link": close.link, "signed": close.signature is not None,
            "public_key": public_key}


def sent_mark_id(label: str) -> str:
    """The id of `claim mark-sent --month label`'s record."""
    return f"{SENT_MARK}:{label}"


def sent_mark(label: str, by: str, now_ms: int) -> Event:
    """The record that the claim for ``label`` was sent to the vendor (the reminders stop)."""
    return events.claim_sent(sent_mark_id(label), label, by, now_ms)


def _key_figures(result: MonthResult) -> list[str]:
    lines = []
    for r in result.regions:
        availability = r.figures.availability_percent
        credit = f", credit {r.credit.total_percent} %" if r.credit.eligible and r.credit.total_percent else ""
        lines.append(f"{r.region}: availability {percent_text(None if availability is None else float(availability))}, "
                     f"Downtime {minutes(r.figures.downtime_ms):g} min{credit}")
    return lines


def document_event(occ: Occurrence, cfg: Config, now_ms: int, result: MonthResult, pdf: bytes,
                   link: str | None) -> Event:
    """The mail of ``occ``: the report (key figures, PDF attached), the drafted claim, or a reminder."""
    label, service = occ.label, cfg.service
    figures = _key_figures(result)
    deadline = claim_deadline(occ.year, occ.month, cfg.policy.claim_window_days)
    if occ.kind == "report":
        kind, subject = "report.monthly", f"{service}: SLA report for {label}"
        said = [f"The SLA report of {service} for {label} is attached (PDF).", "Each region's month:"]
        name = f"sla-report-{label}.pdf"
    else:
        claimed = [r for r in claimed_regions(result)]
        credits = ", ".join(f"{r.region} {r.credit.total_percent} %" for r in claimed)
        ask = (f"Check it, send it to the vendor by {deadline.isoformat()} (SLA §9.4: "
               f"{cfg.policy.claim_window_days} days after the month), then record it: "
               f"sla-monitor claim mark-sent --month {label}")
        name = f"sla-claim-{label}.pdf"
        if occ.kind == "claim":
            kind, subject = "claim.drafted", f"{service}: service credit claim for {label} drafted ({credits})"
            said = [f"{label} closed with a service credit ({credits}). The drafted claim is attached (PDF).", ask]
        else:
            kind = "claim.reminder"
            subject = f"{service}: the claim for {label} is due in {occ.days_before} days ({deadline.isoformat()})"
            said = [f"The service credit claim for {label} ({credits}) is not marked sent, and its deadline is "
                    f"{deadline.isoformat()}. The drafted claim is attached again.", ask]
    if link:
        said.append(f"Also at {link}")
    # The mail's words; the email destination lays them out as text and HTML.
    data: dict[str, Any] = {"month": label, "subject": subject, "paragraphs": said, "items": figures,
                            "attachment": {"name": name, "type": "application/pdf",
                                           "base64": base64.b64encode(pdf).decode()}}
    if link:
        data["link"] = link
    return events.document_mail(occ.id, kind, subject, data, now_ms)


def local_date(now_ms: int, timezone: str) -> dt.date:
    """``now_ms``'s local date in ``timezone``."""
    return dt.datetime.fromtimestamp(now_ms / 1000, ZoneInfo(timezone)).date()
