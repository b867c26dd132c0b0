"""Glue between the store and the pure engine: pick a wide-enough window, evaluate, report."""
from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
from typing import Iterable, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from .errors import InputError
from .gcpause import gc_paused
from .sla.calendar import from_ms, local_midnight_ms, month_bounds, month_of, months_between, parse_month
from .sla.downtime import counted_pieces
from .sla.engine import RegionTimeline, evaluate, touches_edge
from .sla.intervals import Intervals, intersect, overlap_ms
from .sla.model import Fleet, ProbeSpec, Records
from .sla.report import build_month
from .sla.result import (
    DayBar,
    DownSamples,
    Evidence,
    EvidenceKey,
    MonthResult,
    RecentOutage,
    RegionResult,
    WindowUptime,
    evidence_key,
)
from .storage import Storage

DAY_MS = 86_400_000
# Periods are judged whole (SLA-SPEC §6.3): look this far past the month's ends, wider if a period
# still touches the edge.
INITIAL_MARGIN_MS = 7 * DAY_MS
MAX_MARGIN_MS = 800 * DAY_MS


def resolve_month(text: str | None, now_ms: int, timezone: str) -> tuple[int, int]:
    """``YYYY-MM`` (default: the current local month); a month that has not started is an InputError."""
    tz = ZoneInfo(timezone)
    year, month = parse_month(text) if text else month_of(now_ms, tz)
    if month_bounds(year, month, tz)[0] > now_ms:
        raise InputError(f"--month {year:04d}-{month:02d} has not started yet (it is later than now)")
    return year, month


MAX_RANGE_MONTHS = 36


def range_months(first_text: str, last_text: str, now_ms: int, timezone: str) -> list[tuple[int, int]]:
    """The months from ``first_text`` to ``last_text`` (YYYY-MM, both included): at most MAX_RANGE_MONTHS,
    the last one started. InputError (or MonthError) says what is wrong."""
    months = months_between(parse_month(first_text), parse_month(last_text))
    if not months:
        raise InputError(f"--to {last_text} is before --from {first_text}; give the earlier month first")
    if len(months) > MAX_RANGE_MONTHS:
        raise InputError(f"--from {first_text} --to {last_text} spans {len(months)} months; at most "
                         f"{MAX_RANGE_MONTHS} (ask for fewer, or run it in parts)")
    resolve_month(f"{months[-1][0]:04d}-{months[-1][1]:02d}", now_ms, timezone)
    return months


def timelines_around(store: Storage, fleet: Fleet, records: Records, start_ms: int, end_ms: int,
                     now_ms: int) -> tuple[dict[str, RegionTimeline], int, int]:
    """Evaluate every region over ``[start, end)`` widened until no period touches the window's edge, and
    far enough that every incident opened before ``end`` is inside it to its resolution (its excluded
    time and the same-event rule look there, however long after the month that is)."""
    reach = _incident_reach(records, end_ms, now_ms)
    margin = INITIAL_MARGIN_MS
    while True:
        lo, hi = start_ms - margin, min(max(end_ms + margin, reach), now_ms)
        timelines = evaluate(fleet, store.segments_between(lo, hi), records, lo, hi, now_ms)
        if margin >= MAX_MARGIN_MS or not touches_edge(timelines, lo, hi, now_ms):
            return timelines, lo, hi
        margin *= 4


def _incident_reach(records: Records, end_ms: int, now_ms: int) -> int:
    """The latest resolution (``now`` for an open one) of a hand incident opened before ``end_ms``, or of
    an automatic incident's override."""
    reach = end_ms
    for incident in records.incidents:
        if incident.opened_ms < end_ms:
            reach = max(reach, incident.resolved_ms if incident.resolved_ms is not None else now_ms)
    for override in records.overrides:
        if override.resolved_ms is not None:
            reach = max(reach, override.resolved_ms)
    return reach


def month_report(store: Storage, fleet: Fleet, year: int, month: int, now_ms: int,
                 regions: Sequence[str] | None = None, all_components: bool = False,
                 records: Records | None = None) -> MonthResult:
    """The result of one month as of ``now_ms`` (``records``: already loaded ones; ``all_components``:
    critical ones too), with the evidence of its third-party exclusions."""
    with gc_paused():
        records = records if records is not None else store.load_records()
        start, end = month_bounds(year, month, ZoneInfo(fleet.timezone))
        timelines, _, _ = timelines_around(store, fleet, records, start, end, now_ms)
        result = build_month(fleet, timelines, records, year, month, now_ms, regions, all_components)
    return result._replace(evidence=evidence_for(store, fleet, result))


