"""The monthly report as a document people read (HTML, PDF, Markdown): the report JSON turned into
sentences, local times and chart geometry. Pure: the report object and the contract's facts in, plain
dicts out. Every figure shown is the JSON's own value; ``figure`` keeps that value beside its text so a
test (or a reader's script) can check one against the other."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..sla.calendar import local_text, month_bounds, parse_iso_ms, parse_month, utc_offset

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
    """ISO instants of the report shown in the report's own time zone, each with its UTC offset."""

    def __init__(self, timezone: str):
        self.tz = ZoneInfo(timezone)

    def local(self, text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).astimezone(self.tz)

    def at(self, text: str | None) -> str:
        """``2026-09-12 09:05 +02:00`` (seconds when there are any)."""
        return "–" if text is None else local_text(parse_iso_ms(text), self.tz)

    def span(self, start: str, end: str) -> str:
        """``2026-09-12 09:05–09:40 +02:00``, the end's date and offset repeated only when they differ."""
        return "".join(self.span_parts(start, end))

    def span_parts(self, start: str, end: str) -> tuple[str, str, str]:
        """``span``'s text as (the start's, the dash between, the end's), for markup around each end."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date() and a.utcoffset() == b.utcoffset():
            clock = "%H:%M:%S" if b.second else "%H:%M"
            return self.at(start).rsplit(" ", 1)[0], "–", f"{b.strftime(clock)} {utc_offset(b)}"
        return self.at(start), " – ", self.at(end)


def figure(value: Any, text: str, key: str) -> Json:
    """A figure as shown (``text``) with the JSON value it shows and the report key it comes from."""
    return {"key": key, "value": value, "text": text}


def minutes_text(value: float) -> str:
    return f"{value:.2f} min"


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.6f} %"


def verdict_words(met: bool | None) -> str:
    """Whether the month met its target, for people; None is a month with nothing observed."""
    return "not assessable (no data)" if met is None else "yes" if met else "NO"


def excluded_words(excluded_minutes: dict[str, float]) -> str:
    """Excluded time by reason, in words: ``third-party outage 35.00 min; …`` (or ``none``)."""
    parts = [f"{REASON_WORDS.get(reason, reason)} {minutes_text(m)}" for reason, m in excluded_minutes.items() if m]
    return "; ".join(parts) or "none"


def unknown_words(region: Json) -> str:
    """Unknown time with its causes, in words."""
    causes = [f"{UNKNOWN_WORDS.get(cause, cause)} {minutes_text(m)}"
              for cause, m in region.get("unknown_by_cause", {}).items() if m]
    return minutes_text(region["unknown_minutes"]) + (f" ({'; '.join(causes)})" if causes else "")


def exclusion_sentence(e: Json, times: LocalTimes) -> str:
    """One exclusion in words with its evidence: who or what, when, and how it was seen."""
    span, reason, detail = times.span(e["start"], e["end"]), e["reason"], e["detail"]
    if e["source"].startswith("third_party:"):
        name = e["source"].split(":", 1)[1]
        evidence = e.get("evidence")
        components = ", ".join(f"{c.get('name') or c.get('id')} {str(c.get('status') or 'down').replace('_', ' ')}"
                               for c in (evidence or {}).get("components", []))
        incidents = ", ".join(i.get("name") or i.get("id") or "" for i in (evidence or {}).get("incidents", []))
        text = (f"{detail} ({name}) unavailable" + (f": {components}" if components else "")
                + (f", incident {incidents}" if incidents else "") + f", {span}")
        if evidence:
            text += (f", seen by {', '.join(evidence['probes'])} ({evidence['samples']} failed samples, first "
                     f"{times.at(evidence['first_sample'])}, last {times.at(evidence['last_sample'])}"
                     + (f": {evidence['error']}" if evidence["error"] else "") + ")")
        elif "evidence" in e:
            text += ", its samples are past retention"
        return text
    what = REASON_WORDS.get(reason, "not excluded") if reason != "none" else "not excluded"
    source = e["source"].replace(":", " ")
    return f"{what} ({source}{': ' + detail if detail else ''}), {span}"


def flags_words(flags: list[str]) -> list[str]:
    return [FLAG_WORDS.get(flag, flag) for flag in flags]


def credit_sentence(credit: Json, terms: Terms) -> str:
    """The credit with the rules that made it (SLA §9)."""
    if not credit["eligible"]:
        return f"No service credit: {credit['reason']}."
    parts = [f"availability credit {credit['availability_percent']} %",
             f"resolution credit {credit['resolution_percent']} % ({credit['resolution_missed']} of "
             f"{credit['resolution_counted']} incidents missed their resolution target)"]
    if credit["same_event"]:
        parts.append("the same event caused both, so the larger applies (§9.3)")
    elif credit["availability_percent"] and credit["resolution_percent"]:
        parts.append("separate events, so both apply (§9.3)")
    money = ""
    if credit["amount"] is not None:
        money = f" = {credit['amount']} {credit['currency']} of the monthly fee of {credit['monthly_fee']} {credit['currency']}"
    return (f"Service credit {credit['total_percent']} %{money}: {'; '.join(parts)}; capped at "
            f"{terms.credit_cap_percent} % a month (§9.4). Claim by {credit['claim_deadline']} "
            f"({terms.claim_window_days} days after the month, §9.4).")


# -- chart geometry (SVG user units: the month is 1000 wide) -----------------------------------------
WIDTH = 1000
# Band colours are SVG attributes, not CSS: PDF renderers style inline SVG less fully than browsers.
COLOURS = {"up": "#2e9e5b", "counted": "#c62828", "brief": "#f0a030", "maintenance": "#5c6bc0",
           "third-party": "#8e44ad", "other": "#26a69a", "unknown": "#9e9e9e", "future": "#eceff1"}
MIN_WIDTH = 1.5  # a one-minute outage in a month is 0.02 units: drawn this wide so it shows


def _band(start: str, end: str, lo: dt.datetime, span_s: float, cls: str, title: str) -> Json:
    a = (dt.datetime.fromisoformat(start) - lo).total_seconds() / span_s * WIDTH
    b = (dt.datetime.fromisoformat(end) - lo).total_seconds() / span_s * WIDTH
    a, b = max(0.0, a), min(float(WIDTH), b)
    kind = cls.split()[-1]
    return {"x": round(a, 2), "w": round(max(b - a, MIN_WIDTH), 2), "cls": cls, "title": title,
            "fill": COLOURS.get(kind, COLOURS["other"] if cls.startswith("excluded") else COLOURS["maintenance"])}


def month_span(report: Json) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """The month's start and end, and how far it has been evaluated (the end, or now for month to date)."""
    year, month = parse_month(report["month"])
    lo_ms, hi_ms = month_bounds(year, month, ZoneInfo(report["timezone"]))
    lo, hi = (dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc) for ms in (lo_ms, hi_ms))
    until = min(hi, dt.datetime.fromisoformat(report["generated_at"])) if report["month_to_date"] else hi
    return lo, hi, until


