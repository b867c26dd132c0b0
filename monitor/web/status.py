"""The status now (JSON) and the status page (HTML through Jinja2), both from one snapshot.

Every figure on the page comes from the same instant (``LiveFigures.computed_ms``): the month's
report, today's bar and the live probe states captured with it. A region's badge and its banner
are both read off the report's open period, so they cannot disagree.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Mapping

import jinja2
from markupsafe import Markup

from ..config import Config
from ..config.models import PolicyConfig
from ..live.figures import LATENCY_BUCKET_MS, LATENCY_SPAN_MS, LiveFigures
from ..live.state import ProbeState
from ..reports.document import REASON_WORDS, LocalTimes, vendor_status_words
from ..reports.serialize import exclusion_json, figures_json, float_or_none, minutes, vendor_status_json, window_json
from ..samples import Sample
from ..sla.calendar import iso, parse_iso_ms
from ..sla.result import DayBar, Evidence, ExclusionSlice, MonthResult, RecentOutage, RegionResult, WindowUptime
from ..storage.interface import LatencyBucket
from ..updates import update_json

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("monitor.web", "templates"),
                          autoescape=jinja2.select_autoescape(["html"]))
# Below this share of the month monitored, availability is shown as "–": too little was seen to say.
MIN_COVERAGE_PERCENT = 50
# Below this, it is shown with a warning.
WARN_COVERAGE_PERCENT = 99
UNKNOWN_CAUSE_WORDS = {"vantage_unhealthy": "this monitor lost its network", "monitor_fault": "the monitor's own fault",
                       "feed_unreadable": "a status feed could not be read", "no_data": "no samples"}


def updates_json(figures: LiveFigures, region: str, start: str) -> list[dict]:
    """The incident updates of one outage, newest first (as a status page lists them)."""
    return [update_json(u) for u in reversed(figures.updates_of(region, start))]


def status_json(figures: LiveFigures, cfg: Config, now_ms: int) -> dict:
    """Every region, component, probe and third party as of the figures' snapshot."""
    at = figures.computed_ms if figures.computed_ms is not None else now_ms
    times = LocalTimes(cfg.timezone)
    live = figures.live
    current = figures.current
    regions = []
    for region in cfg.regions:
        mtd = current.region(region.name) if current is not None else None
        outage = (_outage(mtd, current, cfg.policy, times) if mtd is not None and current is not None else None)
        regions.append({
            "region": region.name,
            "uptime": _uptime(figures, region.name, mtd),
            "recent_outages": [{**_recent(o, cfg.policy.downtime_threshold_minutes),
                                "updates": updates_json(figures, region.name, iso(o.start_ms))}
                               for o in figures.history.outages.get(region.name, [])],
            "environment": region.environment,
            "state": _state(mtd, outage, current.generated_ms if current is not None else None),
            "verdict": _verdict(region.environment, mtd),
            "outage": outage if outage is None else {**outage, "updates": updates_json(figures, region.name,
                                                                                        outage["start"])},
            "components": [
                {"component": c.name, "critical": c.critical,
                 "latency": [{"start": iso(b.start_ms), "mean_ms": round(b.mean_ms, 3), "max_ms": round(b.max_ms, 3),
                              "samples": b.samples} for b in figures.latency.get((region.name, c.name), [])],
                 "state": live.get("components", {}).get((region.name, c.name), "unknown"),
                 "probes": [probe_json(p.id, live.get("probes", {}).get(p.id)) for p in c.probes]}
                for c in region.components],
            "month_to_date": _month_to_date(mtd),
            "maintenance_active": [window_json(w, "status") for w in figures.active_maintenance(region.name, at)],
            "maintenance_upcoming": [window_json(w, "status") for w in figures.upcoming_maintenance(region.name, at)[:5]],
            "vendor_status": None if mtd is None or mtd.vendor_status is None else {
                **vendor_status_json(mtd.vendor_status), "words": vendor_status_words(mtd, times)},
        })
    third = [{"third_party": t.name, "provider": t.provider, "status_page": t.status_page,
              "state": live.get("third_parties", {}).get(t.name, "unknown"),
              "regions": [r.name for r in cfg.regions if t.name in r.depends_on],
              "probes": [_captured_or_none(p.id, live.get("probes", {}).get(p.id)) for p in t.probes]}
             for t in cfg.third_parties]
    return {"service": cfg.service, "vantage": cfg.vantage, "now": iso(now_ms), "as_of": iso(figures.computed_ms),
            "overall": overall(regions),
            "history_as_of": iso(figures.history_ms), "latency_bucket_minutes": LATENCY_BUCKET_MS // 60_000,
            "vantage_health": live.get("vantage"), "regions": regions, "third_parties": third}