def evidence_for(store: Storage, fleet: Fleet, result: MonthResult) -> dict[EvidenceKey, Evidence | None]:
    """Each automatic third-party exclusion's evidence from the raw samples: which probes or feeds saw
    the provider down, their first and last down samples in the slice, and the feed's components and
    incidents (name, id, link). Samples past retention give None."""
    probes = {t.name: t.probes for t in fleet.third_parties}
    found: dict[EvidenceKey, Evidence | None] = {}
    for e in result.third_party_slices():
        if e.third_party in probes and (key := evidence_key(e)) not in found:
            found[key] = _evidence(store, probes[e.third_party], e.start_ms, e.end_ms)
    return found


def _evidence(store: Storage, probes: Sequence[ProbeSpec], start: int, end: int) -> Evidence | None:
    lookback = max((p.stale_ms for p in probes), default=0)  # the sample whose state reaches into the interval
    rows = store.down_samples([p.id for p in probes], start - lookback, end)
    if not rows:
        return None
    incidents, components = {}, {}
    for row in (rows[0], rows[-1]):
        data = json.loads(row.detail) if row.detail else {}
        incidents.update({i.get("id") or i.get("link"): i for i in data.get("incidents", [])})
        components.update({c.get("id") or c.get("name"): c for c in data.get("components", [])
                           if c.get("status") != "operational"})
    return Evidence(tuple(sorted({r.probe for r in rows})), len(rows), rows[0].ts_ms, rows[-1].ts_ms, rows[0].error,
                    tuple(components.values()), tuple(incidents.values()))


def counted_evidence(store: Storage, fleet: Fleet, result: MonthResult,
                     region: str) -> dict[tuple[int, int], DownSamples | None]:
    """For each of ``region``'s periods that counts, by (start, end): the failed samples of its critical
    probes in the period (None: none kept, e.g. past retention)."""
    section = result.region(region)
    probes = [p for c in fleet.region(region).components if c.critical for p in c.probes]
    lookback = max((p.stale_ms for p in probes), default=0)  # the sample whose state reaches into the period
    found: dict[tuple[int, int], DownSamples | None] = {}
    for period in section.periods if section is not None else ():
        if period.counting:
            rows = store.down_samples([p.id for p in probes], period.start_ms - lookback, period.end_ms)
            errors = collections.Counter(row.error or "failed" for row in rows)
            found[period.start_ms, period.end_ms] = None if not rows else DownSamples(
                tuple(sorted({r.probe for r in rows})), tuple(sorted({r.vantage for r in rows})), len(rows),
                rows[0].ts_ms, rows[-1].ts_ms, tuple(errors.most_common()))
    return found


UPTIME_WINDOWS = (("24h", DAY_MS), ("7d", 7 * DAY_MS), ("30d", 30 * DAY_MS), ("90d", 90 * DAY_MS))
RECENT_OUTAGES = 10


class RegionIntervals(NamedTuple):
    """A region's unavailability (brief and excluded included), counted Downtime and unknown time."""

    down: Intervals
    counted: Intervals
    unknown: Intervals


class History(NamedTuple):
    """A region's last days for the status page: daily bars, recent outages, and the intervals the
    rolling windows are taken from (``rolling_uptime``)."""

    bars: dict[str, list[DayBar]]
    intervals: dict[str, RegionIntervals]
    outages: dict[str, list[RecentOutage]]


def daily_bars(store: Storage, fleet: Fleet, now_ms: int, days: int = 90,
               records: Records | None = None) -> dict[str, list[DayBar]]:
    """Per region, one entry per local day for the last ``days`` days (today so far included): counted
    downtime, down time (brief or excluded included), excluded down time and unknown time, for the
    status page's bars."""
    return _history(store, fleet, now_ms, days, (), records).bars


def recent_history(store: Storage, fleet: Fleet, now_ms: int, records: Records | None = None) -> History:
    """The 90 daily bars, the uptime over each of UPTIME_WINDOWS and the RECENT_OUTAGES latest outages that
    counted, were excluded or are open, from one evaluation."""
    return _history(store, fleet, now_ms, 90, UPTIME_WINDOWS, records)


