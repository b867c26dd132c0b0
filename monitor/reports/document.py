"""The monthly report as a document people read (HTML, PDF, Markdown): the engine's typed result turned
into sentences, local times and chart geometry. Pure: the ``MonthResult`` and the contract's facts in,
plain dicts for the templates out; instants stay integer ms until a ``LocalTimes`` writes them. Every
figure shown is the report JSON's own value (made by ``serialize``, never parsed back); ``figure`` keeps
that value beside its text so a test (or a reader's script) can check one against the other."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from ..sla.calendar import from_ms, local_text, month_bounds, utc_offset
from ..sla.incidents import RESPONSE_TARGET_MS, UPDATE_INTERVAL_MS, Assessment
from ..sla.model import MINUTE_MS
from ..sla.result import CreditResult, Evidence, ExclusionSlice, MaintenanceResult, MonthResult, PeriodResult, RegionResult
from ..sla.vendor_status import overall
from .serialize import credit_json, figures_json, minutes

Json = dict[str, Any]

REASON_WORDS = {
    "maintenance": "announced maintenance",
    "emergency_maintenance": "emergency maintenance",
    "third_party": "third-party outage",
    "customer": "caused by the customer",
    "customer_network": "the customer's network",
    "customer_config": "the customer's configuration",
    "force_majeure": "force majeure",
    "suspension": "suspension of the Service",
    "beta": "beta feature",
    "unsupported_integration": "unsupported integration",
    "external_security": "external security event",
}
FLAG_WORDS = {
    "late_notice": "announced late: excludes nothing",
    "overrun": "longer than the longest maintenance window allowed",
    "disputed": "disputed: excludes nothing",
    "cancelled": "cancelled: excludes nothing",
    "emergency": "emergency",
}
UNKNOWN_WORDS = {"vantage_unhealthy": "the monitor's own network was down", "monitor_fault": "the monitor's own fault",
                 "feed_unreadable": "a status feed could not be read", "no_data": "no samples"}


@dataclass(frozen=True)
class Terms:
    """What the document says of the contract beyond the report object (from the config)."""

    service: str
    credit_cap_percent: int
    maintenance_notice_hours: int
    claim_window_days: int
    availability_tiers: tuple[tuple[str, int], ...] = ()  # (below this availability %, credit %)
    third_parties: tuple[str, ...] = ()  # the providers whose outages are excluded


class LocalTimes:
    """Instants (UTC ms) shown in the report's own time zone, each with its UTC offset."""

    def __init__(self, timezone: str):
        self.tz = ZoneInfo(timezone)

    def local(self, ms: int) -> dt.datetime:
        return from_ms(ms).astimezone(self.tz)

    def at(self, ms: int | None) -> str:
        """``2026-09-12 09:05 +02:00`` (seconds when there are any)."""
        return "–" if ms is None else local_text(ms, self.tz)

    def span(self, start_ms: int, end_ms: int) -> str:
        """``2026-09-12 09:05–09:40 +02:00``, the end's date and offset repeated only when they differ."""
        return "".join(self.span_parts(start_ms, end_ms))

    def span_parts(self, start_ms: int, end_ms: int) -> tuple[str, str, str]:
        """``span``'s text as (the start's, the dash between, the end's), for markup around each end."""
        a, b = self.local(start_ms), self.local(end_ms)
        if a.date() == b.date() and a.utcoffset() == b.utcoffset():
            clock = "%H:%M:%S" if b.second else "%H:%M"
            return self.at(start_ms).rsplit(" ", 1)[0], "–", f"{b.strftime(clock)} {utc_offset(b)}"
        return self.at(start_ms), " – ", self.at(end_ms)


def figure(value: Any, text: str, key: str) -> Json:
    """A figure as shown (``text``) with the JSON value it shows and the report key it comes from."""
    return {"key": key, "value": value, "text": text}


def minutes_text(value: float) -> str:
    return f"{value:.2f} min"


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.6f} %"


def span_minutes(start_ms: int, end_ms: int) -> float:
    """A stretch's length in float minutes, as the report JSON gives it."""
    return (end_ms - start_ms) / MINUTE_MS


def counted_minutes(p: PeriodResult) -> float:
    """The minutes of a period's counted pieces, summed as the JSON's piece minutes add up."""
    return sum(span_minutes(x.start_ms, x.end_ms) for x in p.pieces if x.counted)