def overall(regions: list[dict]) -> dict:
    """One line over every region, as of the snapshot: its state (down over unknown over up) and words
    ("All 3 regions up", "1 of 3 regions down: us-east", "2 of 3 regions up, 1 unknown: eu-west")."""
    by_state: dict[str, list[str]] = {"down": [], "unknown": [], "up": []}
    for r in regions:
        by_state[r["state"]].append(r["region"])
    total, down, unknown = len(regions), by_state["down"], by_state["unknown"]
    if down:
        return {"state": "down", "text": f"{len(down)} of {total} regions down: {', '.join(down)}"
                                          + (f"; {len(unknown)} unknown" if unknown else "")}
    if unknown:
        return {"state": "unknown", "text": f"{total - len(unknown)} of {total} regions up, {len(unknown)} unknown: "
                                             + ", ".join(unknown)}
    return {"state": "up", "text": f"All {total} regions up" if total != 1 else "The region is up"}


def _uptime(figures: LiveFigures, region: str, mtd: RegionResult | None) -> list[dict]:
    """Uptime over the rolling windows and this calendar month: the SLA's figure (counted Downtime over
    the whole span) beside the raw one (every unavailability over the known time)."""
    rows = [_uptime_row(w, w.sla_percent) for w in figures.uptime.get(region, [])]
    if mtd is not None:  # the month so far as one more window: its SLA figure is the month's availability
        f = mtd.figures
        month = WindowUptime("month", f.elapsed_ms, sum(p.end_ms - p.start_ms for p in mtd.periods),
                             f.downtime_ms, f.unknown_ms)
        rows.append(_uptime_row(month, f.availability_percent))
    return rows


def _uptime_row(w: WindowUptime, sla_percent: Fraction | None) -> dict:
    """One window; its figures are shown (``trusted``) only where half of it or more was observed, as
    the month's availability is: minutes of data are no 100 % over 90 days."""
    coverage = Fraction(w.span_ms - w.unknown_ms, w.span_ms) * 100 if w.span_ms > 0 else None
    return {"window": w.label, "sla_percent": float_or_none(sla_percent), "raw_percent": float_or_none(w.raw_percent),
            "coverage_percent": float_or_none(coverage),
            "trusted": sla_percent is not None and coverage is not None and coverage >= MIN_COVERAGE_PERCENT,
            "counted_minutes": minutes(w.counted_ms), "down_minutes": minutes(w.down_ms),
            "unknown_minutes": minutes(w.unknown_ms)}


def _recent(o: RecentOutage, threshold_minutes: Decimal) -> dict:
    reasons = [f"{REASON_WORDS.get(reason, reason)}" + (f": {detail}" if detail else "") for reason, detail in o.reasons]
    return {"start": iso(o.start_ms), "end": None if o.open else iso(o.end_ms), "open": o.open,
            "minutes": minutes(o.end_ms - o.start_ms), "counted_minutes": minutes(o.counted_ms), "status": o.status,
            "reasons": reasons, "words": _recent_words(o, threshold_minutes)}


def _recent_words(o: RecentOutage, threshold_minutes: Decimal) -> str:
    """What the outage counted as, in words: never "brief" and "excluded" unexplained side by side."""
    if o.status == "counted":
        return f"counted {minutes(o.counted_ms):.1f} min"
    if o.status == "excluded":
        return "excluded: not counted"
    part = " (the rest excluded)" if o.reasons else ""
    if o.open:
        return f"not counted yet: counts once {float(threshold_minutes):g} minutes in a row are not excluded{part}"
    return f"not counted: never {float(threshold_minutes):g} minutes in a row that were not excluded{part}"


def probe_json(probe: str, captured: CapturedProbe | None) -> dict:
    """One probe's live state and last sample (its error, or its warning when up), as captured with the
    figures (``capture_probe``); unknown when it was not."""
    if captured is None:
        return {"probe": probe, "state": "unknown", "last": None}
    kind, state, last, failures = captured
    return {"probe": probe, "kind": kind, "state": state,
            "last": None if last is None else {
                "ts": iso(last.ts_ms), "ok": last.ok, "latency_ms": last.latency_ms, "error": last.error,
                "cause": last.cause, "warning": (last.detail or {}).get("warning")},
            "consecutive_failures": failures}


# What the figures' snapshot keeps of a probe: its kind, its state then, its last sample, its run of
# failures. A tuple: the snapshot holds every probe, and the page's JSON is made only when asked for.
CapturedProbe = tuple[str, str, "Sample | None", int]


def _captured_or_none(probe: str, captured: CapturedProbe | None) -> dict | None:
    """A third party's probe: null until captured (as the page has always shown it)."""
    return None if captured is None else probe_json(probe, captured)


def capture_probe(p: ProbeState, now_ms: int, confirm: int) -> CapturedProbe:
    """A probe as the figures' snapshot keeps it."""
    return p.kind, p.state(now_ms, confirm), p.last, p.consecutive_failures