def _history(store: Storage, fleet: Fleet, now_ms: int, days: int, windows: Sequence[tuple[str, int]],
             records: Records | None) -> History:
    tz = ZoneInfo(fleet.timezone)
    today = from_ms(now_ms).astimezone(tz).date()
    starts = [local_midnight_ms(today - dt.timedelta(days=n), tz) for n in range(days - 1, -2, -1)]
    since = min([starts[0], *(now_ms - span for _, span in windows)])
    with gc_paused():
        records = records if records is not None else store.load_records()
        timelines, _, _ = timelines_around(store, fleet, records, since, now_ms, now_ms)
    history = History({}, {}, {})
    # 90 bars for each of a few thousand timelines, kept between refreshes: most days look the same in
    # most timelines (all up, or all unknown before a probe existed), so equal bars are one object.
    day_spans = [(from_ms(lo).astimezone(tz).date(), lo, min(hi, now_ms), max(0, min(hi, now_ms) - lo))
                 for lo, hi in itertools.pairwise(starts)]
    same: dict[DayBar, DayBar] = {}
    for name, t in timelines.items():
        counted = counted_pieces(t.periods)
        down = [(p.start_ms, p.end_ms) for p in t.periods]
        excluded = intersect(down, t.excluded)
        history.bars[name] = [
            same.setdefault(bar, bar) for bar in (
                DayBar(day=day, counted_ms=overlap_ms(counted, lo, end), down_ms=overlap_ms(down, lo, end),
                       excluded_ms=overlap_ms(excluded, lo, end), unknown_ms=overlap_ms(t.states.unknown, lo, end),
                       span_ms=span)
                for day, lo, end, span in day_spans)
        ]
        if windows:
            history.intervals[name] = RegionIntervals(down, counted, t.states.unknown)
            history.outages[name] = _recent_outages(t, since, now_ms)
    return history


def rolling_uptime(before: RegionIntervals | None, month: RegionResult, month_start_ms: int,
                   now_ms: int) -> list[WindowUptime]:
    """The region over each of UPTIME_WINDOWS ending at ``now_ms``, the month-to-date snapshot's
    instant: the month so far from that snapshot itself (so the windows agree with the banner and the
    month's figures), what lies before the month from the last history evaluation (``before``; all
    unknown without one)."""
    def before_month(intervals: Intervals) -> Intervals:
        return [(a, min(b, month_start_ms)) for a, b in intervals if a < month_start_ms]

    def in_month(intervals: Iterable[tuple[int, int]]) -> Intervals:
        return [(max(a, month_start_ms), b) for a, b in intervals if b > month_start_ms]

    earliest = now_ms - max(span for _, span in UPTIME_WINDOWS)
    past = before or RegionIntervals([], [], [(earliest, month_start_ms)])
    down = before_month(past.down) + in_month((p.start_ms, p.end_ms) for p in month.periods)
    counted = before_month(past.counted) + in_month(
        (piece.start_ms, piece.end_ms) for p in month.periods for piece in p.pieces if piece.counted)
    unknown = before_month(past.unknown) + in_month((u.start_ms, u.end_ms) for u in month.unknown_spells)
    return [WindowUptime(label, span, overlap_ms(down, now_ms - span, now_ms), overlap_ms(counted, now_ms - span, now_ms),
                         overlap_ms(unknown, now_ms - span, now_ms))
            for label, span in UPTIME_WINDOWS]


def _recent_outages(t: RegionTimeline, since_ms: int, now_ms: int) -> list[RecentOutage]:
    """The latest periods that counted, were excluded (in part) or are open, newest first."""
    out: list[RecentOutage] = []
    for period in reversed(t.periods):
        if period.end_ms <= since_ms or len(out) == RECENT_OUTAGES:
            break
        reasons = tuple(dict.fromkeys((e.reason, e.detail) for e in t.entries if e.reason is not None
                                      and e.start_ms < period.end_ms and e.end_ms > period.start_ms))
        counted_ms = sum(p.end_ms - p.start_ms for p in period.pieces if p.counted)
        if not (counted_ms or reasons or period.open):
            continue
        # Excluded: wholly (no piece left after the exclusions); brief: pieces left, none long enough.
        status = "counted" if counted_ms else "excluded" if not period.pieces else "brief"
        out.append(RecentOutage(period.start_ms, min(period.end_ms, now_ms), period.open, counted_ms, status, reasons))
    return out
