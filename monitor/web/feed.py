"""The status page's Atom feed (RFC 4287), for the whole service or one region: outages opened,
counted against the SLA, excluded (and why) and resolved; maintenance announced, started and ended;
incident updates.

Entries are read off the status page's snapshot (this month's and last month's figures, and the
maintenance records), not off the alerts sent: every instance that shows the page gives the same
entries, with the same ids, whether or not it alerts. An entry's id names what happened (the region,
the outage's start, what became of it), so a feed reader shows each once; times in the text are the
page's local times."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterator, NamedTuple

from ..config import Config
from ..config.models import PolicyConfig
from ..event import Event
from ..live.figures import LiveFigures
from ..reports.document import REASON_WORDS, LocalTimes
from ..sla.calendar import iso, parse_iso_ms
from ..sla.model import MaintenanceWindow, minutes
from ..sla.result import ExclusionSlice
from ..updates import Outage
from ..updates import outages as merged_outages

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 100
HORIZON_MS = 62 * 86_400_000  # maintenance ended longer ago is left out, as outages before last month are
ID_PREFIX = "urn:sla-monitor:"


class Entry(NamedTuple):
    id: str
    at_ms: int
    title: str
    text: str


def outages(figures: LiveFigures, region: str) -> list[Outage]:
    """The region's outages of last month and this month."""
    return merged_outages((figures.previous, figures.current), region)


def outage_entries(region: str, outage: Outage, policy: PolicyConfig, times: LocalTimes) -> Iterator[Entry]:
    """What became of one outage, each a moment of its own."""
    key = f"{region}:{iso(outage.start_ms)}"
    yield Entry(f"outage.opened:{key}", outage.start_ms, f"{region}: outage",
                f"{region} is down since {times.at(outage.start_ms)}.")
    threshold_ms = int(policy.downtime_threshold_minutes * 60_000)
    pieces = [p for period in outage.periods for p in period.pieces if p.counted]
    if pieces:
        since = outage.start_ms if policy.threshold_before_exclusions else pieces[0].start_ms
        at = min(since + threshold_ms, outage.end_ms)
        yield Entry(f"outage.counted:{key}", at, f"{region}: outage counts against the SLA",
                    f"{region} has been down {float(policy.downtime_threshold_minutes):g} minutes in a row since "
                    f"{times.at(since)}: from then on it counts as Downtime.")
    excluded: dict[str, ExclusionSlice] = {}  # by source: one entry each (a month's end cuts a slice in two)
    for exclusion in (e for period in outage.periods for e in period.exclusions if e.reason is not None):
        first = excluded.setdefault(exclusion.source, exclusion)
        excluded[exclusion.source] = first._replace(end_ms=max(first.end_ms, exclusion.end_ms))
    for exclusion in excluded.values():
        yield Entry(f"outage.excluded:{key}:{exclusion.source}", exclusion.start_ms,
                    f"{region}: outage excluded ({REASON_WORDS.get(exclusion.reason or '', exclusion.reason)})",
                    _excluded_words(region, exclusion, times))
    if not outage.open:
        counted = sum(p.end_ms - p.start_ms for p in pieces)
        verdict = f"{minutes(counted):.1f} min counted as Downtime" if counted else "not counted as Downtime"
        yield Entry(f"outage.resolved:{key}", outage.end_ms, f"{region}: outage resolved",
                    f"{region} is back up since {times.at(outage.end_ms)}, after "
                    f"{minutes(outage.end_ms - outage.start_ms):.1f} min ({verdict}).")


def _excluded_words(region: str, e: ExclusionSlice, times: LocalTimes) -> str:
    words = REASON_WORDS.get(e.reason or "", e.reason or "")
    detail = f": {e.detail}" if e.detail else ""
    return f"{region}'s outage is excluded from the SLA from {times.span(e.start_ms, e.end_ms)} ({words}{detail})."


def maintenance_entries(window: MaintenanceWindow, now_ms: int, times: LocalTimes) -> Iterator[Entry]:
    """A maintenance window's announcement, start and end, as far as they have happened."""
    where = window.region or "all regions"
    kind = "emergency maintenance" if window.kind == "emergency" else "maintenance"
    what = f"{kind} of {where}, {times.span(window.start_ms, window.end_ms)}" + (
        f": {window.reason}" if window.reason else "")
    key = f"maintenance:{window.id}"
    if window.announced_at_ms is not None and window.announced_at_ms <= now_ms:
        yield Entry(f"maintenance.announced:{key}", window.announced_at_ms, f"{where}: {kind} announced",
                    f"Announced: {what}.")
    if window.start_ms <= now_ms:
        yield Entry(f"maintenance.started:{key}", window.start_ms, f"{where}: {kind} started", f"Started: {what}.")
    if window.end_ms <= now_ms:
        yield Entry(f"maintenance.ended:{key}", window.end_ms, f"{where}: {kind} ended", f"Ended: {what}.")


def update_entry(update: Event, times: LocalTimes) -> Entry:
    """An incident update, in its author's words."""
    data = update.data
    return Entry(update.id, update.occurred_at_ms, f"{update.region}: {data['status']}",
                 f"{data['message']} ({update.region}'s outage since {times.at(parse_iso_ms(data['start']))}.)")


def entries(figures: LiveFigures, cfg: Config, region: str | None, now_ms: int) -> list[Entry]:
    """The feed's entries, newest first: of ``region``, or of every region (None)."""
    times = LocalTimes(cfg.timezone)
    at = figures.computed_ms if figures.computed_ms is not None else now_ms
    names = [r.name for r in cfg.regions if region in (None, r.name)]
    found = [e for name in names for outage in outages(figures, name)
             for e in outage_entries(name, outage, cfg.policy, times)]
    found += [e for w in figures.maintenance if not w.cancelled and (region is None or w.region in (None, region))
              and w.end_ms >= at - HORIZON_MS for e in maintenance_entries(w, at, times)]
    found += [update_entry(u, times) for u in figures.updates if region in (None, u.region)]
    return sorted(found, key=lambda e: (e.at_ms, e.id), reverse=True)[:MAX_ENTRIES]


def render_feed(figures: LiveFigures, cfg: Config, region: str | None, public_url: str, now_ms: int) -> bytes:
    """The Atom document."""
    found = entries(figures, cfg, region, now_ms)
    feed = ET.Element("feed", xmlns=ATOM)
    title = f"{cfg.web.title or cfg.service} status" + (f": {region}" if region else "")
    ET.SubElement(feed, "title").text = title
    ET.SubElement(feed, "id").text = f"{ID_PREFIX}{cfg.service}:feed" + (f":{region}" if region else "")
    ET.SubElement(feed, "updated").text = iso(found[0].at_ms if found else figures.computed_ms or now_ms)
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=f"{public_url}/")
    self_path = f"/feed/{region}.atom" if region else "/feed.atom"
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=f"{public_url}{self_path}")
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = cfg.service
    ET.SubElement(feed, "generator").text = "sla-monitor"
    for entry in found:
        item = ET.SubElement(feed, "entry")
        ET.SubElement(item, "id").text = ID_PREFIX + entry.id
        ET.SubElement(item, "title").text = entry.title
        ET.SubElement(item, "updated").text = iso(entry.at_ms)
        ET.SubElement(item, "link", rel="alternate", type="text/html", href=f"{public_url}/")
        ET.SubElement(item, "content", type="text").text = entry.text
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