def verdict_words(met: bool | None) -> str:
    """Whether the month met its target, for people; None is a month with nothing observed."""
    return "not assessable (no data)" if met is None else "yes" if met else "NO"


def excluded_words(excluded_ms: Mapping[str, int]) -> str:
    """Excluded time by reason, in words: ``third-party outage 35.00 min; …`` (or ``none``)."""
    parts = [f"{REASON_WORDS.get(reason, reason)} {minutes_text(minutes(ms))}" for reason, ms in excluded_ms.items()
             if ms]
    return "; ".join(parts) or "none"


def unknown_words(region: RegionResult) -> str:
    """Unknown time with its causes, in words."""
    causes = [f"{UNKNOWN_WORDS.get(cause, cause)} {minutes_text(minutes(ms))}"
              for cause, ms in region.unknown_by_cause.items() if ms]
    return minutes_text(minutes(region.figures.unknown_ms)) + (f" ({'; '.join(causes)})" if causes else "")


def exclusion_sentence(e: ExclusionSlice, evidence: Evidence | None, times: LocalTimes) -> str:
    """One exclusion in words with its evidence (a third party's: None when its samples are past
    retention): who or what, when, and how it was seen."""
    span, detail = times.span(e.start_ms, e.end_ms), e.detail
    if e.third_party is not None:
        components = ", ".join(f"{c.get('name') or c.get('id')} {str(c.get('status') or 'down').replace('_', ' ')}"
                               for c in (evidence.components if evidence else ()))
        incidents = ", ".join(i.get("name") or i.get("id") or "" for i in (evidence.incidents if evidence else ()))
        text = (f"{detail} ({e.third_party}) unavailable" + (f": {components}" if components else "")
                + (f", incident {incidents}" if incidents else "") + f", {span}")
        if evidence is None:
            return text + ", its samples are past retention"
        return text + (f", seen by {', '.join(evidence.probes)} ({evidence.samples} failed samples, first "
                       f"{times.at(evidence.first_sample_ms)}, last {times.at(evidence.last_sample_ms)}"
                       + (f": {evidence.error}" if evidence.error else "") + ")")
    what = "not excluded" if e.reason is None else REASON_WORDS.get(e.reason, "not excluded")
    source = e.source.replace(":", " ")
    return f"{what} ({source}{': ' + detail if detail else ''}), {span}"


def flags_words(flags: tuple[str, ...]) -> list[str]:
    return [FLAG_WORDS.get(flag, flag) for flag in flags]


def money_text(amount: object, currency: str | None) -> str:
    """An amount of the credit (or the fee) with its currency, "–" when there is none."""
    return "–" if amount is None else f"{amount} {currency}"


def credit_sentence(credit: CreditResult, terms: Terms) -> str:
    """The credit with the rules that made it (SLA §9)."""
    if not credit.eligible:
        return f"No service credit: {credit.reason}."
    parts = [f"availability credit {credit.availability_percent} %",
             f"resolution credit {credit.resolution_percent} % ({credit.resolution_missed} of "
             f"{credit.resolution_counted} incidents missed their resolution target)"]
    if credit.same_event:
        parts.append("the same event caused both, so the larger applies (§9.3)")
    elif credit.availability_percent and credit.resolution_percent:
        parts.append("separate events, so both apply (§9.3)")
    money = ""
    if credit.amount is not None:
        money = (f" = {credit.amount} {credit.currency} of the monthly fee of {credit.monthly_fee} "
                 f"{credit.currency}")
    deadline = None if credit.claim_deadline is None else credit.claim_deadline.isoformat()
    return (f"Service credit {credit.total_percent} %{money}: {'; '.join(parts)}; capped at "
            f"{terms.credit_cap_percent} % a month (§9.4). Claim by {deadline} "
            f"({terms.claim_window_days} days after the month, §9.4).")


# -- chart geometry (SVG user units: the month is 1000 wide) -----------------------------------------
WIDTH = 1000
# Band colours are SVG attributes, not CSS: PDF renderers style inline SVG less fully than browsers.
COLOURS = {"up": "#2e9e5b", "counted": "#c62828", "brief": "#f0a030", "maintenance": "#5c6bc0",
           "third-party": "#8e44ad", "other": "#26a69a", "unknown": "#9e9e9e", "future": "#eceff1"}