def region_state(figures: LiveFigures, cfg: Config, region: str) -> str:
    """Region ``region``'s state at the snapshot, as its status page banner shows it: up, down or unknown."""
    current = figures.current
    mtd = current.region(region) if current is not None else None
    if mtd is None or current is None:
        return "unknown"
    return _state(mtd, _outage(mtd, current, cfg.policy, LocalTimes(cfg.timezone)), current.generated_ms)


def _verdict(environment: str, mtd: RegionResult | None) -> str:
    """The month's outcome in words where it is already certain: a production region whose downtime so
    far exceeds the budget has missed its target, whatever the rest of the month brings (SLA §7)."""
    if environment == "production" and mtd is not None and mtd.figures.met is False:
        return "target missed: a service credit is owed"
    return ""


def _state(mtd: RegionResult | None, outage: dict | None, at_ms: int | None) -> str:
    """The region's state at the snapshot, from the result itself: down in an open period, unknown in
    an unknown spell reaching the snapshot, else up."""
    if mtd is None:
        return "unknown"
    if outage is not None:
        return "down"
    spells = mtd.unknown_spells
    return "unknown" if spells and spells[-1].end_ms == at_ms else "up"


def _outage(mtd: RegionResult, result: MonthResult, policy: PolicyConfig, times: LocalTimes) -> dict | None:
    """The open outage: counted (costs budget), excluded now (with its reason and evidence), or brief;
    in words, what it is now and from when it would count (``counts_from``, when that is known)."""
    period = mtd.open_period()
    if period is None:
        return None
    exclusion = period.exclusion_now()
    counted = period.counting
    threshold_ms = int(policy.downtime_threshold_minutes * 60_000)
    threshold = f"{float(policy.downtime_threshold_minutes):g} minutes"
    base = {"start": iso(period.start_ms), "minutes": minutes(period.end_ms - period.start_ms),
            "counted_minutes": sum((minutes(p.end_ms - p.start_ms) for p in period.pieces if p.counted), 0.0),
            "counts_from": None}
    if exclusion is not None:
        evidence = result.evidence_of(exclusion)
        later = ("" if counted else f"; not counted now; if it goes on, it counts once down {threshold} "
                                    "after the exclusion ends")
        return {**base, "status": "excluded", "reason": _exclusion_words(exclusion, evidence) + later,
                "exclusion": exclusion_json(exclusion, result), "earlier_counted": counted}
    if counted:
        return {**base, "status": "counted", "reason": "counts against the SLA (Downtime)", "exclusion": None}
    # Brief: its last piece (after the latest exclusion) counts once it reaches the threshold; under the
    # other reading of the rule, the whole period does.
    since = period.start_ms if policy.threshold_before_exclusions or not period.pieces else period.pieces[-1].start_ms
    counts_from = iso(since + threshold_ms)
    return {**base, "status": "brief", "exclusion": None, "counts_from": counts_from,
            "reason": f"brief, not counted yet: it counts against the SLA from {times.at(since + threshold_ms)} if still "
                      f"down then ({threshold} in a row, after exclusions)"}


def _exclusion_words(e: ExclusionSlice, evidence: Evidence | None) -> str:
    reason, detail = e.reason or "none", e.detail
    if reason == "third_party":
        incidents = ", ".join(i.get("name") or i.get("id") or "" for i in evidence.incidents) if evidence else ""
        seen = ", ".join(evidence.probes) if evidence else ""
        return (f"excluded: {detail} is down (third party)" + (f"; incident {incidents}" if incidents else "")
                + (f"; seen by {seen}" if seen else ""))
    if reason in ("maintenance", "emergency_maintenance"):
        kind = "emergency maintenance" if reason == "emergency_maintenance" else "announced maintenance"
        return f"excluded: {kind} until {iso(e.end_ms)}" + (f": {detail}" if detail else "")
    return f"excluded: {reason.replace('_', ' ')}" + (f": {detail}" if detail else "")


MONTH_TO_DATE_KEYS = ("availability_percent", "coverage_percent", "downtime_minutes", "met", "error_budget_minutes",
                      "error_budget_remaining_minutes", "unknown_minutes")


def _month_to_date(mtd: RegionResult | None) -> dict:
    if mtd is None:
        figures: dict = dict.fromkeys(MONTH_TO_DATE_KEYS + ("unknown_by_cause", "excluded_minutes"))
    else:
        shown = figures_json(mtd.figures)
        figures = {key: shown[key] for key in MONTH_TO_DATE_KEYS}
        figures["unknown_by_cause"] = {cause: minutes(ms) for cause, ms in mtd.unknown_by_cause.items()}
        figures["excluded_minutes"] = {reason: minutes(ms) for reason, ms in mtd.excluded_ms.items()}
    coverage = mtd.figures.coverage_percent if mtd is not None else None
    figures["availability_trusted"] = coverage is not None and coverage >= MIN_COVERAGE_PERCENT
    figures["coverage_warning"] = (
        None if coverage is None or coverage >= WARN_COVERAGE_PERCENT else
        f"only {float(coverage):.1f} % of the month so far was monitored"
        + _unknown_words(mtd.unknown_by_cause if mtd is not None else {}))
    return figures


