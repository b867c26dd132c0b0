"""The service credit claim: a letter to the provider built from the month's report (SLA §8, §9). Pure:
the month's typed result, the evidence of the counted periods, the contract and the terms in; a view for the
claim templates out."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Mapping

from ..sla.result import DownSamples, MonthResult, RegionResult
from .document import (
    Json,
    LocalTimes,
    Terms,
    excluded_words,
    incident_view,
    minutes_text,
    money_text,
    month_span,
    percent_text,
    period_view,
    status_page_summary,
    threshold_text,
    vendor_status_words,
    vendor_words,
)
from .serialize import credit_json, down_samples_json, figures_json


def claimed_regions(result: MonthResult) -> list[RegionResult]:
    """The regions that earned a credit."""
    return [r for r in result.regions if r.credit.eligible and r.credit.total_percent > 0]


def _clauses(result: MonthResult, terms: Terms, deadline: str | None, dated: str) -> list[Json]:
    """The SLA clauses the claim applies, each with what they say, in this contract's figures."""
    third = ", ".join(terms.third_parties) or "the third parties the Service depends on"
    tiers = "; ".join(f"below {below} %: {credit} % of the monthly fee" for below, credit in terms.availability_tiers)
    return [
        {"clause": "§8 Downtime", "text": (
            f"The Service is unavailable in a region while a critical component fails. Such time counts as Downtime "
            f"only where it lasts {threshold_text(result)} or more consecutive minutes, after excluding "
            f"maintenance announced at least {terms.maintenance_notice_hours} hours ahead, emergency maintenance, "
            f"failures of {third}, and the Agreement's other exclusions. Monthly availability is the month's minutes "
            f"less Downtime, over the month's minutes; the commitment is {float(result.target_percent)} % per region.")},
        {"clause": "§9.1 Availability credits", "text": f"Monthly availability {tiers}."},
        {"clause": "§9.2 Resolution credits", "text": (
            "When more than 10 % of a month's P1 and P2 incidents miss their resolution targets, a credit by the "
            "mean delay of the missed ones: up to 25 % over target 10 %, up to 50 % 15 %, more 25 %.")},
        {"clause": "§9.3 Same event", "text": (
            "When one event gives rise to both an availability and a resolution credit, only the larger applies.")},
        {"clause": "§9.4 Cap and claim period", "text": (
            f"A month's credits are capped at {terms.credit_cap_percent} % of its monthly fee and are claimed in "
            f"writing within {terms.claim_window_days} days after the month ends"
            + (f": for this month, by {deadline}; this claim is dated {dated}." if deadline else "."))},
    ]


def claim_view(result: MonthResult, evidence: Mapping[str, Mapping[int, DownSamples | None]], contract: Json,
               terms: Terms, dated: str, marks: list[str], close: Json | None = None) -> Json:
    """Everything the claim letter shows. ``evidence``: per region, each counted period's failed samples
    by its start (ms); ``dated``: the letter's local date; ``marks``: why it is printed anyway (--force);
    ``close``: the month's close in the evidence chain (``paperwork.chain_close``), which the letter cites."""
    times = LocalTimes(result.timezone)
    month = month_span(result)
    claimed = claimed_regions(result)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in claimed:
        if r.credit.amount is not None and r.credit.currency is not None:
            totals[r.credit.currency] += r.credit.amount
    deadline = next((r.credit.claim_deadline.isoformat() for r in claimed if r.credit.claim_deadline), None)
    rows, appendix = [], []
    for r in claimed:
        c, f = r.credit, figures_json(r.figures)
        rows.append({"region": r.region, "availability": percent_text(f["availability_percent"]),
                     "downtime": minutes_text(f["downtime_minutes"]),
                     "availability_credit": f"{c.availability_percent} %",
                     "resolution_credit": f"{c.resolution_percent} %", "same_event": "yes" if c.same_event else "no",
                     "total": f"{c.total_percent} %", "fee": money_text(c.monthly_fee, c.currency),
                     "amount": money_text(c.amount, c.currency),
                     "values": {key: credit_json(c)[key] for key in ("total_percent", "amount", "monthly_fee",
                                                                      "currency")}})
        periods = []
        for p in r.periods:
            if p.counting:
                found = evidence.get(r.region, {}).get(p.start_ms)
                periods.append({**period_view(p, result, times), "samples": None if found is None else {
                    **down_samples_json(found), "first": times.at(found.first_sample_ms),
                    "last": times.at(found.last_sample_ms)}})
        appendix.append({"region": r.region, "periods": periods,
                         "missed": [incident_view(a, times) for a in r.incidents if a.met is False and a.counts],
                         "excluded": excluded_words(r.excluded_ms), "unknown": minutes_text(f["unknown_minutes"]),
                         "vendor": vendor_words(r, times) + vendor_status_words(r, times)})
    return {
        "service": terms.service, "month": result.label, "timezone": result.timezone,
        "first": times.at(month.lo_ms), "last": times.at(month.hi_ms), "dated": dated,
        "contract": contract, "marks": marks, "deadline": deadline,
        "clauses": _clauses(result, terms, deadline, dated),
        "rows": rows, "totals": [f"{amount} {currency}" for currency, amount in sorted(totals.items())],
        "appendix": appendix, "threshold": threshold_text(result), "target": float(result.target_percent),
        "status_page": status_page_summary(result),
        "record": None if close is None else record_text(close),
        "public_key": None if close is None else close.get("public_key"),
    }


def record_text(close: Json) -> str:
    """The paragraph that cites the month's close: what the vendor checks, and with what."""
    signed = "signed with our Ed25519 key, whose public half is below" if close.get("public_key") else (
        "signed with our Ed25519 key" if close["signed"] else "not signed")
    return (f"Our monitor's records are tamper-evident: every batch of samples and every change to a record is "
            f"chained with SHA-256. Its close of {close['month']} is link {close['seq']}, hash {close['link']}, "
            f"{signed}. The bundle evidence-{close['month']}.zip holds the month's samples, records and report; "
            f"`pip install sla-monitor` and `sla-monitor evidence verify evidence-{close['month']}.zip --public-key "
            f"KEY.pem` check it and compute the month again.")