MIN_WIDTH = 1.5  # a one-minute outage in a month is 0.02 units: drawn this wide so it shows


class MonthSpan(NamedTuple):
    """The month's start and end, and how far it has been evaluated (the end, or now for month to date)."""

    lo_ms: int
    hi_ms: int
    until_ms: int

    def x(self, ms: int) -> float:
        """Where an instant falls across the chart's WIDTH."""
        return (ms - self.lo_ms) / 1000 / ((self.hi_ms - self.lo_ms) / 1000) * WIDTH


def month_span(result: MonthResult) -> MonthSpan:
    """The result's month, as far as it was evaluated."""
    lo, hi = month_bounds(result.year, result.month, ZoneInfo(result.timezone))
    return MonthSpan(lo, hi, min(hi, result.generated_ms) if result.month_to_date else hi)


def _band(start_ms: int, end_ms: int, month: MonthSpan, cls: str, title: str) -> Json:
    a, b = max(0.0, month.x(start_ms)), min(float(WIDTH), month.x(end_ms))
    kind = cls.split()[-1]
    return {"x": round(a, 2), "w": round(max(b - a, MIN_WIDTH), 2), "cls": cls, "title": title,
            "fill": COLOURS.get(kind, COLOURS["other"] if cls.startswith("excluded") else COLOURS["maintenance"])}


def timeline(region: RegionResult, result: MonthResult, month: MonthSpan, times: LocalTimes) -> list[Json]:
    """Bands over the month, later ones drawn over earlier ones: up, unknown, then each period's brief
    and counted pieces and its exclusions (coloured by reason); not yet (month to date) last."""
    bands = [_band(month.lo_ms, month.until_ms, month, "up", "up")]
    for spell in region.unknown_spells:
        bands.append(_band(spell.start_ms, spell.end_ms, month, "unknown",
                           f"unknown {times.span(spell.start_ms, spell.end_ms)}"))
    for p in region.periods:
        for piece in p.pieces:
            cls = "counted" if piece.counted else "brief"
            words = "counted Downtime" if piece.counted else "unavailable, not counted (brief)"
            bands.append(_band(piece.start_ms, piece.end_ms, month, cls,
                               f"{words} {times.span(piece.start_ms, piece.end_ms)}"))
        for e in p.exclusions:
            if e.reason is not None:
                cls = "maintenance" if "maintenance" in e.reason else e.reason.replace("_", "-")
                bands.append(_band(e.start_ms, e.end_ms, month, f"excluded {cls}",
                                   f"excluded: {exclusion_sentence(e, result.evidence_of(e), times)}"))
    if month.until_ms < month.hi_ms:
        bands.append(_band(month.until_ms, month.hi_ms, month, "future", "not yet"))
    return bands


def maintenance_bands(region: RegionResult, month: MonthSpan, times: LocalTimes) -> list[Json]:
    """The month's maintenance windows as a thin band of their own (excluding or not)."""
    return [_band(m.window.start_ms, m.window.end_ms, month, "window" if m.excluded else "window late",
                  f"maintenance {m.window.id} {times.span(m.window.start_ms, m.window.end_ms)}"
                  + ("" if m.excluded else f" ({', '.join(flags_words(m.flags))})"))
            for m in region.maintenance]


BURN_HEIGHT = 120


def burn_down(region: RegionResult, month: MonthSpan) -> Json:
    """The error budget left over the month: a step down at each counted piece. Points in SVG units
    (y grows down); the zero line, below which the budget is overspent."""
    budget = minutes(region.figures.budget_ms)
    steps = [(0.0, budget)]
    left = budget
    for p in region.periods:
        for piece in p.pieces:
            if piece.counted:
                steps.append((month.x(piece.start_ms), left))
                left -= span_minutes(piece.start_ms, piece.end_ms)
                steps.append((month.x(piece.end_ms), left))
    steps.append((month.x(month.until_ms), left))
    top, bottom = max(budget, 0.0), min(left, 0.0)
    scale = (BURN_HEIGHT - 10) / ((top - bottom) or 1.0)
    y = lambda v: round(5 + (top - v) * scale, 2)  # noqa: E731
    # The y axis: the whole budget, half of it, zero, and how far it was overspent (percent of the height).
    marks = dict.fromkeys([budget, budget / 2, 0.0] + ([left] if left < 0 else []))
    axis = [{"y": y(v), "at": round(y(v) / BURN_HEIGHT * 100, 2), "text": f"{v:.1f} min"} for v in marks]
    return {"points": " ".join(f"{round(x, 2)},{y(v)}" for x, v in steps), "zero": y(0.0), "top": y(budget),
            "overspent": left < 0, "left": left, "budget": budget, "axis": axis}