def _unknown_words(by_cause: Mapping[str, int]) -> str:
    parts = [f"{UNKNOWN_CAUSE_WORDS.get(cause, cause)} {minutes(ms):.0f} min" for cause, ms in by_cause.items()
             if ms >= 30_000]
    return f" (unknown: {'; '.join(parts)})" if parts else ""


def _bar_class(day: DayBar) -> str:
    """What a day's bar shows: its counted downtime whatever share of the day is unknown, then down
    time that did not count; grey (mostly unknown) only when the day has nothing else to show."""
    if day.counted_ms:
        return "down"
    if day.down_ms:
        return "excluded" if day.excluded_ms >= day.down_ms else "brief"
    return "unknown" if day.span_ms and day.unknown_ms * 2 > day.span_ms else "up"


BAR_WORDS = {"up": "up", "down": "counted downtime", "excluded": "down, excluded", "brief": "brief, not counted",
             "unknown": "mostly unknown"}


def _bar_title(day: DayBar) -> str:
    return (f"{day.day.isoformat()}, {BAR_WORDS[_bar_class(day)]}: {minutes(day.counted_ms):.1f} min counted, "
            f"{minutes(day.down_ms - day.excluded_ms):.1f} min down not excluded, "
            f"{minutes(day.excluded_ms):.1f} min excluded, {minutes(day.unknown_ms):.1f} min unknown")


CHART_W, CHART_H = 300, 40


def latency_chart(buckets: list[LatencyBucket], until_ms: int | None, span_ms: int) -> dict:
    """A response-time sparkline (SVG units) of ``buckets`` over the ``span_ms`` before ``until_ms``, and
    the same in words for those who cannot see it."""
    if not buckets or until_ms is None:
        return {"mean": "", "max": "", "words": "no successful samples in the last 24 hours"}
    top = max(b.max_ms for b in buckets) or 1.0
    start = until_ms - span_ms

    def line(values: list[float]) -> str:
        return " ".join(f"{(b.start_ms - start) / span_ms * CHART_W:.1f},{CHART_H - 2 - v / top * (CHART_H - 4):.1f}"
                        for b, v in zip(buckets, values, strict=True))
    mean = sum(b.mean_ms * b.samples for b in buckets) / sum(b.samples for b in buckets)
    return {"mean": line([b.mean_ms for b in buckets]), "max": line([b.max_ms for b in buckets]),
            "words": f"mean {mean:.0f} ms, slowest {top:.0f} ms over the last 24 hours"}


def render_status_page(figures: LiveFigures, cfg: Config, now_ms: int) -> str:
    """Per region: badge and banner (counted, brief or excluded, with the reason), availability beside
    coverage, budget, components and probes with their last errors, 90 daily bars; third parties."""
    data = status_json(figures, cfg, now_ms)
    for region in data["regions"]:
        region["bars"] = [{"class": _bar_class(day), "title": _bar_title(day)}
                          for day in figures.bars.get(region["region"], [])]
        for c in region["components"]:  # from the stored buckets, not their JSON (no ISO parsed back)
            c["chart"] = latency_chart(figures.latency.get((region["region"], c["component"]), []),
                                       figures.history_ms, LATENCY_SPAN_MS)
    title = cfg.web.title or f"{cfg.service} status"
    times = LocalTimes(cfg.timezone)

    def tag(instant: str, text: str) -> Markup:
        """``text`` for people, the ISO ``instant`` for machines."""
        return Markup('<time datetime="{}">{}</time>').format(instant, text)

    def when(instant: str) -> Markup:
        """An instant as people read it: the config's zone, with the offset."""
        return tag(instant, times.at(parse_iso_ms(instant)))

    def during(start: str, end: str | None) -> Markup:
        """A span as the reports write it (``2026-09-12 09:05–09:40 +02:00``); an open one ends "now"."""
        if end is None:
            return Markup("{} – now").format(when(start))
        first, dash, last = times.span_parts(parse_iso_ms(start), parse_iso_ms(end))
        return tag(start, first) + dash + tag(end, last)

    return _ENV.get_template("status.html").render(title=title, data=data, target=float(cfg.policy.target_percent),
                                                   when=when, during=during, timezone=cfg.timezone)


def render_runbooks(service: str) -> str:
    """The runbooks page."""
    return _ENV.get_template("runbooks.html").render(service=service)