def timeline(region: Json, report: Json, times: LocalTimes) -> list[Json]:
    """Bands over the month, later ones drawn over earlier ones: up, unknown, then each period's brief
    and counted pieces and its exclusions (coloured by reason); not yet (month to date) last."""
    lo, hi, until = month_span(report)
    span_s = (hi - lo).total_seconds()
    iso = lambda t: t.isoformat()  # noqa: E731 - the bands take ISO text like the report's
    bands = [_band(iso(lo), iso(until), lo, span_s, "up", "up")]
    for spell in region["unknown_spells"]:
        bands.append(_band(spell["start"], spell["end"], lo, span_s, "unknown",
                           f"unknown {times.span(spell['start'], spell['end'])}"))
    for p in region["periods"]:
        for piece in p["pieces"]:
            cls = "counted" if piece["counted"] else "brief"
            words = "counted Downtime" if piece["counted"] else "unavailable, not counted (brief)"
            bands.append(_band(piece["start"], piece["end"], lo, span_s, cls,
                               f"{words} {times.span(piece['start'], piece['end'])}"))
        for e in p["exclusions"]:
            if e["reason"] != "none":
                cls = "maintenance" if "maintenance" in e["reason"] else e["reason"].replace("_", "-")
                bands.append(_band(e["start"], e["end"], lo, span_s, f"excluded {cls}",
                                   f"excluded: {exclusion_sentence(e, times)}"))
    if until < hi:
        bands.append(_band(iso(until), iso(hi), lo, span_s, "future", "not yet"))
    return bands


def maintenance_bands(region: Json, report: Json, times: LocalTimes) -> list[Json]:
    """The month's maintenance windows as a thin band of their own (excluding or not)."""
    lo, hi, _ = month_span(report)
    span_s = (hi - lo).total_seconds()
    return [_band(m["start"], m["end"], lo, span_s, "window" if m["excluded"] else "window late",
                  f"maintenance {m['id']} {times.span(m['start'], m['end'])}"
                  + ("" if m["excluded"] else f" ({', '.join(flags_words(m['flags']))})"))
            for m in region["maintenance"]]