def day_ticks(month: MonthSpan, timezone: str) -> list[Json]:
    """Labels on the 1st, 8th, 15th, 22nd and 29th of the month."""
    first = from_ms(month.lo_ms).astimezone(ZoneInfo(timezone))
    ticks = []
    for day in (1, 8, 15, 22, 29):
        try:
            t = first.replace(day=day)
        except ValueError:
            continue
        ticks.append({"x": round(month.x(int(t.timestamp()) * 1000), 2), "label": f"{t:%d %b}"})
    return ticks


# -- the document --------------------------------------------------------------------------------------
def region_summary(r: RegionResult) -> list[Json]:
    """The summary figures of a region, each with its JSON value."""
    f, c = figures_json(r.figures), credit_json(r.credit)
    used = None if not f["error_budget_minutes"] else f["downtime_minutes"] * 100 / f["error_budget_minutes"]
    return [
        {"label": "Availability", **figure(f["availability_percent"], percent_text(f["availability_percent"]),
                                           "availability_percent")},
        {"label": "Target met", **figure(f["met"], verdict_words(f["met"]), "met")},
        {"label": "Counted Downtime", **figure(f["downtime_minutes"], minutes_text(f["downtime_minutes"]),
                                               "downtime_minutes")},
        {"label": "Error budget", **figure(f["error_budget_minutes"], minutes_text(f["error_budget_minutes"]),
                                           "error_budget_minutes")},
        {"label": "Error budget left", **figure(f["error_budget_remaining_minutes"],
                                                minutes_text(f["error_budget_remaining_minutes"]),
                                                "error_budget_remaining_minutes")},
        {"label": "Error budget used", "key": None, "value": used,
         "text": "–" if used is None else f"{used:.1f} %"},
        {"label": "Excluded", "key": None, "value": None, "text": excluded_words(r.excluded_ms)},
        {"label": "Unknown (counts nothing)", **figure(f["unknown_minutes"], unknown_words(r), "unknown_minutes")},
        {"label": "Coverage", **figure(f["coverage_percent"], percent_text(f["coverage_percent"]), "coverage_percent")},
        {"label": "Monthly fee", **figure(c["monthly_fee"], money_text(c["monthly_fee"], c["currency"]),
                                          "credit.monthly_fee")},
        {"label": "Service credit", **figure(c["total_percent"], f"{c['total_percent']} %" if c["eligible"] else
                                             "not eligible", "credit.total_percent")},
        {"label": "Credit amount", **figure(c["amount"], money_text(c["amount"], c["currency"]), "credit.amount")},
        {"label": "Claim deadline", **figure(c["claim_deadline"], c["claim_deadline"] or "–", "credit.claim_deadline")},
    ]


def period_view(p: PeriodResult, result: MonthResult, times: LocalTimes) -> Json:
    counted = counted_minutes(p)
    return {
        "span": times.span(p.start_ms, p.end_ms) + (" (still open)" if p.open else ""),
        "minutes": minutes_text(span_minutes(p.start_ms, p.end_ms)), "counted": minutes_text(counted),
        "counting": counted > 0,
        "pieces": [{"span": times.span(x.start_ms, x.end_ms), "minutes": minutes_text(span_minutes(x.start_ms, x.end_ms)),
                    "counted": x.counted} for x in p.pieces],
        "exclusions": [{"text": exclusion_sentence(e, result.evidence_of(e), times), "flags": flags_words(e.flags),
                        "excludes": e.reason is not None} for e in p.exclusions],
    }


def notable(p: PeriodResult) -> bool:
    """Worth a row of its own: it counted, something was excluded (or refused), or it is still open."""
    return p.open or bool(p.exclusions) or p.counting


