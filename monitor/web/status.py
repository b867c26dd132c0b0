"""The status now (JSON) and the status page (HTML through Jinja2)."""
from __future__ import annotations

import jinja2

from ..sla.calendar import iso

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("monitor.web", "templates"),
                          autoescape=jinja2.select_autoescape(["html"]))


def status_json(daemon, now_ms: int) -> dict:
    """Every region and component now, with month-to-date figures."""
    tracker, figures = daemon.tracker, daemon.figures
    regions = []
    for region in daemon.cfg.regions:
        mtd = figures.region("month_to_date", region.name) or {}
        open_periods = [p for p in mtd.get("periods", []) if p["open"]]
        regions.append({
            "region": region.name,
            "environment": region.environment,
            "state": tracker.compute_region(region, now_ms),
            "components": [
                {"component": c.name, "critical": c.critical, "state": tracker.component_state(region.name, c.name, now_ms),
                 "probes": [_probe_json(p, now_ms, tracker.confirm) for p in tracker.groups.get((region.name, c.name), [])]}
                for c in region.components],
            "month_to_date": {k: mtd.get(k) for k in ("availability_percent", "downtime_minutes", "met",
                                                     "error_budget_minutes", "error_budget_remaining_minutes",
                                                     "unknown_minutes")},
            "open_outage": open_periods[-1] if open_periods else None,
            "maintenance_active": [_window(w) for w in figures.active_maintenance(region.name, now_ms)],
            "maintenance_upcoming": [_window(w) for w in figures.upcoming_maintenance(region.name, now_ms)[:5]],
        })
    third = [{"third_party": t.name, "provider": t.provider, "state": tracker.third_party_state(t.name, now_ms)}
             for t in daemon.cfg.third_parties]
    return {"service": daemon.cfg.service, "vantage": daemon.cfg.vantage, "now": iso(now_ms),
            "figures_as_of": iso(figures.computed_ms), "regions": regions, "third_parties": third}


def _probe_json(p, now_ms: int, confirm: int) -> dict:
    last = p.last
    return {"probe": p.id, "kind": p.kind, "state": p.state(now_ms, confirm),
            "last": None if last is None else {"ts": iso(last.ts_ms), "ok": last.ok, "latency_ms": last.latency_ms,
                                               "error": last.error},
            "consecutive_failures": p.consecutive_failures}


def _window(w) -> dict:
    return {"id": w.id, "kind": w.kind, "start": iso(w.start_ms), "end": iso(w.end_ms), "reason": w.reason}


def _bar_class(day: dict) -> str:
    if day["span_ms"] and day["unknown_ms"] * 2 > day["span_ms"]:
        return "unknown"
    if day["counted_ms"]:
        return "down"
    return "brief" if day["down_ms"] else "up"


def render_status_page(daemon, now_ms: int) -> str:
    """Each region's state, month-to-date availability, budget left, open outage, maintenance, 90 daily bars."""
    data = status_json(daemon, now_ms)
    for region in data["regions"]:
        region["bars"] = [{**day, "class": _bar_class(day)} for day in daemon.figures.bars.get(region["region"], [])]
    title = daemon.cfg.web.title or f"{daemon.cfg.service} status"
    return _ENV.get_template("status.html").render(title=title, data=data, target=float(daemon.fleet.policy.target_percent))


def render_runbooks(service: str) -> str:
    """The runbooks page."""
    return _ENV.get_template("runbooks.html").render(service=service)