BURN_HEIGHT = 120


def burn_down(region: Json, report: Json) -> Json:
    """The error budget left over the month: a step down at each counted piece. Points in SVG units
    (y grows down); the zero line, below which the budget is overspent."""
    lo, hi, until = month_span(report)
    span_s = (hi - lo).total_seconds()
    budget = region["error_budget_minutes"]
    steps = [(0.0, budget)]
    left = budget
    for p in region["periods"]:
        for piece in p["pieces"]:
            if piece["counted"]:
                a = (dt.datetime.fromisoformat(piece["start"]) - lo).total_seconds() / span_s * WIDTH
                b = (dt.datetime.fromisoformat(piece["end"]) - lo).total_seconds() / span_s * WIDTH
                steps.append((a, left))
                left -= piece["minutes"]
                steps.append((b, left))
    steps.append(((until - lo).total_seconds() / span_s * WIDTH, left))
    top, bottom = max(budget, 0.0), min(left, 0.0)
    scale = (BURN_HEIGHT - 10) / ((top - bottom) or 1.0)
    y = lambda v: round(5 + (top - v) * scale, 2)  # noqa: E731
    # The y axis: the whole budget, half of it, zero, and how far it was overspent (percent of the height).
    marks = dict.fromkeys([budget, budget / 2, 0.0] + ([left] if left < 0 else []))
    axis = [{"y": y(v), "at": round(y(v) / BURN_HEIGHT * 100, 2), "text": f"{v:.1f} min"} for v in marks]
    return {"points": " ".join(f"{round(x, 2)},{y(v)}" for x, v in steps), "zero": y(0.0), "top": y(budget),
            "overspent": left < 0, "left": left, "budget": budget, "axis": axis}


def day_ticks(report: Json) -> list[Json]:
    """Labels on the 1st, 8th, 15th, 22nd and 29th of the month."""
    lo, hi, _ = month_span(report)
    tz = ZoneInfo(report["timezone"])
    span_s = (hi - lo).total_seconds()
    first = lo.astimezone(tz)
    ticks = []
    for day in (1, 8, 15, 22, 29):
        try:
            t = first.replace(day=day)
        except ValueError:
            continue
        x = (t.astimezone(dt.timezone.utc) - lo).total_seconds() / span_s * WIDTH
        ticks.append({"x": round(x, 2), "label": f"{t:%d %b}"})
    return ticks


# -- the document --------------------------------------------------------------------------------------
def region_summary(r: Json) -> list[Json]:
    """The summary figures of a region, each with its JSON value."""
    c = r["credit"]
    money = "–" if c["amount"] is None else f"{c['amount']} {c['currency']}"
    fee = "–" if c["monthly_fee"] is None else f"{c['monthly_fee']} {c['currency']}"
    used = (None if not r["error_budget_minutes"]
            else r["downtime_minutes"] * 100 / r["error_budget_minutes"])
    return [
        {"label": "Availability", **figure(r["availability_percent"], percent_text(r["availability_percent"]),
                                           "availability_percent")},
        {"label": "Target met", **figure(r["met"], verdict_words(r["met"]), "met")},
        {"label": "Counted Downtime", **figure(r["downtime_minutes"], minutes_text(r["downtime_minutes"]),
                                               "downtime_minutes")},
        {"label": "Error budget", **figure(r["error_budget_minutes"], minutes_text(r["error_budget_minutes"]),
                                           "error_budget_minutes")},
        {"label": "Error budget left", **figure(r["error_budget_remaining_minutes"],
                                                minutes_text(r["error_budget_remaining_minutes"]),
                                                "error_budget_remaining_minutes")},
        {"label": "Error budget used", "key": None, "value": used,
         "text": "–" if used is None else f"{used:.1f} %"},
        {"label": "Excluded", "key": None, "value": None, "text": excluded_words(r["excluded_minutes"])},
        {"label": "Unknown (counts nothing)", **figure(r["unknown_minutes"], unknown_words(r), "unknown_minutes")},
        {"label": "Coverage", **figure(r["coverage_percent"], percent_text(r["coverage_percent"]), "coverage_percent")},
        {"label": "Monthly fee", **figure(c["monthly_fee"], fee, "credit.monthly_fee")},
        {"label": "Service credit", **figure(c["total_percent"], f"{c['total_percent']} %" if c["eligible"] else
                                             "not eligible", "credit.total_percent")},
        {"label": "Credit amount", **figure(c["amount"], money, "credit.amount")},
        {"label": "Claim deadline", **figure(c["claim_deadline"], c["claim_deadline"] or "–", "credit.claim_deadline")},
    ]