def incident_view(a: Assessment, times: LocalTimes) -> Json:
    i = a.incident
    target = None if a.target_ms is None else a.target_ms / MINUTE_MS
    delay = None if target is None else max(0.0, a.resolution_ms / MINUTE_MS - target)
    return {"id": i.id, "severity": i.severity, "component": i.component or "–", "title": i.title or "",
            "source": i.source, "opened": times.at(i.opened_ms), "resolved": times.at(i.resolved_ms),
            "resolution": minutes_text(a.resolution_ms / MINUTE_MS) + (
                f" ({minutes_text(a.excluded_ms / MINUTE_MS)} excluded)" if a.excluded_ms else ""),
            "target": "–" if target is None else minutes_text(target),
            "delay": "–" if delay is None else minutes_text(delay),
            "result": {True: "met", False: "missed", None: "no target"}[a.met],
            "ticket": i.ticket or "", "communication": communication_text(a)}


def communication_text(a: Assessment) -> str:
    """A ticket's response and update cadence against the contract's targets, in words ('' for no ticket)."""
    c, severity = a.communication, a.incident.severity
    if c is None:
        return ""
    verdict = {True: "met", False: "missed"}
    parts = ["no first response in the export" if c.response_ms is None else
             f"first response after {minutes_text(c.response_ms / MINUTE_MS)} (target "
             f"{minutes_text(RESPONSE_TARGET_MS[severity] / MINUTE_MS)}: {verdict[bool(c.response_met)]})"]
    if c.updates is None:
        parts.append("status updates not in the export")
    elif c.longest_silence_ms is not None:
        parts.append(f"{c.updates} status update(s), the longest silence {minutes_text(c.longest_silence_ms / MINUTE_MS)}"
                     f" (due every {minutes_text(UPDATE_INTERVAL_MS[severity] / MINUTE_MS)}: "
                     f"{verdict[bool(c.updates_met)]})")
    return "; ".join(parts)


def vendor_words(r: RegionResult, times: LocalTimes) -> list[str]:
    """The vendor's own report of the month beside ours, in sentences (none without one)."""
    v = r.vendor
    if v is None:
        return []
    ours = figures_json(r.figures)
    how = "as stated" if v.stated else "implied by its availability over the whole month"
    more = float(v.difference_ms / MINUTE_MS)
    words = [f"The provider's own report: {v.report.availability_percent} % availability, "
             f"{minutes_text(float(v.their_downtime_ms / MINUTE_MS))} of Downtime ({how}). We measured "
             f"{percent_text(ours['availability_percent'])}, {minutes_text(ours['downtime_minutes'])}: "
             + (f"{minutes_text(more)} more than the provider reports." if more > 0 else
                f"{minutes_text(-more)} less than the provider reports." if more < 0 else "the same Downtime.")]
    if v.unlisted is None:
        words.append("The provider gave no incident summary.")
    elif v.unlisted:
        words += [f"Not in the provider's incident summary: our counted outage {times.span(p.start_ms, p.end_ms)} "
                  f"({minutes_text((p.end_ms - p.start_ms) / MINUTE_MS)})." for p in v.unlisted]
    else:
        words.append("The provider's incident summary covers every outage we counted.")
    if v.report.note:
        words.append(f"Note: {v.report.note}")
    return words


def status_page_summary(result: MonthResult) -> str:
    """The provider's status page over the whole service this month, in one sentence ('' when not read)."""
    read = [r.vendor_status for r in result.regions if r.vendor_status is not None and r.environment == "production"]
    if not read:
        return ""
    c = overall(read)
    if not c.outages:
        return "The provider's status page: no counted outage in a production region to compare it with."
    unposted = sum(a.post is None for a in c.outages)
    share = "none" if c.acknowledged is None else f"{float(c.acknowledged * 100):.1f} %"
    lag = ("" if c.median_lag_ms is None else
           f", with a median posting lag of {minutes_text(float(c.median_lag_ms / MINUTE_MS))} after our first failed sample")
    return (f"Across the production regions, the provider's own status page acknowledged {share} of our counted "
            f"Downtime{lag}; {unposted} of our {len(c.outages)} counted outages were never posted there.")