def period_view(p: Json, times: LocalTimes) -> Json:
    counted = sum(x["minutes"] for x in p["pieces"] if x["counted"])
    return {
        "span": times.span(p["start"], p["end"]) + (" (still open)" if p["open"] else ""),
        "minutes": minutes_text(p["minutes"]), "counted": minutes_text(counted), "counting": counted > 0,
        "pieces": [{"span": times.span(x["start"], x["end"]), "minutes": minutes_text(x["minutes"]),
                    "counted": x["counted"]} for x in p["pieces"]],
        "exclusions": [{"text": exclusion_sentence(e, times), "flags": flags_words(e["flags"]),
                        "excludes": e["reason"] != "none"} for e in p["exclusions"]],
    }


def notable(p: Json) -> bool:
    """Worth a row of its own: it counted, something was excluded (or refused), or it is still open."""
    return p["open"] or bool(p["exclusions"]) or any(x["counted"] for x in p["pieces"])


def incident_view(i: Json, times: LocalTimes) -> Json:
    target = i["target_minutes"]
    delay = None if target is None else max(0.0, i["resolution_minutes"] - target)
    return {"id": i["id"], "severity": i["severity"], "component": i["component"] or "–", "title": i["title"] or "",
            "source": i["source"], "opened": times.at(i["opened"]), "resolved": times.at(i["resolved"]),
            "resolution": minutes_text(i["resolution_minutes"]) + (
                f" ({minutes_text(i['excluded_minutes'])} excluded)" if i.get("excluded_minutes") else ""),
            "target": "–" if target is None else minutes_text(target),
            "delay": "–" if delay is None else minutes_text(delay),
            "result": {True: "met", False: "missed", None: "no target"}[i["met"]]}


def maintenance_view(m: Json, times: LocalTimes) -> Json:
    return {"id": m["id"], "kind": m["kind"], "span": times.span(m["start"], m["end"]),
            "announced": times.at(m["announced_at"]), "reason": m["reason"] or "",
            "scope": "all regions" if m["all_regions"] else "this region",
            "verdict": "excluded" if m["excluded"] else "not excluded", "flags": flags_words(m["flags"])}


# A month can open thousands of automatic incidents (one per period): past this many, a region lists
# only the ones a reader acts on (missed, open, or recorded by hand) and counts the rest.
LISTED_INCIDENTS = 20


def listed_incidents(incidents: list[Json]) -> list[Json]:
    """The incidents worth a row (all of them, up to LISTED_INCIDENTS)."""
    if len(incidents) <= LISTED_INCIDENTS:
        return incidents
    return [i for i in incidents if i["met"] is not True or i["resolved"] is None or i["source"] == "manual"]


def report_view(report: Json, terms: Terms) -> Json:
    """Everything the report templates show, from the report object and the contract's terms."""
    times = LocalTimes(report["timezone"])
    lo, hi, _ = month_span(report)
    regions = []
    for r in report["regions"]:
        shown = [p for p in r["periods"] if notable(p)]
        regions.append({
            "region": r["region"], "environment": r["environment"], "met": r["met"],
            "summary": region_summary(r),
            "timeline": timeline(r, report, times), "windows": maintenance_bands(r, report, times),
            "burn": burn_down(r, report),
            "periods": [period_view(p, times) for p in shown],
            "brief": len(r["periods"]) - len(shown),
            "unknown": unknown_words(r) if r["unknown_minutes"] else "",
            "incidents": [incident_view(i, times) for i in listed_incidents(r["incidents"])],
            "incidents_total": len(r["incidents"]),
            "incidents_missed": sum(i["met"] is False for i in r["incidents"]),
            "maintenance": [maintenance_view(m, times) for m in r["maintenance"]],
            "credit": r["credit"], "credit_sentence": credit_sentence(r["credit"], terms),
        })
    return {
        "service": terms.service, "month": report["month"], "timezone": report["timezone"],
        "first": times.at(lo.isoformat()), "last": times.at(hi.isoformat()),
        "generated": times.at(report["generated_at"]), "month_to_date": report["month_to_date"],
        "target": report["target_percent"], "threshold": f"{report['threshold_minutes']:g}",
        "notice_hours": terms.maintenance_notice_hours,
        "regions": regions, "ticks": day_ticks(report), "width": WIDTH, "burn_height": BURN_HEIGHT,
    }