def vendor_status_words(r: RegionResult, times: LocalTimes) -> list[str]:
    """The provider's status page against our counted outages, in sentences (none when it is not read)."""
    c = r.vendor_status
    if c is None:
        return []
    if not c.outages:
        words = ["No counted outage this month to compare with the provider's status page."]
    else:
        share = f"{float(c.acknowledged * 100):.1f} %" if c.acknowledged is not None else "none"
        lag = ("" if c.median_lag_ms is None else
               f"; its median posting lag: {minutes_text(float(c.median_lag_ms / MINUTE_MS))} after our first failed sample")
        words = [f"The provider's status page acknowledged {share} of our counted Downtime{lag}."]
    for a in c.outages:
        outage = (f"Our outage {times.span(a.period.start_ms, a.period.end_ms)} "
                  f"({minutes_text((a.period.end_ms - a.period.start_ms) / MINUTE_MS)})")
        if a.post is None or a.lag_ms is None:
            words.append(f"{outage}: never posted on the provider's status page.")
        else:
            when = (f"{minutes_text(a.lag_ms / MINUTE_MS)} after our first failed sample" if a.lag_ms >= 0
                    else f"{minutes_text(-a.lag_ms / MINUTE_MS)} before our first failed sample")
            words.append(f"{outage}: posted {when} as “{a.post.title}” (stated impact: {a.post.impact or 'none'}).")
    words += [f"Posted by the provider, not observed by us: “{p.title}” at {times.at(p.posted_ms)} "
              f"(stated impact: {p.impact or 'none'})." for p in c.blind_spots]
    return words


def maintenance_view(m: MaintenanceResult, times: LocalTimes) -> Json:
    w = m.window
    return {"id": w.id, "kind": w.kind, "span": times.span(w.start_ms, w.end_ms),
            "announced": times.at(w.announced_at_ms), "reason": w.reason or "",
            "scope": "all regions" if w.region is None else "this region",
            "verdict": "excluded" if m.excluded else "not excluded", "flags": flags_words(m.flags)}


# A month can open thousands of automatic incidents (one per period): past this many, a region lists
# only the ones a reader acts on (missed, open, or recorded by hand) and counts the rest.
LISTED_INCIDENTS = 20


def listed_incidents(incidents: tuple[Assessment, ...]) -> tuple[Assessment, ...]:
    """The incidents worth a row (all of them, up to LISTED_INCIDENTS)."""
    if len(incidents) <= LISTED_INCIDENTS:
        return incidents
    return tuple(a for a in incidents
                 if a.met is not True or a.incident.resolved_ms is None or a.incident.source == "manual")


def threshold_text(result: MonthResult) -> str:
    """The 15-minute rule's threshold in minutes, as people write it (``15``)."""
    return f"{minutes(result.threshold_ms):g}"


def report_view(result: MonthResult, terms: Terms) -> Json:
    """Everything the report templates show, from the month's result and the contract's terms."""
    times = LocalTimes(result.timezone)
    month = month_span(result)
    regions = []
    for r in result.regions:
        shown = [p for p in r.periods if notable(p)]
        regions.append({
            "region": r.region, "environment": r.environment, "met": r.figures.met,
            "summary": region_summary(r),
            "timeline": timeline(r, result, month, times), "windows": maintenance_bands(r, month, times),
            "burn": burn_down(r, month),
            "periods": [period_view(p, result, times) for p in shown],
            "brief": len(r.periods) - len(shown),
            "unknown": unknown_words(r) if r.figures.unknown_ms else "",
            "incidents": [incident_view(a, times) for a in listed_incidents(r.incidents)],
            "incidents_total": len(r.incidents),
            "tickets": [incident_view(a, times) for a in r.incidents if a.communication is not None],
            "incidents_missed": sum(a.met is False for a in r.incidents),
            "maintenance": [maintenance_view(m, times) for m in r.maintenance],
            "credit_sentence": credit_sentence(r.credit, terms),
            "vendor": vendor_words(r, times) + vendor_status_words(r, times),
        })
    return {
        "service": terms.service, "month": result.label, "timezone": result.timezone,
        "first": times.at(month.lo_ms), "last": times.at(month.hi_ms),
        "generated": times.at(result.generated_ms), "month_to_date": result.month_to_date,
        "target": float(result.target_percent), "threshold": threshold_text(result),
        "notice_hours": terms.maintenance_notice_hours,
        "regions": regions, "ticks": day_ticks(month, result.timezone), "width": WIDTH, "burn_height": BURN_HEIGHT,
    }
